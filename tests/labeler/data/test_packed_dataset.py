"""PackedDataset: the torch view of a dataset split."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from labeler.data.dataset_format import load_split
from labeler.data.packed_dataset import PackedDataset


def test_items_are_ink_as_one_in_float_tensors(tiny_dataset: Path) -> None:
    dataset = PackedDataset(tiny_dataset, "train")
    images, labels = load_split(tiny_dataset, "train")
    assert len(dataset) == 40
    assert dataset.class_names == ("class_0", "class_1")
    for index in (0, 1, 39):
        image, label = dataset[index]
        assert image.dtype == torch.float32
        assert image.shape == (1, 16, 16)
        expected = (255.0 - images[index].astype(np.float64)) / 255.0
        np.testing.assert_allclose(image[0].numpy(), expected, rtol=0, atol=1e-7)
        assert label == labels[index]
        assert isinstance(label, int)
    # The fake family draws black dots on white: ink is exactly 1, background 0.
    image, label = dataset[0]
    assert set(image.unique().tolist()) == {0.0, 1.0}
    assert int(image.sum()) == 4 + 4 * label


def test_the_transform_is_applied(tiny_dataset: Path) -> None:
    dataset = PackedDataset(tiny_dataset, "test", transform=lambda image: image * 2)
    image, _ = dataset[0]
    assert image.max() == 2.0


def test_pickling_sends_the_path_not_the_pixels(tiny_dataset: Path) -> None:
    dataset = PackedDataset(tiny_dataset, "train")
    payload = pickle.dumps(dataset)
    assert len(payload) < dataset.images.nbytes
    copy = pickle.loads(payload)
    torch.testing.assert_close(copy[5][0], dataset[5][0])


def test_a_data_loader_batches_it(tiny_dataset: Path) -> None:
    loader = DataLoader(PackedDataset(tiny_dataset, "train"), batch_size=8, shuffle=False)
    images, labels = next(iter(loader))
    assert images.shape == (8, 1, 16, 16)
    assert labels.tolist() == [0, 1] * 4


def test_an_unknown_split_names_the_valid_ones(tiny_dataset: Path) -> None:
    with pytest.raises(ValueError, match="no split 'val'"):
        PackedDataset(tiny_dataset, "val")
