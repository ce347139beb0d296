"""The label-preserving transforms of ``generators.family.TRANSFORMS``, applied to arrays.

The reference for what each name means: images are ``[..., height, width]`` arrays (one
image or a stack), x to the right and y down; every function returns a new array and leaves
its input alone.
"""

from __future__ import annotations

import math

import numpy as np

from generators.family import MAX_SHIFT_FRACTION, TRANSFORMS

BACKGROUND = 255


def get_max_shift_px(size: int) -> int:
    """The largest "shift" (px, along each axis) of an image whose larger side is ``size``."""
    return math.floor(size * MAX_SHIFT_FRACTION)


def flip_left_right(images: np.ndarray) -> np.ndarray:
    """The "hflip" transform: x -> width - 1 - x."""
    return images[..., ::-1].copy()


def flip_top_bottom(images: np.ndarray) -> np.ndarray:
    """The "vflip" transform: y -> height - 1 - y."""
    return images[..., ::-1, :].copy()


def rotate_quarter_turns(images: np.ndarray, n_turns: int) -> np.ndarray:
    """The "rot90" transform: ``n_turns`` x 90 degrees counter-clockwise (square images)."""
    if images.shape[-1] != images.shape[-2]:
        raise ValueError(f"rot90 needs square images, got {images.shape[-2:]}")
    return np.rot90(images, n_turns, axes=(-2, -1)).copy()


def shift_images(
    images: np.ndarray, dx: int, dy: int, *, background: int = BACKGROUND
) -> np.ndarray:
    """The "shift" transform: the content moves ``dx`` px right, ``dy`` px down (< 0: left, up).

    Pixels moved in from outside are ``background``; content moved past the edge is lost.
    """
    height, width = images.shape[-2:]
    limit = get_max_shift_px(max(height, width))
    if abs(dx) > limit or abs(dy) > limit:
        raise ValueError(f"a shift moves at most {limit} px at this size, got ({dx}, {dy})")
    out = np.full_like(images, background)
    out[..., max(dy, 0) : height + min(dy, 0), max(dx, 0) : width + min(dx, 0)] = images[
        ..., max(-dy, 0) : height + min(-dy, 0), max(-dx, 0) : width + min(-dx, 0)
    ]
    return out


def apply_random_transform(images: np.ndarray, name: str, rng: np.random.Generator) -> np.ndarray:
    """Apply transform ``name`` with parameters drawn from ``rng`` (the same to every image).

    "rot90" turns by 1, 2 or 3 quarter turns; "shift" by an offset uniform in
    [-max, max] px along each axis, max from ``get_max_shift_px``.
    """
    if name == "hflip":
        return flip_left_right(images)
    if name == "vflip":
        return flip_top_bottom(images)
    if name == "rot90":
        return rotate_quarter_turns(images, int(rng.integers(1, 4)))
    if name == "shift":
        limit = get_max_shift_px(max(images.shape[-2:]))
        dx, dy = (int(value) for value in rng.integers(-limit, limit + 1, size=2))
        return shift_images(images, dx, dy)
    raise ValueError(f"unknown transform {name!r}; valid transforms: {', '.join(TRANSFORMS)}")
