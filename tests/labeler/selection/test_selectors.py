"""Properties of batch selection, with brute-force oracles."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from labeler.selection.selectors import (
    balance_classes,
    diverse_top_k,
    k_center_greedy,
    sample_subset,
    top_k,
)


def naive_top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Oracle: a full stable sort by descending score (ties keep the lower index first)."""
    return np.lexsort((np.arange(scores.shape[0]), -scores))[:k]


def naive_k_center(features: np.ndarray, k: int, already_selected: list[int]) -> list[int]:
    """Oracle: recompute every distance each step, first index wins ties."""
    chosen = list(already_selected)
    picks: list[int] = []
    for _ in range(k):
        best, best_distance = -1, -1.0
        for i in range(features.shape[0]):
            if i in chosen:
                continue
            distance = min(float(np.linalg.norm(features[i] - features[j])) for j in chosen)
            if distance > best_distance + 1e-12:
                best, best_distance = i, distance
        chosen.append(best)
        picks.append(best)
    return picks


@pytest.mark.parametrize("k", [1, 5, 37, 200])
def test_top_k_equals_a_full_sort_with_ties(k: int) -> None:
    # Integer scores in a small range make many ties, including at the k-th place.
    scores = np.random.default_rng(k).integers(0, 10, size=200).astype(np.float64)
    result = top_k(scores, k)
    assert result.dtype == np.int64
    np.testing.assert_array_equal(result, naive_top_k(scores, k))


def test_top_k_on_a_million_scores() -> None:
    scores = np.random.default_rng(0).random(1_000_000)
    np.testing.assert_array_equal(top_k(scores, 50), naive_top_k(scores, 50))


def test_top_k_breaks_ties_by_lower_index() -> None:
    np.testing.assert_array_equal(top_k(np.array([1.0, 2.0, 2.0, 1.0, 2.0]), 4), [1, 2, 4, 0])


# Three far corners and a tight cluster of three near-duplicates at the origin.
SQUARE = np.array([[0, 0], [0.1, 0], [0, 0.1], [10, 0], [0, 10], [10, 10]], dtype=np.float64)


def test_k_center_picks_the_far_corners() -> None:
    # From (0, 0): (10, 10) is farthest (sqrt 200); then (10, 0) and (0, 10) tie at 10 and the
    # earlier index wins.
    np.testing.assert_array_equal(k_center_greedy(SQUARE, 3, already_selected=[0]), [5, 3, 4])


@pytest.mark.parametrize("seed", range(6))
def test_k_center_takes_one_point_per_cluster_whatever_the_first_pick(seed: int) -> None:
    picks = k_center_greedy(SQUARE, 4, seed=seed)
    assert set(picks.tolist()) >= {3, 4, 5}
    assert len(set(picks.tolist()) & {0, 1, 2}) == 1


def test_k_center_matches_a_brute_force() -> None:
    features = np.random.default_rng(1).normal(size=(40, 3))
    picks = k_center_greedy(features, 10, already_selected=[7, 21])
    assert picks.tolist() == naive_k_center(features, 10, [7, 21])


def test_k_center_is_deterministic_given_the_seed_and_respects_candidates() -> None:
    features = np.random.default_rng(2).normal(size=(50, 4)).astype(np.float32)
    candidates = np.arange(10, 50, 2)
    first = k_center_greedy(features, 8, candidates=candidates, seed=5)
    np.testing.assert_array_equal(
        first, k_center_greedy(features, 8, candidates=candidates, seed=5)
    )
    assert set(first.tolist()) <= set(candidates.tolist())
    assert len(set(first.tolist())) == 8


def test_k_center_on_identical_points_returns_distinct_indices() -> None:
    picks = k_center_greedy(np.zeros((5, 2)), 5, seed=0)
    assert sorted(picks.tolist()) == [0, 1, 2, 3, 4]


