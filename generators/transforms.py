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
    return _move(images, dx, dy, background)


def get_translate_range(
    images: np.ndarray, *, background: int = BACKGROUND
) -> tuple[int, int, int, int]:
    """The moves (dx_min, dx_max, dy_min, dy_max) that "translate" may make: those that keep
    every ink pixel (any pixel not ``background``) of ``images`` at least 1 px inside the
    frame. All zero when there is no ink, or when the ink already reaches the 1-px margin on
    both sides of an axis (along that axis)."""
    height, width = images.shape[-2:]
    ink = (images != background).reshape(-1, height, width).any(axis=0)
    rows = np.flatnonzero(ink.any(axis=1))
    columns = np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        return 0, 0, 0, 0
    return (
        min(0, 1 - int(columns[0])),
        max(0, width - 2 - int(columns[-1])),
        min(0, 1 - int(rows[0])),
        max(0, height - 2 - int(rows[-1])),
    )


def translate_images(
    images: np.ndarray, dx: int, dy: int, *, background: int = BACKGROUND
) -> np.ndarray:
    """The "translate" transform (and "vtranslate", with ``dx`` = 0): the content moves ``dx``
    px right and ``dy`` px down, which must keep every ink pixel 1 px inside the frame
    (``get_translate_range``): nothing is lost, so every shape stays whole."""
    dx_min, dx_max, dy_min, dy_max = get_translate_range(images, background=background)
    if not (dx_min <= dx <= dx_max and dy_min <= dy <= dy_max):
        raise ValueError(
            f"a translation of ({dx}, {dy}) px would push ink past the 1-px margin; this "
            f"ink allows dx in [{dx_min}, {dx_max}] and dy in [{dy_min}, {dy_max}]"
        )
    return _move(images, dx, dy, background)


def _move(images: np.ndarray, dx: int, dy: int, background: int) -> np.ndarray:
    """The content moved ``dx`` px right, ``dy`` px down; ``background`` comes in."""
    height, width = images.shape[-2:]
    out = np.full_like(images, background)
    if abs(dx) >= width or abs(dy) >= height:
        return out
    out[..., max(dy, 0) : height + min(dy, 0), max(dx, 0) : width + min(dx, 0)] = images[
        ..., max(-dy, 0) : height + min(-dy, 0), max(-dx, 0) : width + min(-dx, 0)
    ]
    return out


def apply_random_transform(images: np.ndarray, name: str, rng: np.random.Generator) -> np.ndarray:
    """Apply transform ``name`` with parameters drawn from ``rng`` (the same to every image).

    "rot90" turns by 1, 2 or 3 quarter turns; "shift" by an offset uniform in
    [-max, max] px along each axis, max from ``get_max_shift_px``; "translate" by an offset
    uniform over those ``get_translate_range`` allows for the whole stack ("vtranslate": up or
    down only).
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
    if name in ("translate", "vtranslate"):
        dx_min, dx_max, dy_min, dy_max = get_translate_range(images)
        dx = int(rng.integers(dx_min, dx_max + 1)) if name == "translate" else 0
        return translate_images(images, dx, int(rng.integers(dy_min, dy_max + 1)))
    raise ValueError(f"unknown transform {name!r}; valid transforms: {', '.join(TRANSFORMS)}")
