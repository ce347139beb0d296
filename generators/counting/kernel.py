"""The per-image kernel: draw the image's shapes at their share of its ink, place, render.

Coordinates are (x, y) in px, x to the right and y down; a pixel's centre is at its integer
coordinates.
"""

from __future__ import annotations

import numpy as np

from generators.canvas import get_mask_box
from generators.counting.layout import dilate_fill, get_clearance, paint, place_all
from generators.counting.params import (
    MIN_COUNT,
    N_CLASSES,
    P_BORDER,
    P_GAP,
    P_HOLE_RATIO,
    P_INK_TOLERANCE,
    P_LINE_WIDTH,
    P_MAX_TOTAL_INK,
    P_MAX_WINDOW,
    P_MIN_TOTAL_INK,
    P_MIN_WINDOW,
    P_SIZE,
    P_SIZE_SPREAD,
)
from generators.counting.shapes import draw_shape
from generators.numba_cache import cached_njit
from generators.rng import make_state, uniform
from generators.sprites import CONTOUR, FILL, count_cells

# Columns of the per-shape table (one row per shape, largest share first).
F_CX = 0  # centre x, px
F_CY = 1  # centre y, px
F_X0 = 2  # ink bounding box, inclusive pixel bounds
F_Y0 = 3
F_X1 = 4
F_Y1 = 5
F_RADIUS = 6  # outer radius of the contour's annulus, px
F_ROTATION = 7  # radians
F_INK = 8  # contour pixels
F_AREA = 9  # filled pixels (contour and interior)
F_TARGET_INK = 10  # the ink this shape was drawn for
N_FIELDS = 11

# Per-image values (one vector per image).
I_TOTAL_TARGET = 0  # the total ink drawn for, px
I_CLEARANCE = 1  # fewest clear px between two shapes (NaN for one shape)
I_CLOSEST_A = 2  # the two shapes that are closest (NaN for one shape)
I_CLOSEST_B = 3
N_IMAGE_FIELDS = 4

INK = 0
BACKGROUND = 255
# Sets of shapes drawn for one image before its parameters are declared impossible.
_N_SHAPE_SETS = 20


@cached_njit
def generate_images(
    stream_key: np.uint64,
    start: int,
    prm: np.ndarray,
    images: np.ndarray,
    tables: np.ndarray,
    image_values: np.ndarray,
) -> int:
    """Fill ``images`` ``[n, size, size]`` uint8, ``tables`` ``[n, MAX_COUNT, N_FIELDS]`` and
    ``image_values`` ``[n, N_IMAGE_FIELDS]`` float64.

    Image k of the batch is image ``start + k`` of the stream; its label is its index
    % N_CLASSES and it shows ``MIN_COUNT + label`` shapes. Returns the batch position of the
    first image that could not be drawn, or -1 when all were.
    """
    taken = np.zeros((images.shape[1], images.shape[2]), dtype=np.uint8)
    for k in range(images.shape[0]):
        index = start + k
        state = make_state(stream_key, np.uint64(index))
        n_shapes = MIN_COUNT + index % N_CLASSES
        if not draw_image(state, n_shapes, prm, taken, images[k], tables[k], image_values[k]):
            return k
    return -1


