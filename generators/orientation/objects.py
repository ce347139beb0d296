"""Elongated objects in their own frame: long axis along x, centred on (0, 0).

Every builder returns ``(points, strokes, variant)``: ``points`` is ``[n_points, 2]`` float64
(x, y) in px; ``strokes`` is ``[n_strokes, 2]`` int64 ``(start, stop)`` rows, each an open
polyline through ``points[start:stop]`` (a closed outline repeats its first point at the end);
``variant`` is a family-specific sub-type code (see ``VARIANT_NAMES``), -1 when none.

Each object's bounding box is exactly ``[-length/2, length/2] x [-width/2, width/2]``, so the
long axis is the x axis whatever the family; the caller mirrors, flips and rotates.
"""

from __future__ import annotations

import math

import numpy as np

from generators.numba_cache import cached_njit
from generators.rng import integer, uniform
from generators.sprites import make_contour

# Codes follow the order of params.OBJECT_FAMILIES.
BAR = 0
ELLIPSE = 1
ARROW = 2
LETTER = 3
BLOB = 4
ZIGZAG = 5
CROSS = 6

# Letter-like glyphs drawn along their long stroke; U and E are C- and comb-shaped.
LETTERS = ("L", "T", "Z", "I", "U", "E")
_N_LETTERS = len(LETTERS)
MIN_TEETH = 2
MAX_TEETH = 5
VARIANT_NAMES: dict[int, tuple[str, ...]] = {
    LETTER: LETTERS,
    ZIGZAG: tuple(f"{n}_teeth" for n in range(MIN_TEETH, MAX_TEETH + 1)),
}

# Blobs are drawn at this radius (px), then stretched to size: their detail is then
# scale-invariant, and small radii keep make_contour's rejection cheap.
_BLOB_RADIUS = 12.0
_BLOB_HOLE = 3.0
# Outline vertices of an ellipse are at most this far apart (px); the drawer fills the gaps.
_ELLIPSE_STEP = 2.0


@cached_njit
def make_object(
    state: np.ndarray, code: int, length: float, width: float
) -> tuple[np.ndarray, np.ndarray, int]:
    """Build an object of family ``code`` with the given long side and short side (px)."""
    if code == BAR:
        return _make_bar(length, width)
    if code == ELLIPSE:
        return _make_ellipse(length, width)
    if code == ARROW:
        return _make_arrow(state, length, width)
    if code == LETTER:
        return _make_letter(state, length, width)
    if code == BLOB:
        return _make_blob(state, length, width)
    if code == ZIGZAG:
        return _make_zigzag(state, length, width)
    return _make_cross(state, length, width)


@cached_njit
def _one_stroke(points: np.ndarray) -> np.ndarray:
    strokes = np.empty((1, 2), dtype=np.int64)
    strokes[0, 0] = 0
    strokes[0, 1] = points.shape[0]
    return strokes


@cached_njit
def _make_bar(length: float, width: float) -> tuple[np.ndarray, np.ndarray, int]:
    a = 0.5 * length
    b = 0.5 * width
    points = np.array([[-a, -b], [a, -b], [a, b], [-a, b], [-a, -b]], dtype=np.float64)
    return points, _one_stroke(points), -1


@cached_njit
def _make_ellipse(length: float, width: float) -> tuple[np.ndarray, np.ndarray, int]:
    a = 0.5 * length
    b = 0.5 * width
    # Consecutive points are at most _ELLIPSE_STEP apart: the speed of (a cos t, b sin t)
    # is at most a (the long semi-axis).
    n = max(16, math.ceil(2.0 * math.pi * a / _ELLIPSE_STEP))
    points = np.empty((n + 1, 2), dtype=np.float64)
    for i in range(n):
        t = 2.0 * math.pi * i / n
        points[i, 0] = a * math.cos(t)
        points[i, 1] = b * math.sin(t)
    points[n, 0] = points[0, 0]
    points[n, 1] = points[0, 1]
    return points, _one_stroke(points), -1


@cached_njit
def _make_arrow(
    state: np.ndarray, length: float, width: float
) -> tuple[np.ndarray, np.ndarray, int]:
    """An outlined arrow pointing to +x: a shaft and a head as wide as the object."""
    a = 0.5 * length
    b = 0.5 * width
    shaft = b * uniform(state, 0.3, 0.55)
    head = min(width * uniform(state, 0.7, 1.2), 0.45 * length)
    neck = a - head
    points = np.array(
        [
            [-a, -shaft],
            [neck, -shaft],
            [neck, -b],
            [a, 0.0],
            [neck, b],
            [neck, shaft],
            [-a, shaft],
            [-a, -shaft],
        ],
        dtype=np.float64,
    )
    return points, _one_stroke(points), -1


