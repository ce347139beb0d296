"""The per-image kernel: draw, orient, fit and place the objects of one image.

Coordinates are (x, y) in px, x to the right and y down; a pixel's centre is at its integer
coordinates. Angles are in degrees from the +x axis towards +y, i.e. clockwise on screen.
"""

from __future__ import annotations

import math

import numpy as np

from generators.numba_cache import cached_njit
from generators.orientation.objects import make_object
from generators.orientation.params import (
    P_JITTER,
    P_LINE_WIDTH,
    P_MAX_ASPECT,
    P_MAX_LENGTH,
    P_MIN_ASPECT,
    P_MIN_LENGTH,
    P_N_OBJECTS,
    P_SIZE,
)
from generators.orientation.strokes import draw_polyline, get_brush, round_px
from generators.rng import integer, make_state, uniform

# Columns of the per-object table the kernel fills (one row per object).
F_FAMILY = 0  # object family code
F_VARIANT = 1  # family-specific sub-type code, -1 when none
F_CX = 2  # centre x, px
F_CY = 3  # centre y, px
F_X0 = 4  # ink bounding box, inclusive pixel bounds
F_Y0 = 5
F_X1 = 6
F_Y1 = 7
F_LENGTH = 8  # long side, px
F_WIDTH = 9  # short side, px
F_ROTATION = 10  # angle of the object's +x axis, degrees (nominal axis + jitter + flip)
F_JITTER = 11  # signed tilt away from the nominal axis, degrees
F_MIRROR = 12  # 1 when reflected across its long axis
F_FLIP = 13  # 1 when turned by 180 degrees
N_FIELDS = 14

INK = 0
BACKGROUND = 255
# Ink keeps this many clear pixels from the image border.
MARGIN = 1
# Only with several objects: positions tried before the object shrinks, the shrink factor,
# and the number of shrinks after which the parameters are declared impossible.
_N_PLACE_TRIES = 30
_SHRINK = 0.85
_MAX_SHRINKS = 60


@cached_njit
def generate_images(
    stream_key: np.uint64,
    start: int,
    prm: np.ndarray,
    codes: np.ndarray,
    images: np.ndarray,
    tables: np.ndarray,
) -> None:
    """Fill ``images`` ``[n, size, size]`` uint8 and ``tables`` ``[n, n_objects, N_FIELDS]``.

    Image k of the batch is image ``start + k`` of the stream; its label is its index % 2
    (0 horizontal, 1 vertical). ``codes`` holds the object family codes to draw from.
    """
    for k in range(images.shape[0]):
        index = start + k
        state = make_state(stream_key, np.uint64(index))
        draw_image(state, index % 2, prm, codes, images[k], tables[k])


@cached_njit
def draw_image(
    state: np.ndarray,
    label: int,
    prm: np.ndarray,
    codes: np.ndarray,
    image: np.ndarray,
    table: np.ndarray,
) -> None:
    """Draw one image of class ``label`` into ``image``; one ``table`` row per object."""
    size = int(prm[P_SIZE])
    line_width = int(prm[P_LINE_WIDTH])
    n_objects = int(prm[P_N_OBJECTS])
    image[:, :] = BACKGROUND
    table[:, :] = 0.0
    nominal = 90.0 if label == 1 else 0.0
    for j in range(n_objects):
        code = codes[integer(state, 0, codes.shape[0] - 1)]
        length = uniform(state, prm[P_MIN_LENGTH], prm[P_MAX_LENGTH]) * size
        aspect = uniform(state, prm[P_MIN_ASPECT], prm[P_MAX_ASPECT])
        jitter = uniform(state, -prm[P_JITTER], prm[P_JITTER])
        # A reflection across the long axis and a half turn, each with probability 1/2, make
        # the object's four symmetric poses equally likely in both classes, so only the axis
        # tells the classes apart (not the side an arrow head or a letter's foot is on).
        mirror = integer(state, 0, 1) == 1
        flip = integer(state, 0, 1) == 1
        local, strokes, variant = make_object(state, code, length, length / aspect)
        rotation = nominal + jitter + (180.0 if flip else 0.0)
        points = _orient(local, rotation, mirror)
        factor = _get_fit_factor(points, size, line_width)
        tx, ty, factor = _place(state, points, factor, size, line_width, table, j)
        if factor < 1.0:
            points *= factor
        for s in range(strokes.shape[0]):
            draw_polyline(image, points, strokes[s, 0], strokes[s, 1], tx, ty, line_width, INK)
        x0, x1, y0, y1 = _get_pixel_box(points, line_width)
        row = table[j]
        row[F_FAMILY] = code
        row[F_VARIANT] = variant
        row[F_CX] = tx
        row[F_CY] = ty
        row[F_X0] = x0 + tx
        row[F_Y0] = y0 + ty
        row[F_X1] = x1 + tx
        row[F_Y1] = y1 + ty
        row[F_LENGTH] = length * factor
        row[F_WIDTH] = length / aspect * factor
        row[F_ROTATION] = rotation
        row[F_JITTER] = jitter
        row[F_MIRROR] = 1.0 if mirror else 0.0
        row[F_FLIP] = 1.0 if flip else 0.0


