"""Packed image arrays: grayscale ``[n, H, W]`` or colour ``[n, H, W, 3]``, uint8.

Every part of the tool passes images around in one of these two layouts (0 black, 255 white;
colour in RGB order). This module tells them apart, converts one into the other, and fits
non-square images into squares by the one rule used everywhere: **letterbox** — the image is
scaled so that its longer side fills the square and the rest is padded with white, centred.
Letterboxing keeps the whole image (a centre crop could cut away what decides the label, and
the annotator sees what the model sees); the white padding is zero model input, so it carries
no signal.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

CHANNEL_COUNTS = (1, 3)
# The colour modes a project can ask for: "auto" follows the source.
COLOUR_MODES = ("auto", "rgb", "gray")
WHITE = 255
# Luma weights of ITU-R BT.601, the ones Pillow's convert("L") uses.
_LUMA = np.array([299, 587, 114], dtype=np.uint32)


def get_channels(images: Any) -> int:
    """1 for uint8 ``[n, H, W]``, 3 for uint8 ``[n, H, W, 3]``; ValueError naming the shape
    and dtype otherwise."""
    array = images if isinstance(images, np.ndarray) else np.asarray(images)
    if array.dtype == np.uint8 and array.ndim == 3:
        return 1
    if array.dtype == np.uint8 and array.ndim == 4 and array.shape[-1] == 3:
        return 3
    raise ValueError(
        "expected uint8 images [n, H, W] (grayscale) or [n, H, W, 3] (colour), got "
        f"{array.dtype} {array.shape}"
    )


def check_channels(channels: Any) -> int:
    """``channels`` if it is 1 or 3, else ValueError saying so."""
    if isinstance(channels, bool) or channels not in CHANNEL_COUNTS:
        raise ValueError(f"channels must be 1 (grayscale) or 3 (colour), got {channels!r}")
    return int(channels)


def convert_channels(images: NDArray[np.uint8], channels: int) -> NDArray[np.uint8]:
    """``images`` with ``channels`` channels: colour to luminance (BT.601, as Pillow), or
    grayscale copied into R, G and B. Returns ``images`` itself when nothing changes."""
    have, want = get_channels(images), check_channels(channels)
    if have == want:
        return images
    if want == 3:
        return np.repeat(np.asarray(images)[..., None], 3, axis=-1)
    weighted = np.asarray(images).astype(np.uint32) @ _LUMA
    return ((weighted + 500) // 1000).astype(np.uint8)


def image_shape(size: int, channels: int) -> tuple[int, ...]:
    """The shape of one packed image: ``(size, size)`` or ``(size, size, 3)``."""
    return (size, size) if check_channels(channels) == 1 else (size, size, 3)


def letterbox_array(images: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Pad non-square ``images`` ``[n, H, W(, 3)]`` with white to squares, centred (the extra
    pixel of an odd difference goes after). Returns ``images`` itself when already square."""
    get_channels(images)
    height, width = images.shape[1:3]
    if height == width:
        return images
    side = max(height, width)
    top, left = (side - height) // 2, (side - width) // 2
    out = np.full((images.shape[0], side, side, *images.shape[3:]), WHITE, dtype=np.uint8)
    out[:, top : top + height, left : left + width] = images
    return out


def letterbox_box(width: int, height: int, size: int) -> tuple[int, int, int, int]:
    """Where an image of ``width`` x ``height`` lands in a ``size`` square by the letterbox
    rule: ``(left, top, new_width, new_height)``; each side at least 1 pixel."""
    scale = size / max(width, height)
    new_width = max(1, min(size, round(width * scale)))
    new_height = max(1, min(size, round(height * scale)))
    return (size - new_width) // 2, (size - new_height) // 2, new_width, new_height
