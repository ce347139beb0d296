"""SVRT same/different problems whose copies are translations: 1, 5, 7, 15, 22.

Each kernel draws image ``index`` of stream ``key`` (label ``index % 2``) into
``images[slot]``, its ground truth into ``tables[slot]`` (one row per shape, see
``generators.canvas``) and ``witnesses[slot]`` (the measured values the rule turns on, named in
``WITNESS_NAMES``); ``cv`` is scratch canvas. It returns False only if the parameters make the
image impossible.

Every shape that must differ from another one is drawn with ``new_different_shape`` at the
transform the copy it stands in for would have had, so that ``--mode balanced`` gives "same" and
"different" images the same distribution of total ink. Shapes that are copies share one
prototype id; a copy by translation reuses the very same sprite, so it is pixel-identical.
"""

from __future__ import annotations

import math

import numpy as np

from generators.canvas import (
    REGION,
    RINGS,
    finish_image,
    fits,
    get_centre_range,
    place_at,
    place_random,
    record_shape,
    stamp,
)
from generators.numba_cache import cached_njit
from generators.rng import angle, integer, uniform
from generators.sprites import FILL, HALO, count_ink
from generators.svrt.common import (
    MAX_IMAGE_TRIES,
    N_PLACE_TRIES,
    distance,
    get_size,
    new_different_shape,
    new_shape,
    open_image,
    position,
    radius,
    reset,
)

# Placing many shapes one after the other can paint the last one into a corner; starting the
# layout again with the same sprites is much cheaper than drawing new shapes, and it keeps the
# shapes' size distribution the same in both classes (whole-image rejection favours small shapes,
# more so when a large shape is repeated).
_N_LAYOUTS = 50
_N_SHAPE_TRIES = 60


@cached_njit
def _free_at(cv: np.ndarray, mask: np.ndarray, cx: int, cy: int) -> bool:
    """Cheap necessary condition for ``fits(cv, mask, cx, cy, -1)``: the centre pixel is free.

    Most rejected positions land on another shape, and the centre pixel is filled in every
    sprite whose hole is at least a pixel wide, so this check spares most full scans.
    """
    c = mask.shape[0] // 2
    if not mask[c, c] & FILL:
        return True
    if cx < 1 or cy < 1 or cx > cv.shape[2] - 2 or cy > cv.shape[1] - 2:
        return False
    return cv[REGION, cy, cx] == 0 and not cv[RINGS, cy, cx] & HALO


@cached_njit
def place_one(
    state: np.ndarray, cv: np.ndarray, mask: np.ndarray, shape_id: int, n_tries: int
) -> tuple[bool, int, int]:
    """``place_random`` on the background, with the centre pre-check (same distribution)."""
    x_lo, x_hi, y_lo, y_hi = get_centre_range(mask, cv.shape[1])
    if x_lo > x_hi or y_lo > y_hi:
        return False, 0, 0
    for _ in range(n_tries):
        cx = integer(state, x_lo, x_hi)
        cy = integer(state, y_lo, y_hi)
        if _free_at(cv, mask, cx, cy) and fits(cv, mask, cx, cy, -1):
            stamp(cv, mask, cx, cy, shape_id)
            return True, cx, cy
    return False, 0, 0


@cached_njit
def place_shapes(
    state: np.ndarray, cv: np.ndarray, sprites: list[np.ndarray], xs: np.ndarray, ys: np.ndarray
) -> bool:
    """Place ``sprites`` (shape ids 0, 1, ...) at uniform positions without contact.

    Each shape gets ``_N_SHAPE_TRIES`` positions; if one finds no room, the whole layout starts
    again (same sprites), up to ``_N_LAYOUTS`` times. Writes the centres into ``xs``, ``ys``.
    """
    for _ in range(_N_LAYOUTS):
        cv[:] = 0
        ok = True
        for i in range(len(sprites)):
            ok, xs[i], ys[i] = place_one(state, cv, sprites[i], i, _N_SHAPE_TRIES)
            if not ok:
                break
        if ok:
            return True
    return False


