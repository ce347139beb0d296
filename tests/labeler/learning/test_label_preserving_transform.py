"""LabelPreservingTransform: the families' transforms on image tensors."""

from __future__ import annotations

import pytest
import torch

from labeler.learning.label_preserving_transform import LabelPreservingTransform


def make_image() -> torch.Tensor:
    image = torch.zeros(1, 8, 8)
    image[0, 1, 2] = 1.0  # one ink pixel off every axis of symmetry
    return image


def test_a_flip_mirrors_the_image_about_half_the_time() -> None:
    transform = LabelPreservingTransform(["hflip"], generator=torch.Generator().manual_seed(3))
    image = make_image()
    mirrored = image.flip(-1)
    outcomes = [transform(image) for _ in range(200)]
    n_mirrored = sum(torch.equal(out, mirrored) for out in outcomes)
    assert all(torch.equal(out, image) or torch.equal(out, mirrored) for out in outcomes)
    assert 70 < n_mirrored < 130


def test_quarter_turns_reach_every_orientation_and_batches_work() -> None:
    transform = LabelPreservingTransform(("rot90",), generator=torch.Generator().manual_seed(0))
    image = make_image()
    turns = [torch.rot90(image, k, dims=(-2, -1)) for k in range(4)]
    seen = set()
    for _ in range(60):
        out = transform(image)
        seen.add(next(k for k, turned in enumerate(turns) if torch.equal(out, turned)))
    assert seen == {0, 1, 2, 3}
    batch = torch.stack([image] * 5)
    assert transform(batch).shape == (5, 1, 8, 8)


def test_the_global_generator_is_used_without_one() -> None:
    transform = LabelPreservingTransform(["vflip"])
    torch.manual_seed(1)
    first = [transform(make_image()) for _ in range(10)]
    torch.manual_seed(1)
    second = [transform(make_image()) for _ in range(10)]
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))


def test_bad_names_and_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown transform 'blur'; valid transforms"):
        LabelPreservingTransform(["blur"])
    with pytest.raises(ValueError, match=r"expected an image \[C, H, W\]"):
        LabelPreservingTransform(["hflip"])(torch.zeros(8, 8))
    with pytest.raises(ValueError, match="rot90 needs square images"):
        LabelPreservingTransform(["rot90"])(torch.zeros(1, 8, 6))
