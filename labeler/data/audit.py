"""Shortcut audit: how well does one trivial image statistic with one threshold classify?

A generated dataset should be learnable only through its rule. If a one-number feature (the
amount of ink, the number of blobs, ...) separates the classes, a model can score well without
learning the rule. For each feature the audit fits the best single threshold (a decision stump)
on the training split and reports its accuracy on the held-out split; chance is the frequency of
the most common class (0.5 for balanced binary problems).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage
from tqdm import tqdm

from labeler.data.dataset_format import load_dataset_info, load_split

FEATURE_NAMES = ("ink_count", "ink_deviation", "n_components", "bbox_area")
INK_THRESHOLD = 128  # pixels darker than this are ink
_BATCH_SIZE = 512  # images labelled at once; bounds the int32 label volume to 32 MiB at 128 px
# 8-connected within an image, never across the image axis of a stacked batch.
_EIGHT_CONNECTED_PER_IMAGE = np.zeros((3, 3, 3), dtype=bool)
_EIGHT_CONNECTED_PER_IMAGE[1] = True


@dataclass(frozen=True)
class Stump:
    """Predict ``left_class`` when ``feature <= threshold``, else ``right_class``."""

    threshold: float
    left_class: int
    right_class: int
    train_accuracy: float

    def predict(self, values: np.ndarray) -> np.ndarray:
        """``values`` ``[n]`` -> class indices ``[n]``."""
        return np.where(values <= self.threshold, self.left_class, self.right_class)


@dataclass(frozen=True)
class ProbeResult:
    """One feature's stump and its held-out accuracy (fraction in [0, 1])."""

    feature: str
    stump: Stump
    test_accuracy: float


@dataclass(frozen=True)
class AuditResult:
    """The probes of one dataset; ``chance`` is the held-out majority-class frequency."""

    name: str
    train_split: str
    test_split: str
    n_train: int
    n_test: int
    median_ink: float
    chance: float
    probes: list[ProbeResult]

    @property
    def max_test_accuracy(self) -> float:
        return max(probe.test_accuracy for probe in self.probes)

    def to_dict(self) -> dict[str, Any]:
        result = asdict(self)
        result["max_test_accuracy"] = self.max_test_accuracy
        return result


def compute_features(
    images: np.ndarray,
    *,
    median_ink: float | None = None,
    progress: bool = False,
    description: str = "",
) -> np.ndarray:
    """Return the four features of ``images`` ``[n, height, width]`` uint8 as ``[n, 4]`` float64.

    Columns follow ``FEATURE_NAMES``: ink count (pixels < 128), |ink count - ``median_ink``|
    (the median of these images' ink counts when None), number of 8-connected ink components,
    and the area in pixels of the ink's bounding box (0 for an image without ink). Works in
    batches, so ``images`` may be a memory map.
    """
    n_images = len(images)
    features = np.zeros((n_images, len(FEATURE_NAMES)), dtype=np.float64)
    with tqdm(
        total=n_images, unit="img", desc=description, disable=not progress, leave=False
    ) as bar:
        for start in range(0, n_images, _BATCH_SIZE):
            ink = np.asarray(images[start : start + _BATCH_SIZE]) < INK_THRESHOLD
            rows = slice(start, start + len(ink))
            features[rows, 0] = ink.sum(axis=(1, 2))
            features[rows, 2] = _count_components(ink)
            features[rows, 3] = _get_bbox_areas(ink)
            bar.update(len(ink))
    if median_ink is None:
        median_ink = float(np.median(features[:, 0])) if n_images else 0.0
    features[:, 1] = np.abs(features[:, 0] - median_ink)
    return features


def fit_stump(values: np.ndarray, labels: np.ndarray, *, n_classes: int) -> Stump:
    """Fit the threshold and the two side classes that classify ``values`` ``[n]`` best.

    Exhaustive over the midpoints between consecutive distinct values (and "no split"), in
    O(n log n); for two classes this is the best threshold with the best direction.
    """
    n_values = len(values)
    if n_values == 0:
        raise ValueError("cannot fit a threshold on no values")
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    # left_counts[i, c]: how many of the i smallest values have class c.
    left_counts = np.zeros((n_values + 1, n_classes), dtype=np.int64)
    left_counts[1:] = np.cumsum(np.eye(n_classes, dtype=np.int64)[labels[order]], axis=0)
    right_counts = left_counts[-1] - left_counts
    n_correct = left_counts.max(axis=1) + right_counts.max(axis=1)
    # A threshold can only fall between two different values (or before all / after all).
    can_split = np.ones(n_values + 1, dtype=bool)
    can_split[1:-1] = sorted_values[1:] > sorted_values[:-1]
    n_correct[~can_split] = -1
    best = int(np.argmax(n_correct))
    if best == 0:
        threshold = -np.inf
    elif best == n_values:
        threshold = np.inf
    else:
        threshold = float(sorted_values[best - 1] + sorted_values[best]) / 2.0
    return Stump(
        threshold=float(threshold),
        left_class=int(left_counts[best].argmax()),
        right_class=int(right_counts[best].argmax()),
        train_accuracy=float(n_correct[best]) / n_values,
    )


