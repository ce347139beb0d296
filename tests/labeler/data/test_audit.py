"""The shortcut audit: features against per-image oracles, stumps against brute force."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from labeler.data.audit import (
    FEATURE_NAMES,
    audit_arrays,
    audit_dataset,
    compute_features,
    fit_stump,
)
from labeler.data.dataset_writer import write_dataset


def draw_blobs(rng: np.random.Generator, n_blobs: int, *, size: int = 24) -> np.ndarray:
    """A white image with ``n_blobs`` (1 or 4) separate black squares, 16 ink pixels in all."""
    image = np.full((size, size), 255, dtype=np.uint8)
    side = {1: 4, 4: 2}[n_blobs]
    # 5-pixel slots keep squares of side <= 4 apart.
    slots = rng.choice((size // 5) ** 2, size=n_blobs, replace=False)
    for slot in slots:
        top, left = 5 * (slot // (size // 5)), 5 * (slot % (size // 5))
        image[top : top + side, left : left + side] = 0
    return image


def test_features_match_a_per_image_oracle() -> None:
    rng = np.random.default_rng(0)
    images = np.where(rng.random((50, 20, 20)) < 0.08, 0, 255).astype(np.uint8)
    images[3] = 255  # no ink at all
    images[4] = 127  # every pixel is ink (< 128)
    features = compute_features(images, median_ink=30.0)
    eight = np.ones((3, 3), dtype=bool)
    for image, row in zip(images, features, strict=True):
        ink = image < 128
        n_ink = int(ink.sum())
        _, n_components = ndimage.label(ink, structure=eight)
        if n_ink:
            ys, xs = np.nonzero(ink)
            area = (ys.max() - ys.min() + 1) * (xs.max() - xs.min() + 1)
        else:
            area = 0
        assert row.tolist() == [n_ink, abs(n_ink - 30.0), n_components, area]


def test_components_are_counted_8_connected_and_never_across_images() -> None:
    images = np.full((2, 5, 5), 255, dtype=np.uint8)
    images[0, 0, 0] = images[0, 1, 1] = 0  # diagonal neighbours: one component
    images[1, 0, 0] = 0  # directly below image 0's pixel in the stack: its own component
    images[1, 3, 3] = 0
    assert compute_features(images)[:, 2].tolist() == [1, 2]


def test_default_median_is_the_images_own() -> None:
    images = np.full((3, 4, 4), 255, dtype=np.uint8)
    for index, n_ink in enumerate((1, 4, 9)):
        images[index].flat[:n_ink] = 0
    assert compute_features(images)[:, 1].tolist() == [3, 0, 5]


def brute_force_accuracy(values: np.ndarray, labels: np.ndarray) -> float:
    """Best accuracy of any threshold and direction, trying every cut."""
    best = max(np.mean(labels == 0), np.mean(labels == 1))
    for threshold in np.unique(values):
        below = values <= threshold
        for left, right in ((0, 1), (1, 0)):
            best = max(best, np.mean(np.where(below, left, right) == labels))
    return float(best)


@pytest.mark.parametrize("seed", range(5))
def test_fit_stump_finds_the_best_threshold(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 12, size=60).astype(np.float64)  # many ties
    labels = (rng.random(60) < 0.3 + 0.04 * values).astype(np.int64)
    stump = fit_stump(values, labels, n_classes=2)
    assert stump.train_accuracy == pytest.approx(brute_force_accuracy(values, labels))
    assert np.mean(stump.predict(values) == labels) == pytest.approx(stump.train_accuracy)


def test_fit_stump_without_a_useful_split_predicts_one_class() -> None:
    stump = fit_stump(np.full(6, 2.0), np.array([0, 0, 0, 0, 1, 1]), n_classes=2)
    assert stump.train_accuracy == pytest.approx(4 / 6)
    assert stump.predict(np.array([-5.0, 2.0, 9.0])).tolist() == [0, 0, 0]


def test_ink_count_as_a_perfect_shortcut_is_caught(tiny_dataset: Path) -> None:
    # The fake family draws 4 dots for class 0 and 8 for class 1.
    result = audit_dataset(tiny_dataset)
    accuracy = {probe.feature: probe.test_accuracy for probe in result.probes}
    assert accuracy["ink_count"] == 1.0
    assert result.max_test_accuracy == 1.0
    assert result.chance == 0.5
    assert (result.n_train, result.n_test) == (40, 20)
    assert [probe.feature for probe in result.probes] == list(FEATURE_NAMES)
    json.dumps(result.to_dict())  # the CLI writes it as JSON


def test_component_count_is_caught_while_ink_says_nothing() -> None:
    rng = np.random.default_rng(1)
    labels = np.arange(400) % 2
    images = np.stack([draw_blobs(rng, 1 + 3 * label) for label in labels])
    result = audit_arrays(images[:300], labels[:300], images[300:], labels[300:], n_classes=2)
    accuracy = {probe.feature: probe.test_accuracy for probe in result.probes}
    assert accuracy["n_components"] == 1.0
    assert accuracy["ink_count"] == 0.5  # 16 ink pixels in every image


def test_random_noise_gives_chance() -> None:
    rng = np.random.default_rng(2)
    images = np.where(rng.random((4000, 16, 16)) < 0.2, 0, 255).astype(np.uint8)
    labels = rng.integers(0, 2, size=4000)
    result = audit_arrays(images[:2000], labels[:2000], images[2000:], labels[2000:], n_classes=2)
    for probe in result.probes:
        assert abs(probe.test_accuracy - 0.5) < 0.05, probe


def test_a_single_split_is_halved(tmp_path: Path, fake_family) -> None:
    out = tmp_path / "one-split"
    params = fake_family.make_params("a")
    write_dataset(out, fake_family, "a", params, n_per_split={"train": 40}, seed=0)
    result = audit_dataset(out)
    assert (result.n_train, result.n_test) == (20, 20)
    assert result.train_split == "train[:20]"
    assert result.test_split == "train[20:]"
