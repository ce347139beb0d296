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


def _ink_box(image: torch.Tensor) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) rows and columns holding ink of an image ``[C, S, S]``."""
    rows = torch.nonzero(image.ne(0).any(dim=0).any(dim=1)).flatten()
    cols = torch.nonzero(image.ne(0).any(dim=0).any(dim=0)).flatten()
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])


def test_a_translation_moves_every_drawing_anywhere_it_stays_whole() -> None:
    x = torch.zeros(200, 2, 32, 32)
    x[:, 0, 4:8, 2:6] = 1.0  # a blob near the top left corner, 1 px from the left margin
    x[:, 1, 20:22, 9:11] = 0.5  # and one in another channel: the drawing moves as one
    x[0] = 0.0  # an empty image stays put
    moved = augment_batch(x, ("translate",), torch.Generator().manual_seed(0))
    assert torch.equal(moved[0], x[0])
    assert torch.equal(moved.sum(dim=(2, 3)), x.sum(dim=(2, 3)))  # no ink lost, per channel
    boxes = [_ink_box(image) for image in moved[1:]]
    # The drawing spans rows 4..21 and columns 2..10: it may go from row 1 to row 30.
    assert all(
        top >= 1 and bottom <= 30 and left >= 1 and right <= 30
        for top, bottom, left, right in boxes
    )
    tops = {box[0] for box in boxes}
    lefts = {box[2] for box in boxes}
    assert min(tops) == 1 and max(tops) == 13 and len(tops) > 8  # the whole range is used
    assert min(lefts) == 1 and max(lefts) == 22 and len(lefts) > 12
    for image, (top, _, left, _) in zip(moved[1:], boxes, strict=True):
        # The same drawing, only moved: both blobs keep their places relative to each other.
        assert torch.equal(image[:, top : top + 18, left : left + 9], x[1, :, 4:22, 2:11])
    upright = augment_batch(x, ("vtranslate",), torch.Generator().manual_seed(0))
    assert {_ink_box(image)[2] for image in upright[1:]} == {2}  # columns stay where they were
    assert len({_ink_box(image)[0] for image in upright[1:]}) > 8
    again = augment_batch(x, ("translate",), torch.Generator().manual_seed(0))
    assert torch.equal(again, moved)  # the generator alone decides
