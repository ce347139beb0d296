"""Tests of labeler.pruning.bundles against a brute-force pairwise oracle and hand values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from labeler.learning.models import ModelConfig, make_model
from labeler.pruning.bundles import (
    BundleStats,
    assign_bundles,
    compute_bundle_entropy,
    compute_entropy_of_bundles,
    get_max_weight,
    get_update_rows,
    hash_rows,
)

LR, BATCH = 1e-3, 64


def brute_force_bundles(activations: np.ndarray, *, w_max: float) -> np.ndarray:
    """Bundle ids by comparing every pair of z rows in float32 (the spec's O(N^2) loop)."""
    flat = activations.reshape(len(activations), -1).astype(np.float32)
    z = np.float32(w_max) - np.float32(LR / BATCH) * flat
    ids = -np.ones(len(z), dtype=np.int64)
    n_bundles = 0
    for i in range(len(z)):
        if ids[i] >= 0:
            continue
        ids[i] = n_bundles
        for j in range(i + 1, len(z)):
            if ids[j] < 0 and np.array_equal(z[i], z[j]):
                ids[j] = n_bundles
        n_bundles += 1
    return ids


def brute_force_entropy(ids: np.ndarray, labels: np.ndarray) -> float:
    total = 0.0
    for bundle in np.unique(ids):
        members = labels[ids == bundle]
        shares = np.bincount(members) / len(members)
        shares = shares[shares > 0]
        total += len(members) * -float(np.sum(shares * np.log(shares)))
    return total / len(labels)


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two labelings of the samples group them the same way (ids may differ)."""
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def make_near_ties(rng: np.random.Generator, *, w_max: float) -> np.ndarray:
    """Rows built around a few base rows, some moved by much less than the float32
    resolution of z (same bundle), some by a few ulps of z (a different bundle)."""
    base = rng.uniform(0, 3, size=(6, 5, 4)).astype(np.float32)
    tolerance = np.spacing(np.float32(w_max)) * BATCH / LR  # size of one ulp of z in a
    rows = []
    for _ in range(120):
        row = base[rng.integers(len(base))].copy()
        kind = rng.integers(3)
        if kind == 1:  # far inside one ulp of z
            row[rng.integers(5), rng.integers(4)] += np.float32(tolerance * 1e-3)
        elif kind == 2:  # several ulps of z away
            row[rng.integers(5), rng.integers(4)] += np.float32(tolerance * 4)
        rows.append(row)
    return np.stack(rows)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bundles_match_the_brute_force_on_random_near_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    w_max = 1.5
    activations = make_near_ties(rng, w_max=w_max)
    labels = rng.integers(0, 3, size=len(activations))
    expected_ids = brute_force_bundles(activations, w_max=w_max)
    assert 6 < len(np.unique(expected_ids)) < len(activations)  # ties and splits both occur

    rows = get_update_rows(torch.from_numpy(activations), w_max=w_max, lr=LR, batch_size=BATCH)
    ids, n_bundles = assign_bundles(rows)
    assert n_bundles == len(np.unique(expected_ids))
    assert same_partition(ids, expected_ids)
    stats = compute_bundle_entropy(
        torch.from_numpy(activations), labels, lr=LR, batch_size=BATCH, w_max=w_max
    )
    assert stats.n_bundles == n_bundles
    assert stats.entropy == pytest.approx(brute_force_entropy(expected_ids, labels), abs=1e-12)


def test_bundles_of_distinct_random_rows_match_the_brute_force() -> None:
    rng = np.random.default_rng(5)
    activations = rng.normal(size=(200, 3, 3)).astype(np.float32)
    labels = rng.integers(0, 2, size=200)
    expected = brute_force_bundles(activations, w_max=2.0)
    stats = compute_bundle_entropy(
        torch.from_numpy(activations), labels, lr=LR, batch_size=BATCH, w_max=2.0
    )
    assert stats.n_bundles == len(np.unique(expected)) == 200
    assert stats.entropy == 0.0 and not stats.conflicting


def test_pure_bundles_have_zero_entropy() -> None:
    activations = torch.tensor([[0.0], [0.0], [1.0], [1.0], [1.0]])
    labels = np.array([0, 0, 1, 1, 1])
    stats = compute_bundle_entropy(activations, labels, lr=LR, batch_size=BATCH, w_max=1.0)
    assert stats == BundleStats(n_bundles=2, entropy=0.0, n_samples=5)


def test_two_balanced_classes_in_one_bundle_give_ln_2() -> None:
    activations = torch.zeros(10, 4)
    labels = np.array([0, 1] * 5)
    stats = compute_bundle_entropy(activations, labels, lr=LR, batch_size=BATCH, w_max=1.0)
    assert stats.n_bundles == 1
    assert stats.entropy == pytest.approx(math.log(2))
    assert stats.conflicting


@pytest.mark.parametrize("n_classes", [3, 6, 10])
def test_k_balanced_classes_in_one_bundle_give_ln_k(n_classes: int) -> None:
    labels = np.repeat(np.arange(n_classes), 7)
    stats = compute_bundle_entropy(
        torch.ones(len(labels), 2, 2), labels, lr=LR, batch_size=BATCH, w_max=1.0
    )
    assert stats.entropy == pytest.approx(math.log(n_classes))


def test_entropy_weights_each_bundle_by_its_size() -> None:
    # bundle 0: two classes half and half (ln 2), 4 samples; bundle 1: pure, 4 samples
    ids = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    labels = np.array([0, 1, 0, 1, 1, 1, 1, 1])
    assert compute_entropy_of_bundles(ids, labels) == pytest.approx(0.5 * math.log(2))


def test_activations_below_the_float32_resolution_of_z_share_a_bundle() -> None:
    # ulp(1.5) = 2**-23 * 1; lr / batch = 1/64000: differences below ~0.0076 vanish in z.
    activations = torch.tensor([[0.5], [0.501], [0.6]])
    stats = compute_bundle_entropy(
        activations, np.array([0, 1, 0]), lr=LR, batch_size=BATCH, w_max=1.5
    )
    assert stats.n_bundles == 2


def test_hashes_are_equal_for_equal_rows_and_differ_otherwise() -> None:
    rows = torch.tensor([[1.0, 2.0], [1.0, 2.0], [2.0, 1.0], [0.0, 0.0], [-0.0, 0.0]])
    hashes = hash_rows(rows)
    assert hashes[0] == hashes[1]
    assert hashes[0] != hashes[2]  # the same values in another order


def test_update_rows_never_hold_negative_zero() -> None:
    # w_max - c * a == 0 exactly: the result must be +0.0, so that it hashes like 0.0.
    rows = get_update_rows(torch.tensor([[64000.0]]), w_max=1.0, lr=LR, batch_size=BATCH)
    assert float(rows[0, 0]) == 0.0
    assert not torch.signbit(rows).any()


def test_max_weight_counts_batch_norm_parameters() -> None:
    torch.manual_seed(0)
    model = make_model(ModelConfig(width=4, image_size=16), n_classes=2)
    bn = model.stem[1]
    with torch.no_grad():
        bn.bias[0] = 7.5
    assert get_max_weight(model) == 7.5


def test_bad_input_is_refused_with_a_message() -> None:
    with pytest.raises(ValueError, match="one entry per sample"):
        compute_bundle_entropy(torch.zeros(3, 2), np.zeros(2), lr=LR, batch_size=BATCH, w_max=1)
    with pytest.raises(ValueError, match=r"lr must be a finite number > 0, got"):
        compute_bundle_entropy(torch.zeros(3, 2), np.zeros(3, int), lr=0, batch_size=8, w_max=1)
    with pytest.raises(ValueError, match="n > 0"):
        get_update_rows(torch.zeros(0, 2), w_max=1.0, lr=LR, batch_size=BATCH)