def test_diverse_top_k_skips_near_duplicates_that_top_k_takes() -> None:
    # 20 distinct points, each repeated 5 times; the 5 copies of point 0 score highest, then
    # the copies of point 1, and so on.
    distinct = np.random.default_rng(3).normal(size=(20, 8))
    features = np.repeat(distinct, 5, axis=0)  # row i is a copy of distinct[i // 5]
    scores = np.linspace(1.0, 0.0, 100)
    plain = top_k(scores, 5)
    assert len({i // 5 for i in plain.tolist()}) == 1  # all copies of one point
    diverse = diverse_top_k(scores, features, 5, pool_factor=10)
    assert diverse[0] == 0  # the single best sample always leads the batch
    assert len({i // 5 for i in diverse.tolist()}) == 5  # no two copies of one point
    assert set(diverse.tolist()) <= set(top_k(scores, 50).tolist())


def test_diverse_top_k_of_one_is_top_k() -> None:
    scores = np.array([0.1, 0.9, 0.5])
    np.testing.assert_array_equal(diverse_top_k(scores, np.eye(3), 1), [1])


def test_balance_guard_caps_a_dominant_class() -> None:
    preference = np.arange(20)
    labels = np.array([0] * 15 + [1] * 5)
    # cap = ceil(0.5 * 10) = 5: the first five of class 0, then the five of class 1.
    picks = balance_classes(preference, labels, 10, n_classes=2, max_fraction=0.5)
    np.testing.assert_array_equal(picks, [0, 1, 2, 3, 4, 15, 16, 17, 18, 19])


def test_balance_guard_follows_preference_order_and_fills_a_shortfall() -> None:
    preference = np.array([9, 8, 7, 6, 5, 4, 3, 2, 1, 0])
    labels = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0])  # indexed by sample, not by preference
    # cap = ceil(0.3 * 5) = 2: samples 9, 8 (class 0) and 2 (class 1) fit the caps; the two
    # missing places go to the best skipped ones, 7 and 6; the batch keeps preference order.
    picks = balance_classes(preference, labels, 5, n_classes=2, max_fraction=0.3)
    np.testing.assert_array_equal(picks, [9, 8, 7, 6, 2])


def test_sample_subset() -> None:
    subset = sample_subset(10**9, 1000, seed=0)
    assert subset.dtype == np.int64
    assert subset.shape == (1000,)
    assert (np.diff(subset) > 0).all()  # sorted, no repeats
    assert subset[0] >= 0 and subset[-1] < 10**9
    np.testing.assert_array_equal(subset, sample_subset(10**9, 1000, seed=0))
    np.testing.assert_array_equal(sample_subset(5, 5, seed=np.random.default_rng(1)), range(5))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: top_k(np.zeros(50), 60), r"query size 60 is larger than the pool of 50"),
        (lambda: top_k(np.zeros(50), 0), r"query size must be positive, got 0"),
        (lambda: top_k(np.zeros((5, 2)), 1), r"scores must be \[n_samples\], got shape"),
        (lambda: top_k(np.array([1.0, np.nan]), 1), r"finite"),
        (lambda: k_center_greedy(SQUARE, 7), r"query size 7 is larger than the pool of 6"),
        (lambda: k_center_greedy(np.zeros(6), 1), r"features must be \[n_samples, n_features\]"),
        (
            lambda: k_center_greedy(SQUARE, 1, candidates=[1, 2], already_selected=[2]),
            r"overlap",
        ),
        (lambda: k_center_greedy(SQUARE, 1, candidates=[1, 9]), r"candidates must lie in \[0, 6\)"),
        (
            lambda: diverse_top_k(np.zeros(6), np.zeros((5, 2)), 2),
            r"n_samples = 6 .*got shape \(5, 2\)",
        ),
        (
            lambda: balance_classes([0, 1], np.array([0, 1]), 3, n_classes=2),
            r"query size 3 is larger than the pool of 2",
        ),
        (
            lambda: balance_classes([0, 1], np.array([0, 2]), 1, n_classes=2),
            r"predicted_labels must lie in \[0, 2\)",
        ),
        (lambda: sample_subset(10, 11, seed=0), r"subset size 11 is larger than the pool of 10"),
    ],
)
def test_bad_inputs_raise_clear_errors(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