@cached_njit
def _make_letter(
    state: np.ndarray, length: float, width: float
) -> tuple[np.ndarray, np.ndarray, int]:
    """A letter-like open polyline whose long strokes run along x (index into LETTERS)."""
    a = 0.5 * length
    b = 0.5 * width
    glyph = integer(state, 0, _N_LETTERS - 1)
    if glyph == 0:  # L: a long stroke and a foot
        points = np.array([[-a, -b], [-a, b], [a, b]], dtype=np.float64)
        strokes = np.array([[0, 3]], dtype=np.int64)
    elif glyph == 1:  # T: a stem and a crossbar
        points = np.array([[-a, 0.0], [a, 0.0], [-a, -b], [-a, b]], dtype=np.float64)
        strokes = np.array([[0, 2], [2, 4]], dtype=np.int64)
    elif glyph == 2:  # Z: two long strokes joined by a diagonal
        points = np.array([[-a, -b], [a, -b], [-a, b], [a, b]], dtype=np.float64)
        strokes = np.array([[0, 4]], dtype=np.int64)
    elif glyph == 3:  # I: a stem with a serif at each end
        points = np.array(
            [[-a, 0.0], [a, 0.0], [-a, -b], [-a, b], [a, -b], [a, b]], dtype=np.float64
        )
        strokes = np.array([[0, 2], [2, 4], [4, 6]], dtype=np.int64)
    elif glyph == 4:  # U: two long strokes joined at one end
        points = np.array([[a, -b], [-a, -b], [-a, b], [a, b]], dtype=np.float64)
        strokes = np.array([[0, 4]], dtype=np.int64)
    else:  # E: a spine with three teeth
        points = np.array(
            [[-a, -b], [a, -b], [-a, -b], [-a, b], [0.0, -b], [0.0, b], [a, -b], [a, b]],
            dtype=np.float64,
        )
        strokes = np.array([[0, 2], [2, 4], [4, 6], [6, 8]], dtype=np.int64)
    return points, strokes, glyph


@cached_njit
def _make_blob(
    state: np.ndarray, length: float, width: float
) -> tuple[np.ndarray, np.ndarray, int]:
    """A random closed contour stretched so that its bounding box is length x width."""
    contour = make_contour(state, _BLOB_RADIUS, _BLOB_HOLE)
    n = contour.shape[0]
    x_min = contour[:, 0].min()
    x_max = contour[:, 0].max()
    y_min = contour[:, 1].min()
    y_max = contour[:, 1].max()
    sx = length / (x_max - x_min)
    sy = width / (y_max - y_min)
    cx = 0.5 * (x_min + x_max)
    cy = 0.5 * (y_min + y_max)
    points = np.empty((n + 1, 2), dtype=np.float64)
    for i in range(n):
        points[i, 0] = (contour[i, 0] - cx) * sx
        points[i, 1] = (contour[i, 1] - cy) * sy
    points[n, 0] = points[0, 0]
    points[n, 1] = points[0, 1]
    return points, _one_stroke(points), -1


@cached_njit
def _make_zigzag(
    state: np.ndarray, length: float, width: float
) -> tuple[np.ndarray, np.ndarray, int]:
    """A zigzag of ``n_teeth`` teeth across the long axis (variant n_teeth - MIN_TEETH)."""
    n_teeth = integer(state, MIN_TEETH, MAX_TEETH)
    n_points = 2 * n_teeth + 1
    points = np.empty((n_points, 2), dtype=np.float64)
    for i in range(n_points):
        points[i, 0] = -0.5 * length + length * i / (n_points - 1)
        points[i, 1] = -0.5 * width if i % 2 == 0 else 0.5 * width
    return points, _one_stroke(points), n_teeth - MIN_TEETH


@cached_njit
def _make_cross(
    state: np.ndarray, length: float, width: float
) -> tuple[np.ndarray, np.ndarray, int]:
    """A long bar crossed by a short one somewhere along its middle half."""
    a = 0.5 * length
    b = 0.5 * width
    c = uniform(state, -0.25, 0.25) * length
    points = np.array([[-a, 0.0], [a, 0.0], [c, -b], [c, b]], dtype=np.float64)
    strokes = np.array([[0, 2], [2, 4]], dtype=np.int64)
    return points, strokes, -1