@cached_njit
def _place_constellation(
    state: np.ndarray,
    cv: np.ndarray,
    sprites: list[np.ndarray],
    dx: np.ndarray,
    dy: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
) -> tuple[bool, int, int]:
    """Place ``sprites`` (shape ids 0, 1, ...) at centre + (dx[i], dy[i]), rounded to pixels.

    The centre is a pixel, uniform over those that keep every sprite inside the image, so a
    shape at an integer offset sits exactly there and any other within 0.71 px of its point.
    Returns (ok, centre x, centre y); not ok if the image cannot hold the constellation or two
    shapes would touch (the canvas then holds a partial layout).
    """
    size = cv.shape[1]
    lo_x = -1e18
    hi_x = 1e18
    lo_y = -1e18
    hi_y = 1e18
    for i in range(len(sprites)):
        x_lo, x_hi, y_lo, y_hi = get_centre_range(sprites[i], size)
        lo_x = max(lo_x, x_lo - dx[i])
        hi_x = min(hi_x, x_hi - dx[i])
        lo_y = max(lo_y, y_lo - dy[i])
        hi_y = min(hi_y, y_hi - dy[i])
    if math.ceil(lo_x) > math.floor(hi_x) or math.ceil(lo_y) > math.floor(hi_y):
        return False, 0, 0
    cx = integer(state, math.ceil(lo_x), math.floor(hi_x))
    cy = integer(state, math.ceil(lo_y), math.floor(hi_y))
    cv[:] = 0
    for i in range(len(sprites)):
        # Rounding to the nearest pixel keeps each centre inside its sprite's integer range.
        xs[i] = math.floor(cx + dx[i] + 0.5)
        ys[i] = math.floor(cy + dy[i] + 0.5)
        if not place_at(cv, sprites[i], xs[i], ys[i], i, -1):
            return False, 0, 0
    return True, cx, cy


@cached_njit
def _min_centre_distance(xs: np.ndarray, ys: np.ndarray) -> float:
    best = 1e18
    for i in range(xs.shape[0]):
        for j in range(i + 1, xs.shape[0]):
            best = min(best, distance(xs[i], ys[i], xs[j], ys[j]))
    return best


@cached_njit
def _new_copies_or_different(
    state: np.ndarray,
    prm: np.ndarray,
    label: int,
    n_shapes: int,
    rotations: np.ndarray,
    prototypes: np.ndarray,
) -> list[np.ndarray]:
    """``n_shapes`` sprites of radius 10 (hole 1): class 1, one shape ``n_shapes`` times;
    class 0, that shape and ``n_shapes - 1`` different ones of its ink, each at its own
    rotation. Fills ``rotations`` and ``prototypes``."""
    _, rot_a, a = new_shape(state, prm, 10.0, 1.0, 1.0)
    sprites = [a]
    rotations[0] = rot_a
    if label == 1:
        for _ in range(1, n_shapes):
            sprites.append(a)
        rotations[:] = rot_a
        prototypes[:] = 0
    else:
        ink = count_ink(a)
        for i in range(1, n_shapes):
            rotations[i] = angle(state)
            _, other = new_different_shape(state, prm, 10.0, 1.0, 1.0, rotations[i], False, ink)
            sprites.append(other)
            prototypes[i] = i
        prototypes[0] = 0
    return sprites


@cached_njit
def _record_shapes(
    table: np.ndarray,
    sprites: list[np.ndarray],
    xs: np.ndarray,
    ys: np.ndarray,
    rotations: np.ndarray,
    prototypes: np.ndarray,
) -> None:
    """Record unscaled, unmirrored shapes 0, 1, ... on the background."""
    for i in range(len(sprites)):
        record_shape(
            table, i, sprites[i], xs[i], ys[i], 1.0, rotations[i], False, prototypes[i], -1
        )


@cached_njit
def problem_1(
    key: np.uint64,
    index: int,
    prm: np.ndarray,
    cv: np.ndarray,
    images: np.ndarray,
    tables: np.ndarray,
    witnesses: np.ndarray,
    slot: int,
) -> bool:
    """Class 0: two different shapes; class 1: two identical shapes (translation only)."""
    state, label, image, table, witness = open_image(key, index, images, tables, witnesses, slot)
    for _ in range(MAX_IMAGE_TRIES):
        reset(cv, table, witness)
        _, rot_a, a = new_shape(state, prm, 26.25, 2.5, 1.0)
        if label == 1:
            b = a
            rot_b = rot_a
            proto_b = 0
        else:
            rot_b = angle(state)
            _, b = new_different_shape(state, prm, 26.25, 2.5, 1.0, rot_b, False, count_ink(a))
            proto_b = 1
        ok, ax, ay = place_random(state, cv, a, 0, -1, N_PLACE_TRIES)
        if not ok:
            continue
        ok, bx, by = place_random(state, cv, b, 1, -1, N_PLACE_TRIES)
        if not ok:
            continue
        record_shape(table, 0, a, ax, ay, 1.0, rot_a, False, 0, -1)
        record_shape(table, 1, b, bx, by, 1.0, rot_b, False, proto_b, -1)
        witness[0] = distance(ax, ay, bx, by)
        finish_image(cv, image, table)
        return True
    return False


