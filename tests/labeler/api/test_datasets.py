"""labeler.api.datasets: the family datasets in the torchvision manner, with torchvision's v2
transforms and the families' ready augmentation."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader
from torchvision.transforms import v2

from labeler.api.datasets import (
    SVRT,
    Counting,
    GeneratedDataset,
    LabelPreservingTransform,
    Orientation,
)


def test_the_family_classes_are_the_generic_dataset_with_their_parameters() -> None:
    svrt = SVRT(problem=11, split="test", size=6, seed=3, image_size=64, mode="balanced")
    generic = GeneratedDataset(
        "svrt", "11", split="test", size=6, seed=3, image_size=64, mode="balanced"
    )
    assert svrt.params == generic.params and svrt.params.mode == "balanced"
    assert all(torch.equal(svrt[k][0], generic[k][0]) for k in range(6))
    orientation = Orientation(size=4, image_size=64, holdout_families=("bar",))
    assert orientation.params.holdout_families == ("bar",)
    counting = Counting(size=6, image_size=64)
    assert counting.class_names == ("1", "2", "3", "4", "5", "6")
    assert [counting[k][1] for k in range(6)] == [0, 1, 2, 3, 4, 5]


def test_torchvision_v2_transforms_compose_with_the_items() -> None:
    transform = v2.Compose(
        [
            v2.RandomCrop(56),
            v2.Resize(32, antialias=True),
            v2.Normalize(mean=[0.5], std=[0.5]),
        ]
    )
    dataset = SVRT(problem=4, size=8, image_size=64, transform=transform)
    images, labels = next(iter(DataLoader(dataset, batch_size=8)))
    assert images.shape == (8, 1, 32, 32) and images.min() >= -1.0 and images.max() <= 1.0
    assert labels.tolist() == [0, 1] * 4


def test_the_ready_augmentation_keeps_the_ink_and_composes() -> None:
    dataset = SVRT(problem=4, size=4, image_size=64)
    names = dataset.get_label_preserving_transforms()
    assert names  # problem 4 declares some
    augment = v2.Compose(
        [LabelPreservingTransform(names, generator=torch.Generator().manual_seed(0))]
    )
    image, _ = dataset[0]
    changed = 0
    for _ in range(20):
        out = augment(image)
        assert out.shape == image.shape
        if not torch.equal(out, image):
            changed += 1
        if "shift" not in names:  # flips, quarter turns and translations never lose ink
            assert torch.isclose(out.sum(), image.sum())
    assert changed > 0