@cached_njit
def draw_image(
    state: np.ndarray,
    n_shapes: int,
    prm: np.ndarray,
    taken: np.ndarray,
    image: np.ndarray,
    table: np.ndarray,
    values: np.ndarray,
) -> bool:
    """Draw ``n_shapes`` shapes into ``image``, one ``table`` row each, largest first."""
    table[:, :] = np.nan
    values[:] = np.nan
    # The total ink, the shares and the layout's spread are drawn first and kept through every
    # retry, so their distributions are the same for every count.
    total = uniform(state, prm[P_MIN_TOTAL_INK], prm[P_MAX_TOTAL_INK])
    weights = np.empty(n_shapes, dtype=np.float64)
    for i in range(n_shapes):
        weights[i] = uniform(state, 1.0, prm[P_SIZE_SPREAD])
    ordered = np.sort(weights)[::-1]  # the largest shapes are placed first: they need room
    shares = ordered / ordered.sum()
    window_fraction = uniform(state, prm[P_MIN_WINDOW], prm[P_MAX_WINDOW])
    xs = np.empty(n_shapes, dtype=np.int64)
    ys = np.empty(n_shapes, dtype=np.int64)
    targets = np.empty(n_shapes, dtype=np.float64)
    radii = np.empty(n_shapes, dtype=np.float64)
    rotations = np.empty(n_shapes, dtype=np.float64)
    for _ in range(_N_SHAPE_SETS):
        sprites = _draw_shapes(state, prm, total, shares, targets, radii, rotations)
        if len(sprites) < n_shapes:
            continue
        grown = [dilate_fill(sprite, int(prm[P_GAP])) for sprite in sprites]
        if place_all(state, taken, sprites, grown, int(prm[P_BORDER]), window_fraction, xs, ys):
            _render(image, sprites, xs, ys)
            for i in range(n_shapes):
                _record(table[i], sprites[i], xs[i], ys[i], radii[i], rotations[i], targets[i])
            values[I_TOTAL_TARGET] = total
            if n_shapes > 1:
                clearance, a, b = get_clearance(sprites, xs, ys)
                values[I_CLEARANCE] = clearance
                values[I_CLOSEST_A] = a
                values[I_CLOSEST_B] = b
            return True
    return False


@cached_njit
def _draw_shapes(
    state: np.ndarray,
    prm: np.ndarray,
    total: float,
    shares: np.ndarray,
    targets: np.ndarray,
    radii: np.ndarray,
    rotations: np.ndarray,
) -> list[np.ndarray]:
    """One sprite per share of ``total`` ink; fills ``targets`` (the ink each was drawn for),
    ``radii`` and ``rotations``. Returns fewer sprites than shares if one could not fit."""
    size = int(prm[P_SIZE])
    max_span = size - 2 * int(prm[P_BORDER])
    sprites = []
    drawn = 0
    n_shapes = shares.shape[0]
    for i in range(n_shapes):
        # The last shape makes up for the others' rounding, so the total stays on target.
        target = total * shares[i] if i < n_shapes - 1 else total - drawn
        tolerance = max(1.0, prm[P_INK_TOLERANCE] * target)
        found, sprite, radius, rotation = draw_shape(
            state, target, prm[P_HOLE_RATIO], int(prm[P_LINE_WIDTH]), tolerance, max_span
        )
        if not found:
            break
        sprites.append(sprite)
        targets[i] = target
        radii[i] = radius
        rotations[i] = rotation
        drawn += count_cells(sprite, CONTOUR)
    return sprites


@cached_njit
def _render(image: np.ndarray, sprites: list[np.ndarray], xs: np.ndarray, ys: np.ndarray) -> None:
    """Background everywhere, ink on every shape's contour."""
    image[:, :] = BACKGROUND
    for i in range(len(sprites)):
        paint(image, sprites[i], xs[i], ys[i], CONTOUR, INK)


@cached_njit
def _record(
    row: np.ndarray,
    sprite: np.ndarray,
    cx: int,
    cy: int,
    radius: float,
    rotation: float,
    target: float,
) -> None:
    """Write one shape's ground truth into its table row (fields ``F_*``)."""
    c = sprite.shape[0] // 2
    x0, y0, x1, y1 = get_mask_box(sprite, CONTOUR)
    row[F_CX] = cx
    row[F_CY] = cy
    row[F_X0] = cx + x0 - c
    row[F_Y0] = cy + y0 - c
    row[F_X1] = cx + x1 - c
    row[F_Y1] = cy + y1 - c
    row[F_RADIUS] = radius
    row[F_ROTATION] = rotation
    row[F_INK] = count_cells(sprite, CONTOUR)
    row[F_AREA] = count_cells(sprite, FILL)
    row[F_TARGET_INK] = target
