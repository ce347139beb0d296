"""Tests of labeler.learning.tensor_augmentation: label-preserving transforms of model input."""

from __future__ import annotations

import torch

from labeler.learning.tensor_augmentation import augment_batch


def test_augment_batch_applies_each_transform_to_some_images() -> None:
    x = torch.zeros(64, 1, 32, 32)
    x[:, :, 4:8, 2:6] = 1.0  # a blob near the top left corner
    generator = torch.Generator().manual_seed(0)
    flipped = augment_batch(x, ("hflip",), generator)
    mirrored = torch.equal(flipped[:, :, 4:8, 26:30], x[:, :, 4:8, 2:6])
    moved = [bool(flipped[i, :, 4:8, 26:30].all()) for i in range(64)]
    assert mirrored is False and 10 < sum(moved) < 54  # about half mirrored
    assert torch.equal(flipped.sum(dim=(1, 2, 3)), x.sum(dim=(1, 2, 3)))
    turned = augment_batch(x, ("rot90",), torch.Generator().manual_seed(0))
    corners = {
        (int(image[0, :16, :16].sum() > 0), int(image[0, :16, 16:].sum() > 0)) for image in turned
    }
    assert len(corners) >= 2 and torch.equal(turned.sum(dim=(1, 2, 3)), x.sum(dim=(1, 2, 3)))
    shifted = augment_batch(x, ("shift",), torch.Generator().manual_seed(0))
    # At 32 px a shift moves the blob by at most 1 px each way and keeps all of its ink.
    assert not torch.equal(shifted, x)
    assert torch.equal(shifted.sum(dim=(1, 2, 3)), x.sum(dim=(1, 2, 3)))
    assert shifted[:, :, 3:9, 1:7].sum() == x.sum()
    again = augment_batch(x, ("shift",), torch.Generator().manual_seed(0))
    assert torch.equal(again, shifted)  # the generator alone decides