@cached_njit
def problem_5(
    key: np.uint64,
    index: int,
    prm: np.ndarray,
    cv: np.ndarray,
    images: np.ndarray,
    tables: np.ndarray,
    witnesses: np.ndarray,
    slot: int,
) -> bool:
    """Class 0: four pairwise different shapes; class 1: two pairs of identical shapes.

    Slots 0, 1 hold the first pair and 2, 3 the second; in class 0 slots 1 and 3 hold shapes
    standing in for the copies.
    """
    state, label, image, table, witness = open_image(key, index, images, tables, witnesses, slot)
    xs = np.zeros(4, dtype=np.int64)
    ys = np.zeros(4, dtype=np.int64)
    rotations = np.zeros(4)
    prototypes = np.zeros(4, dtype=np.int64)
    for _ in range(MAX_IMAGE_TRIES):
        reset(cv, table, witness)
        _, rot_a, a = new_shape(state, prm, 21.0, 2.0, 1.0)
        _, rot_b, b = new_shape(state, prm, 21.0, 2.0, 1.0)
        if label == 1:
            sprites = [a, a, b, b]
            rotations[:] = (rot_a, rot_a, rot_b, rot_b)
            prototypes[:] = (0, 0, 1, 1)
        else:
            rot_c = angle(state)
            _, c = new_different_shape(state, prm, 21.0, 2.0, 1.0, rot_c, False, count_ink(a))
            rot_d = angle(state)
            _, d = new_different_shape(state, prm, 21.0, 2.0, 1.0, rot_d, False, count_ink(b))
            sprites = [a, c, b, d]
            rotations[:] = (rot_a, rot_c, rot_b, rot_d)
            prototypes[:] = (0, 1, 2, 3)
        if not place_shapes(state, cv, sprites, xs, ys):
            continue
        _record_shapes(table, sprites, xs, ys, rotations, prototypes)
        witness[0] = 2.0 if label == 1 else 4.0
        witness[1] = _min_centre_distance(xs, ys)
        finish_image(cv, image, table)
        return True
    return False


@cached_njit
def problem_7(
    key: np.uint64,
    index: int,
    prm: np.ndarray,
    cv: np.ndarray,
    images: np.ndarray,
    tables: np.ndarray,
    witnesses: np.ndarray,
    slot: int,
) -> bool:
    """Class 0: three pairs of identical shapes; class 1: two triplets of identical shapes.

    Slots 0-2 hold the first triplet and 3-5 the second; in class 0 a third shape C fills
    slots 2 and 5. In balanced mode C's ink is matched to the mean of A's and B's, so both
    classes carry 3 (ink A + ink B) in total.
    """
    state, label, image, table, witness = open_image(key, index, images, tables, witnesses, slot)
    xs = np.zeros(6, dtype=np.int64)
    ys = np.zeros(6, dtype=np.int64)
    rotations = np.zeros(6)
    prototypes = np.zeros(6, dtype=np.int64)
    for _ in range(MAX_IMAGE_TRIES):
        reset(cv, table, witness)
        _, rot_a, a = new_shape(state, prm, 21.0, 2.0, 1.0)
        _, rot_b, b = new_shape(state, prm, 21.0, 2.0, 1.0)
        if label == 1:
            sprites = [a, a, a, b, b, b]
            rotations[:] = (rot_a, rot_a, rot_a, rot_b, rot_b, rot_b)
            prototypes[:] = (0, 0, 0, 1, 1, 1)
        else:
            rot_c = angle(state)
            target = (count_ink(a) + count_ink(b) + 1) // 2
            _, c = new_different_shape(state, prm, 21.0, 2.0, 1.0, rot_c, False, target)
            sprites = [a, a, c, b, b, c]
            rotations[:] = (rot_a, rot_a, rot_c, rot_b, rot_b, rot_c)
            prototypes[:] = (0, 0, 2, 1, 1, 2)
        if not place_shapes(state, cv, sprites, xs, ys):
            continue
        _record_shapes(table, sprites, xs, ys, rotations, prototypes)
        witness[0] = 2.0 if label == 1 else 3.0
        witness[1] = _min_centre_distance(xs, ys)
        finish_image(cv, image, table)
        return True
    return False