def audit_arrays(
    train_images: np.ndarray,
    train_labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    *,
    n_classes: int,
    name: str = "",
    train_split: str = "train",
    test_split: str = "test",
    progress: bool = False,
) -> AuditResult:
    """Fit one stump per feature on the train images ``[n, h, w]`` and score it on the test ones."""
    # The deviation from the median ink uses the training median on both splits.
    train_features = compute_features(train_images, progress=progress, description=name)
    median_ink = float(np.median(train_features[:, 0]))
    test_features = compute_features(
        test_images, median_ink=median_ink, progress=progress, description=name
    )
    probes = []
    for column, feature in enumerate(FEATURE_NAMES):
        stump = fit_stump(train_features[:, column], train_labels, n_classes=n_classes)
        predictions = stump.predict(test_features[:, column])
        probes.append(ProbeResult(feature, stump, float(np.mean(predictions == test_labels))))
    chance = float(np.bincount(test_labels, minlength=n_classes).max() / len(test_labels))
    return AuditResult(
        name=name,
        train_split=train_split,
        test_split=test_split,
        n_train=len(train_labels),
        n_test=len(test_labels),
        median_ink=median_ink,
        chance=chance,
        probes=probes,
    )


def audit_dataset(path: str | os.PathLike[str], *, progress: bool = False) -> AuditResult:
    """Audit the dataset folder ``path``: fit on its ``train`` split, score on ``test``.

    Without those names the first split fits and the second scores; a dataset with a single
    split fits on its first half and scores on its second half.
    """
    info = load_dataset_info(path)
    split_names = list(info.splits)
    train_split = "train" if "train" in info.splits else split_names[0]
    others = [split for split in split_names if split != train_split]
    n_classes = len(info.class_names)
    name = Path(path).name
    train_images, train_labels = load_split(path, train_split)
    if others:
        test_split = "test" if "test" in others else others[0]
        test_images, test_labels = load_split(path, test_split)
    else:
        half = len(train_labels) // 2
        if half == 0:
            raise ValueError(f"dataset {path} has too few images to audit ({len(train_labels)})")
        test_split = f"{train_split}[{half}:]"
        test_images, test_labels = train_images[half:], train_labels[half:]
        train_images, train_labels = train_images[:half], train_labels[:half]
        train_split = f"{train_split}[:{half}]"
    return audit_arrays(
        train_images,
        train_labels,
        test_images,
        test_labels,
        n_classes=n_classes,
        name=name,
        train_split=train_split,
        test_split=test_split,
        progress=progress,
    )


def _count_components(ink: np.ndarray) -> np.ndarray:
    """``ink`` ``[n, h, w]`` bool -> ``[n]`` number of 8-connected components per image."""
    labelled, n_labels = ndimage.label(ink, structure=_EIGHT_CONNECTED_PER_IMAGE)
    if n_labels == 0:
        return np.zeros(len(ink), dtype=np.int64)
    # Each component lies in one image; find which from any of its pixels.
    image_of_pixel, *_ = np.nonzero(labelled)
    image_of_label = np.zeros(n_labels + 1, dtype=np.int64)
    image_of_label[labelled[labelled > 0]] = image_of_pixel
    return np.bincount(image_of_label[1:], minlength=len(ink))


def _get_bbox_areas(ink: np.ndarray) -> np.ndarray:
    """``ink`` ``[n, h, w]`` bool -> ``[n]`` bounding-box areas in pixels (0 without ink)."""
    rows = np.any(ink, axis=2)  # [n, h]
    columns = np.any(ink, axis=1)  # [n, w]
    height = rows.shape[1] - np.argmax(rows[:, ::-1], axis=1) - np.argmax(rows, axis=1)
    width = columns.shape[1] - np.argmax(columns[:, ::-1], axis=1) - np.argmax(columns, axis=1)
    return np.where(rows.any(axis=1), height * width, 0)