@cached_njit
def _orient(local: np.ndarray, rotation_deg: float, mirror: bool) -> np.ndarray:
    """Reflect (y -> -y) when ``mirror``, then rotate by ``rotation_deg``; a new array."""
    r = math.radians(rotation_deg)
    cs = math.cos(r)
    sn = math.sin(r)
    n = local.shape[0]
    out = np.empty((n, 2), dtype=np.float64)
    for i in range(n):
        x = local[i, 0]
        y = -local[i, 1] if mirror else local[i, 1]
        out[i, 0] = cs * x - sn * y
        out[i, 1] = sn * x + cs * y
    return out


@cached_njit
def _get_fit_factor(points: np.ndarray, size: int, line_width: int) -> float:
    """The scale (at most 1) at which the object's ink fits inside the margins.

    Rounding widens a span of e px to at most e + 1 pixels and the brush adds
    ``line_width - 1``; the ink must fit in ``size - 2 * MARGIN`` pixels.
    """
    room = size - 2 * MARGIN - line_width - 1
    extent_x = points[:, 0].max() - points[:, 0].min()
    extent_y = points[:, 1].max() - points[:, 1].min()
    extent = max(extent_x, extent_y)
    if extent <= room:
        return 1.0
    return room / extent


@cached_njit
def _get_pixel_box(points: np.ndarray, line_width: int) -> tuple[int, int, int, int]:
    """Inclusive ink bounds (x0, x1, y0, y1) of the drawn points, relative to the centre."""
    low, high = get_brush(line_width)
    # Rounding is monotone, so the extreme points give the extreme pixels.
    x0 = round_px(points[:, 0].min()) + low
    x1 = round_px(points[:, 0].max()) + high
    y0 = round_px(points[:, 1].min()) + low
    y1 = round_px(points[:, 1].max()) + high
    return x0, x1, y0, y1


@cached_njit
def _place(
    state: np.ndarray,
    points: np.ndarray,
    factor: float,
    size: int,
    line_width: int,
    table: np.ndarray,
    n_placed: int,
) -> tuple[int, int, float]:
    """Draw a translation (tx, ty) keeping the ink inside the margins and clear of the
    ``n_placed`` objects already in ``table`` (at least one clear pixel between boxes).

    An object that finds no room after ``_N_PLACE_TRIES`` positions shrinks; returns
    (tx, ty, the final scale factor).
    """
    for _ in range(_MAX_SHRINKS):
        x0, x1, y0, y1 = _get_pixel_box(points * factor, line_width)
        tx_low = MARGIN - x0
        tx_high = size - 1 - MARGIN - x1
        ty_low = MARGIN - y0
        ty_high = size - 1 - MARGIN - y1
        for _ in range(_N_PLACE_TRIES):
            tx = integer(state, tx_low, tx_high)
            ty = integer(state, ty_low, ty_high)
            if _is_clear(table, n_placed, x0 + tx, x1 + tx, y0 + ty, y1 + ty):
                return tx, ty, factor
        factor *= _SHRINK
    raise RuntimeError("no room for the objects; lower n_objects or max_length")


@cached_njit
def _is_clear(table: np.ndarray, n_placed: int, x0: int, x1: int, y0: int, y1: int) -> bool:
    for i in range(n_placed):
        row = table[i]
        if (
            x0 <= row[F_X1] + 1
            and row[F_X0] <= x1 + 1
            and y0 <= row[F_Y1] + 1
            and row[F_Y0] <= y1 + 1
        ):
            return False
    return True
