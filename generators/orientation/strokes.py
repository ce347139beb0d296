"""Rasterisation of open polylines straight into an image, with a square brush."""

from __future__ import annotations

import math

import numpy as np

from generators.numba_cache import cached_njit

# Segments are sampled at most this far apart (px), so consecutive rounded samples are
# 8-neighbours and a 1-px line has no gaps.
_STEP = 0.5


@cached_njit
def get_brush(line_width: int) -> tuple[int, int]:
    """Offsets (low, high) of a square brush of side ``line_width`` around a pixel."""
    return -((line_width - 1) // 2), line_width // 2


@cached_njit
def round_px(value: float) -> int:
    """The pixel whose centre is nearest to ``value`` (halves round up, monotone)."""
    return math.floor(value + 0.5)


@cached_njit
def draw_polyline(
    image: np.ndarray,
    points: np.ndarray,
    start: int,
    stop: int,
    tx: int,
    ty: int,
    line_width: int,
    ink: int,
) -> None:
    """Draw the polyline through ``points[start:stop]`` translated by (tx, ty) px.

    ``image`` is ``[height, width]`` uint8, indexed [y, x]. A point lands on its nearest pixel,
    so every drawn pixel lies within the rounded bounding box of the points (plus the brush);
    the caller guarantees that box is inside the image.
    """
    low, high = get_brush(line_width)
    for i in range(start, max(start + 1, stop - 1)):
        ax = points[i, 0]
        ay = points[i, 1]
        j = min(i + 1, stop - 1)
        bx = points[j, 0]
        by = points[j, 1]
        n_steps = max(1, math.ceil(math.hypot(bx - ax, by - ay) / _STEP))
        x_low = min(ax, bx)
        x_high = max(ax, bx)
        y_low = min(ay, by)
        y_high = max(ay, by)
        for s in range(n_steps + 1):
            t = s / n_steps
            # Clamped so that rounding error never carries a sample past the segment's ends.
            x = min(max(ax + (bx - ax) * t, x_low), x_high)
            y = min(max(ay + (by - ay) * t, y_low), y_high)
            px = round_px(x) + tx
            py = round_px(y) + ty
            for dy in range(low, high + 1):
                for dx in range(low, high + 1):
                    image[py + dy, px + dx] = ink
