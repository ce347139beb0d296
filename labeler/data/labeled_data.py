"""A fully labeled dataset in memory, with train and test splits: what ``simulate`` runs on.

It comes from a generated dataset folder (its packed arrays) or from any labeled ImageFolder
tree of the user's (class subfolders, with ``train/`` and ``test/`` folders or a test fraction
drawn from a seed), resized to the model's input size.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labeler.data.dataset_format import INFO_FILE, load_dataset_info, load_split
from labeler.data.image_arrays import COLOUR_MODES, convert_channels
from labeler.data.image_folder import (
    choose_channels,
    load_scanned_images,
    resize_images,
    scan_image_folder,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabeledData:
    """Images uint8 ``[n, S, S]`` or ``[n, S, S, 3]`` (white 255) with int64 labels ``[n]`` into
    ``class_names``, for a train split (the simulated pool) and a test split."""

    class_names: tuple[str, ...]
    train_images: NDArray[np.uint8]
    train_labels: NDArray[np.int64]
    test_images: NDArray[np.uint8]
    test_labels: NDArray[np.int64]
    source: str
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description, written into results so a run can be repeated."""
        return {
            "source": self.source,
            "class_names": list(self.class_names),
            "image_size": int(self.train_images.shape[-1]),
            "n_train": int(self.train_labels.shape[0]),
            "n_test": int(self.test_labels.shape[0]),
        }


def load_labeled_data(
    path: str | os.PathLike[str],
    *,
    image_size: int,
    colour: str = "auto",
    test_fraction: float | None = None,
    seed: int = 0,
    progress: bool = True,
) -> LabeledData:
    """Load ``path`` at ``image_size`` px, grayscale or colour as ``colour`` says ("auto": a
    dataset folder's own, the most common in an image folder; "rgb"; "gray").

    A dataset folder (it has ``dataset.json``) uses its ``train`` and ``test`` splits. An
    ImageFolder tree needs class subfolders; without ``train/`` and ``test/`` folders it needs
    ``test_fraction`` in (0, 1), and the test images are drawn per class from ``seed``.
    Unreadable images are skipped and listed in ``skipped``.
    """
    if colour not in COLOUR_MODES:
        raise ValueError(f"unknown colour mode {colour!r}; valid ones: {', '.join(COLOUR_MODES)}")
    folder = Path(path)
    if (folder / INFO_FILE).is_file():
        data = _load_dataset_folder(folder, image_size, test_fraction)
        if colour == "auto":
            return data
        channels = 3 if colour == "rgb" else 1
        return dataclasses.replace(
            data,
            train_images=convert_channels(data.train_images, channels),
            test_images=convert_channels(data.test_images, channels),
        )
    return _load_image_tree(folder, image_size, colour, test_fraction, seed, progress)


def _load_dataset_folder(folder: Path, image_size: int, test_fraction: float | None) -> LabeledData:
    info = load_dataset_info(folder)
    missing = [split for split in ("train", "test") if split not in info.splits]
    if missing:
        raise ValueError(
            f"dataset {folder} has no {' or '.join(missing)} split (it has "
            f"{', '.join(info.splits)}); simulate needs train and test"
        )
    if test_fraction is not None:
        logger.warning("%s has its own test split; --test-fraction is ignored", folder)
    train_images, train_labels = load_split(folder, "train")
    test_images, test_labels = load_split(folder, "test")
    return LabeledData(
        class_names=tuple(info.class_names),
        train_images=resize_images(train_images, image_size),
        train_labels=np.asarray(train_labels, dtype=np.int64),
        test_images=resize_images(test_images, image_size),
        test_labels=np.asarray(test_labels, dtype=np.int64),
        source=str(folder),
    )


def _load_image_tree(
    folder: Path,
    image_size: int,
    colour: str,
    test_fraction: float | None,
    seed: int,
    progress: bool,
) -> LabeledData:
    scan = scan_image_folder(folder)
    if scan.layout != "classes" or len(scan.class_names) < 2:
        raise ValueError(
            f"{folder} must hold one subfolder per class (at least 2) to be simulated: the "
            "true labels are the oracle"
        )
    class_index = {name: index for index, name in enumerate(scan.class_names)}
    channels = choose_channels(colour, [scan.get_path(image) for image in scan.images])
    decoded, kept = load_scanned_images(
        scan, image_size=image_size, channels=channels, progress=progress
    )
    images, skipped = decoded.images, decoded.skipped
    if decoded.converted:
        kind = "colour" if channels == 3 else "grayscale"
        logger.warning("converted %d images of %s to %s", len(decoded.converted), folder, kind)
    labels = np.array([class_index[str(image.class_name)] for image in kept], dtype=np.int64)
    if scan.has_splits:
        if test_fraction is not None:
            logger.warning("%s has train/ and test/ folders; --test-fraction is ignored", folder)
        is_test = np.array([image.split == "test" for image in kept], dtype=bool)
        if not is_test.any():
            raise ValueError(
                f"{folder} has a train/ folder but no test/ images; add test/ or drop the "
                "split folders and pass --test-fraction"
            )
    else:
        if test_fraction is None or not 0.0 < test_fraction < 1.0:
            raise ValueError(
                f"{folder} has no train/ and test/ folders: pass --test-fraction in (0, 1), "
                f"got {test_fraction}"
            )
        is_test = _draw_test_split(labels, test_fraction, seed)
    for name, mask in (("train", ~is_test), ("test", is_test)):
        present = np.unique(labels[mask])
        if present.shape[0] < 2:
            raise ValueError(f"the {name} split of {folder} holds fewer than 2 classes")
    if skipped:
        logger.warning("skipped %d unreadable images in %s", len(skipped), folder)
    return LabeledData(
        class_names=scan.class_names,
        train_images=images[~is_test],
        train_labels=labels[~is_test],
        test_images=images[is_test],
        test_labels=labels[is_test],
        source=str(folder),
        skipped=skipped,
    )


def _draw_test_split(labels: NDArray[np.int64], fraction: float, seed: int) -> NDArray[np.bool_]:
    """A stratified test mask: ``fraction`` of every class (at least one image of each)."""
    rng = np.random.default_rng([seed, 3])
    is_test = np.zeros(labels.shape[0], dtype=bool)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        n_test = max(1, round(fraction * members.shape[0]))
        if n_test >= members.shape[0]:
            raise ValueError(
                f"class {int(label)} has only {members.shape[0]} images; cannot hold out "
                f"{fraction:.0%} of them for testing and keep some to train on"
            )
        is_test[rng.choice(members, size=n_test, replace=False)] = True
    return is_test