@cached_njit
def problem_15(
    key: np.uint64,
    index: int,
    prm: np.ndarray,
    cv: np.ndarray,
    images: np.ndarray,
    tables: np.ndarray,
    witnesses: np.ndarray,
    slot: int,
) -> bool:
    """Class 0: four different shapes at the corners of a square; class 1: four identical ones.

    The square has a uniform centre (among those that fit), a side uniform in [20 px, the
    largest that fits at its rotation] and a rotation uniform in [0, pi/2); corners are rounded
    to the nearest pixel.
    """
    state, label, image, table, witness = open_image(key, index, images, tables, witnesses, slot)
    size = get_size(prm)
    r = radius(prm, 10.0)
    min_side = position(prm, 20.0)
    xs = np.zeros(4, dtype=np.int64)
    ys = np.zeros(4, dtype=np.int64)
    dx = np.zeros(4)
    dy = np.zeros(4)
    rotations = np.zeros(4)
    prototypes = np.zeros(4, dtype=np.int64)
    for _ in range(MAX_IMAGE_TRIES):
        reset(cv, table, witness)
        sprites = _new_copies_or_different(state, prm, label, 4, rotations, prototypes)
        placed = False
        side = 0.0
        tilt = 0.0
        cx = 0
        cy = 0
        for _ in range(N_PLACE_TRIES):
            tilt = uniform(state, 0.0, 0.5 * math.pi)
            # Corner offsets span side * (cos + sin) on each axis; the bound keeps shapes of
            # radius r (plus the clear margin) inside the image.
            max_side = (size - 2.0 * (r + 2.0)) / (math.cos(tilt) + math.sin(tilt))
            if max_side < min_side:
                return False
            side = uniform(state, min_side, max_side)
            half = 0.5 * side
            for k in range(4):
                # Corners in turn around the square, so 0-2 and 1-3 are the diagonals.
                corner = tilt + (0.25 + 0.5 * k) * math.pi
                dx[k] = half * math.sqrt(2.0) * math.cos(corner)
                dy[k] = half * math.sqrt(2.0) * math.sin(corner)
            placed, cx, cy = _place_constellation(state, cv, sprites, dx, dy, xs, ys)
            if placed:
                break
        if not placed:
            continue
        _record_shapes(table, sprites, xs, ys, rotations, prototypes)
        worst = 0.0
        for k in range(4):
            worst = max(worst, distance(xs[k] - cx, ys[k] - cy, dx[k], dy[k]))
        witness[0] = side
        witness[1] = math.degrees(tilt)
        witness[2] = worst
        finish_image(cv, image, table)
        return True
    return False


@cached_njit
def problem_22(
    key: np.uint64,
    index: int,
    prm: np.ndarray,
    cv: np.ndarray,
    images: np.ndarray,
    tables: np.ndarray,
    witnesses: np.ndarray,
    slot: int,
) -> bool:
    """Class 0: three collinear different shapes; class 1: three collinear identical shapes.

    The line has a uniform direction; its length is uniform between 40 px and the longest that
    fits, and the middle shape stands at a uniform point at least 20 px from either end. The ends
    are whole pixels and the middle centre is rounded to one, at most 0.71 px off the line.
    """
    state, label, image, table, witness = open_image(key, index, images, tables, witnesses, slot)
    size = get_size(prm)
    r = radius(prm, 10.0)
    min_gap = position(prm, 20.0)
    xs = np.zeros(3, dtype=np.int64)
    ys = np.zeros(3, dtype=np.int64)
    dx = np.zeros(3)
    dy = np.zeros(3)
    rotations = np.zeros(3)
    prototypes = np.zeros(3, dtype=np.int64)
    for _ in range(MAX_IMAGE_TRIES):
        reset(cv, table, witness)
        sprites = _new_copies_or_different(state, prm, label, 3, rotations, prototypes)
        placed = False
        for _ in range(N_PLACE_TRIES):
            direction = angle(state)
            ux = math.cos(direction)
            uy = math.sin(direction)
            max_length = (size - 2.0 * (r + 2.0)) / max(abs(ux), abs(uy))
            if max_length < 2.0 * min_gap:
                return False
            length = uniform(state, 2.0 * min_gap, max_length)
            middle = uniform(state, min_gap, length - min_gap)
            # Whole-pixel ends keep the line exact, so only the middle centre is rounded off it.
            dx[2] = math.floor(length * ux + 0.5)
            dy[2] = math.floor(length * uy + 0.5)
            dx[1] = middle / length * dx[2]
            dy[1] = middle / length * dy[2]
            placed, _, _ = _place_constellation(state, cv, sprites, dx, dy, xs, ys)
            if placed:
                break
        if not placed:
            continue
        _record_shapes(table, sprites, xs, ys, rotations, prototypes)
        # Distance of the middle centre from the line through the outer two.
        ex = float(xs[2] - xs[0])
        ey = float(ys[2] - ys[0])
        cross = ex * (ys[1] - ys[0]) - ey * (xs[1] - xs[0])
        witness[0] = abs(cross) / math.sqrt(ex * ex + ey * ey)
        witness[1] = distance(xs[0], ys[0], xs[1], ys[1])
        witness[2] = distance(xs[1], ys[1], xs[2], ys[2])
        finish_image(cv, image, table)
        return True
    return False


KERNELS = {
    1: problem_1,
    5: problem_5,
    7: problem_7,
    15: problem_15,
    22: problem_22,
}
WITNESS_NAMES = {
    1: ("centre_distance",),
    5: ("n_distinct_shapes", "min_centre_distance"),
    7: ("n_distinct_shapes", "min_centre_distance"),
    15: ("side", "square_rotation_deg", "max_corner_error"),
    22: ("collinearity_deviation", "gap_01", "gap_12"),
}
