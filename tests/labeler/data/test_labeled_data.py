from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from labeler.data.dataset_format import load_split
from labeler.data.labeled_data import load_labeled_data


def test_a_dataset_folder_gives_its_train_and_test_splits(tiny_dataset: Path) -> None:
    data = load_labeled_data(tiny_dataset, image_size=8, progress=False)
    train_images, train_labels = load_split(tiny_dataset, "train")
    assert data.class_names == ("class_0", "class_1")
    assert data.train_images.shape == (40, 8, 8) and data.test_images.shape == (20, 8, 8)
    np.testing.assert_array_equal(data.train_labels, train_labels)
    # Area averaging: each 8 px pixel is the mean of a 2 x 2 block of the 16 px image.
    blocks = train_images.reshape(40, 8, 2, 8, 2).astype(np.float64).mean(axis=(2, 4))
    assert np.abs(data.train_images.astype(np.float64) - blocks).max() <= 0.5 + 1e-9


def test_an_image_tree_with_split_folders(shapes_folder: Path) -> None:
    data = load_labeled_data(shapes_folder, image_size=16, progress=False)
    assert data.class_names == ("hbar", "square", "vbar")
    assert data.train_labels.shape == (72,) and data.test_labels.shape == (24,)
    assert np.bincount(data.test_labels).tolist() == [8, 8, 8]


def test_an_image_tree_without_splits_needs_a_test_fraction(
    shapes_folder: Path, tmp_path: Path
) -> None:
    flat_tree = tmp_path / "tree"
    shutil.copytree(shapes_folder / "train", flat_tree)
    with pytest.raises(ValueError, match="pass --test-fraction in"):
        load_labeled_data(flat_tree, image_size=16, progress=False)
    data = load_labeled_data(flat_tree, image_size=16, test_fraction=0.25, seed=3, progress=False)
    assert np.bincount(data.test_labels).tolist() == [6, 6, 6]
    assert data.train_labels.shape == (54,)
    again = load_labeled_data(flat_tree, image_size=16, test_fraction=0.25, seed=3, progress=False)
    np.testing.assert_array_equal(data.test_images, again.test_images)


def test_unreadable_images_are_skipped_and_listed(shapes_folder: Path) -> None:
    (shapes_folder / "train" / "hbar" / "broken.png").write_bytes(b"not a png")
    data = load_labeled_data(shapes_folder, image_size=16, progress=False)
    assert data.train_labels.shape == (72,)
    assert [Path(path).name for path, _ in data.skipped] == ["broken.png"]


def test_a_folder_without_classes_cannot_be_simulated(tmp_path: Path) -> None:
    from PIL import Image

    for index in range(3):
        Image.new("L", (8, 8), 40 * index).save(tmp_path / f"{index}.png")
    with pytest.raises(ValueError, match="one subfolder per class"):
        load_labeled_data(tmp_path, image_size=8, progress=False)
