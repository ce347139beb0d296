"""SVRT problems about inside/outside and contact: 2, 4, 8, 11, 23.

Each kernel draws image ``index`` of stream ``key`` (label ``index % 2``) into
``images[slot]``, its ground truth into ``tables[slot]`` (one row per shape, see
``generators.canvas``) and ``witnesses[slot]`` (the measured values the rule turns on, named in
``WITNESS_NAMES``); ``cv`` is scratch canvas. It returns False only if the parameters make the
image impossible.
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np

from generators.canvas import (
    draw_centre_in,
    find_position,
    find_position_in,
    finish_image,
    fits,
    get_centre_range,
    get_contour_distance,
    get_nearest2,
    get_reach,
    place_random,
    place_touching,
    record_shape,
    slide,
    stamp,
)
from generators.numba_cache import cached_njit
from generators.rng import angle, uniform
from generators.sprites import FILL, count_ink, get_contour_pixels, get_extent
from generators.svrt.common import (
    MAX_IMAGE_TRIES,
    N_PLACE_TRIES,
    draw,
    get_size,
    is_balanced,
    margin,
    new_different_shape,
    new_shape,
    open_image,
    reset,
)

# Times the big shape is moved before a whole image (with its costly 48 px contour) is redrawn,
# when the small shapes find no room outside it.
N_LAYOUT_TRIES = 20


@cached_njit
def problem_4(
    key: np.uint64,
    index: int,
    prm: np.ndarray,
    cv: np.ndarray,
    images: np.ndarray,
    tables: np.ndarray,
    witnesses: np.ndarray,
    slot: int,
) -> bool:
    """Class 0: small shape outside the big one; class 1: inside it."""
    state, label, image, table, witness = open_image(key, index, images, tables, witnesses, slot)
    for _ in range(MAX_IMAGE_TRIES):
        reset(cv, table, witness)
        _, rot_big, big = new_shape(state, prm, 48.0, 21.0, 1.0)
        _, rot_small, small = new_shape(state, prm, 10.0, 1.0, 1.0)
        ok, bx, by = place_random(state, cv, big, 0, -1, N_PLACE_TRIES)
        if not ok:
            continue
        container = 0 if label == 1 else -1
        ok, sx, sy = place_random(state, cv, small, 1, container, N_PLACE_TRIES)
        if not ok:
            continue
        record_shape(table, 0, big, bx, by, 1.0, rot_big, False, 0, -1)
        record_shape(table, 1, small, sx, sy, 1.0, rot_small, False, 1, container)
        witness[0] = get_contour_distance(
            get_contour_pixels(small), sx, sy, get_contour_pixels(big), bx, by
        )
        finish_image(cv, image, table)
        return True
    return False


@cached_njit
def problem_11(
    key: np.uint64,
    index: int,
    prm: np.ndarray,
    cv: np.ndarray,
    images: np.ndarray,
    tables: np.ndarray,
    witnesses: np.ndarray,
    slot: int,
) -> bool:
    """Class 0: small shape at least 10 px from the big one; class 1: touching it from outside."""
    state, label, image, table, witness = open_image(key, index, images, tables, witnesses, slot)
    min_gap = margin(prm, 10.0)
    for _ in range(MAX_IMAGE_TRIES):
        reset(cv, table, witness)
        _, rot_big, big = new_shape(state, prm, 48.0, 16.0, 1.0)
        _, rot_small, small = new_shape(state, prm, 21.0, 7.0, 1.0)
        ok, bx, by = place_random(state, cv, big, 0, -1, N_PLACE_TRIES)
        if not ok:
            continue
        big_pixels = get_contour_pixels(big)
        small_pixels = get_contour_pixels(small)
        if label == 1:
            reach = 0.5 * (big.shape[0] + small.shape[0]) + 2.0
            ok, sx, sy = place_touching(
                state, cv, small, small_pixels, 1, 0, float(bx), float(by), reach, -1, N_PLACE_TRIES
            )
            if not ok:
                continue
            gap = get_contour_distance(small_pixels, sx, sy, big_pixels, bx, by)
        else:
            ok = False
            sx = 0
            sy = 0
            gap = 0.0
            for _ in range(N_PLACE_TRIES):
                ok, sx, sy = find_position(state, cv, small, -1)
                if ok:
                    gap = get_contour_distance(small_pixels, sx, sy, big_pixels, bx, by)
                    if gap >= min_gap:
                        break
                ok = False
            if not ok:
                continue
            stamp(cv, small, sx, sy, 1)
        record_shape(table, 0, big, bx, by, 1.0, rot_big, False, 0, -1)
        record_shape(table, 1, small, sx, sy, 1.0, rot_small, False, 1, -1)
        witness[0] = gap
        finish_image(cv, image, table)
        return True
    return False


# numba compiles a called function once for every distinct literal argument (a plain 0, 1 or
# -1), so problems 2, 3, 8, 9, 13 and 23 pass shape ids and containers as numpy integers: one
# compilation then serves every call.
SHAPE_0, SHAPE_1, SHAPE_2, SHAPE_3 = (cast(int, np.int64(i)) for i in range(4))
BACKGROUND = cast(int, np.int64(-1))
UNMIRRORED = cast(bool, np.bool_(False))

# Placement helpers for problems 2, 8, 23 (and 3, 13 in ``composites``); candidates for
# ``common``, kept here because that file is shared.


@cached_njit
def get_inner_box(
    container: np.ndarray, ccx: int, ccy: int, mask: np.ndarray, size: int, inset: int
) -> tuple[int, int, int, int]:
    """Centres (x_lo, x_hi, y_lo, y_hi) that keep the sprite's fill box inside the container's
    box shrunk by ``inset`` px on every side.

    With ``inset`` = 0, every centre where the sprite fits inside the container (at
    ``ccx, ccy``) is in this box, so sampling it uniformly and rejecting is uniform over the
    fitting centres, like ``find_position``, only with far fewer rejections. A sprite whose
    contour must stay ``d`` px from the container's may take ``inset`` = ceil(d): a row (or
    column) from any of its pixels meets the container's contour before leaving its box, so
    every contour pixel is at least ``d`` px inside that box. The box is clipped to the image.
    """
    t_x0, t_x1, t_y0, t_y1 = get_extent(container, FILL)
    s_x0, s_x1, s_y0, s_y1 = get_extent(mask, FILL)
    x_lo, x_hi, y_lo, y_hi = get_centre_range(mask, size)
    return (
        max(x_lo, ccx + t_x0 + inset - s_x0),
        min(x_hi, ccx + t_x1 - inset - s_x1),
        max(y_lo, ccy + t_y0 + inset - s_y0),
        min(y_hi, ccy + t_y1 - inset - s_y1),
    )


@cached_njit
def place_inside(
    state: np.ndarray,
    cv: np.ndarray,
    mask: np.ndarray,
    shape_id: int,
    container: int,
    container_mask: np.ndarray,
    ccx: int,
    ccy: int,
    n_tries: int,
) -> tuple[bool, int, int]:
    """``place_random`` inside a container shape, drawing centres from its box only."""
    box = get_inner_box(container_mask, ccx, ccy, mask, cv.shape[1], 0)
    for _ in range(n_tries):
        ok, cx, cy = find_position_in(state, cv, mask, container, box)
        if ok:
            stamp(cv, mask, cx, cy, shape_id)
            return True, cx, cy
    return False, 0, 0


@cached_njit
def place_in_or_out(
    state: np.ndarray,
    cv: np.ndarray,
    mask: np.ndarray,
    shape_id: int,
    inside: bool,
    big: np.ndarray,
    bx: int,
    by: int,
) -> tuple[bool, int, int]:
    """Place a small shape inside the big shape 0 at (bx, by), or anywhere on the background."""
    if inside:
        return place_inside(state, cv, mask, shape_id, SHAPE_0, big, bx, by, N_PLACE_TRIES)
    return place_random(state, cv, mask, shape_id, BACKGROUND, N_PLACE_TRIES)


@cached_njit
def is_within_reach(
    reach_a: tuple[np.ndarray, np.ndarray, float],
    ax: int,
    ay: int,
    pixels_b: np.ndarray,
    bx: int,
    by: int,
    gap: float,
) -> bool:
    """Whether two contours, a (``get_reach`` of its ``[n, 2]`` offsets) at centre a and b at
    centre b, come closer than ``gap`` px.

    Equivalent to ``get_contour_distance(...) < gap``, but a pixel of b farther than
    ``gap + radius(a)`` from a's centre cannot be within ``gap`` of a (triangle inequality), so
    only the few pixels of b facing a are compared with a, and the scan stops at the first
    that comes close. Each comparison is a branch-free pass over a's columns
    (``get_nearest2``), which the compiler vectorises.
    """
    xs_a, ys_a, radius_a = reach_a
    reach = gap + radius_a
    reach2 = reach * reach
    gap2 = gap * gap
    for j in range(pixels_b.shape[0]):
        qx = bx + pixels_b[j, 0] - ax
        qy = by + pixels_b[j, 1] - ay
        if qx * qx + qy * qy >= reach2:
            continue
        if get_nearest2(xs_a, ys_a, qx, qy, 2**62) < gap2:
            return True
    return False


@cached_njit
def problem_2(
    key: np.uint64,
    index: int,
    prm: np.ndarray,
    cv: np.ndarray,
    images: np.ndarray,
    tables: np.ndarray,
    witnesses: np.ndarray,
    slot: int,
) -> bool:
    """Small shape inside the big one. Class 0: at least 16 px from its contour (contour to
    contour); class 1: right against it, with exactly one clear pixel between the contours
    (Chebyshev gap 2, so the Euclidean contour distance is 2 to 2.83 px).

    Only some big shapes leave room for class 0 (the wider the margin, the fewer), so class 1
    takes the same big shapes: it starts from a class-0 position and slides outwards. Big
    shapes thus look the same in both classes.
    """
    state, label, image, table, witness = open_image(key, index, images, tables, witnesses, slot)
    min_gap = margin(prm, 16.0)
    size = get_size(prm)
    for _ in range(MAX_IMAGE_TRIES):
        reset(cv, table, witness)
        _, rot_big, big = new_shape(state, prm, 48.0, 21.0, 1.0)
        _, rot_small, small = new_shape(state, prm, 10.0, 1.0, 1.0)
        ok, bx, by = place_random(state, cv, big, SHAPE_0, BACKGROUND, N_PLACE_TRIES)
        if not ok:
            continue
        big_pixels = get_contour_pixels(big)
        small_pixels = get_contour_pixels(small)
        # The band of the box within min_gap of its edges holds no class-0 position.
        box = get_inner_box(big, bx, by, small, size, math.ceil(min_gap))
        small_reach = get_reach(small_pixels)
        ok = False
        sx = 0
        sy = 0
        for _ in range(N_PLACE_TRIES):
            # Nearly every centre drawn (97%) is too near the contour, and that test is the
            # cheaper, so it goes before the fit test: the draws and the outcome are the same.
            ok, sx, sy = draw_centre_in(state, box)
            if (
                ok
                and not is_within_reach(small_reach, sx, sy, big_pixels, bx, by, min_gap)
                and fits(cv, small, sx, sy, SHAPE_0)
            ):
                break
            ok = False
        if not ok:
            continue
        if label == 1:
            # Walk outwards until the next step would come within 1 px of the contour: the
            # last fitting position keeps exactly one clear pixel.
            _, sx, sy, block_x, _ = slide(
                cv, small, small_pixels, float(sx), float(sy), angle(state), SHAPE_0, 4 * size
            )
            if block_x < 0:
                continue
        stamp(cv, small, sx, sy, SHAPE_1)
        record_shape(table, SHAPE_0, big, bx, by, 1.0, rot_big, UNMIRRORED, SHAPE_0, BACKGROUND)
        record_shape(table, SHAPE_1, small, sx, sy, 1.0, rot_small, UNMIRRORED, SHAPE_1, SHAPE_0)
        witness[0] = get_contour_distance(small_pixels, sx, sy, big_pixels, bx, by)
        finish_image(cv, image, table)
        return True
    return False


@cached_njit
def problem_8(
    key: np.uint64,
    index: int,
    prm: np.ndarray,
    cv: np.ndarray,
    images: np.ndarray,
    tables: np.ndarray,
    witnesses: np.ndarray,
    slot: int,
) -> bool:
    """Big shape and a small one. Class 1: the small one is the big one's contour at half scale
    (same rotation), inside it. Class 0, with equal odds: a different shape (a big-size
    contour drawn at half scale) inside, or the half-scale copy outside.
    """
    state, label, image, table, witness = open_image(key, index, images, tables, witnesses, slot)
    for _ in range(MAX_IMAGE_TRIES):
        reset(cv, table, witness)
        base, rot_big, big = new_shape(state, prm, 48.0, 21.0, 1.0)
        inside = label == 1 or uniform(state, 0.0, 1.0) < 0.5
        copy = label == 1 or not inside
        if copy:
            rot_small = rot_big
            small = draw(base, prm, 0.5, rot_big, False)
        else:
            rot_small = angle(state)
            # Only balanced mode needs the copy's ink, and drawing it costs a rasterisation.
            target_ink = count_ink(draw(base, prm, 0.5, rot_big, False)) if is_balanced(prm) else 0
            _, small = new_different_shape(
                state, prm, 48.0, 21.0, 0.5, rot_small, False, target_ink
            )
        ok = False
        bx = by = sx = sy = 0
        for _ in range(N_LAYOUT_TRIES):
            cv[:] = 0
            ok, bx, by = place_random(state, cv, big, SHAPE_0, BACKGROUND, N_PLACE_TRIES)
            if not ok:
                continue
            ok, sx, sy = place_in_or_out(state, cv, small, SHAPE_1, inside, big, bx, by)
            if ok:
                break
        if not ok:
            continue
        container = SHAPE_0 if inside else BACKGROUND
        record_shape(table, SHAPE_0, big, bx, by, 1.0, rot_big, UNMIRRORED, SHAPE_0, BACKGROUND)
        prototype = SHAPE_0 if copy else SHAPE_1
        record_shape(
            table, SHAPE_1, small, sx, sy, 0.5, rot_small, UNMIRRORED, prototype, container
        )
        witness[0] = 1.0 if inside else 0.0
        witness[1] = 1.0 if copy else 0.0
        witness[2] = get_contour_distance(
            get_contour_pixels(small), sx, sy, get_contour_pixels(big), bx, by
        )
        finish_image(cv, image, table)
        return True
    return False


@cached_njit
def problem_23(
    key: np.uint64,
    index: int,
    prm: np.ndarray,
    cv: np.ndarray,
    images: np.ndarray,
    tables: np.ndarray,
    witnesses: np.ndarray,
    slot: int,
) -> bool:
    """Big shape and two small ones. Class 0: both small shapes inside it or both outside
    (equal odds); class 1: one inside and one outside (which one is a coin toss).
    """
    state, label, image, table, witness = open_image(key, index, images, tables, witnesses, slot)
    for _ in range(MAX_IMAGE_TRIES):
        reset(cv, table, witness)
        _, rot_big, big = new_shape(state, prm, 48.0, 21.0, 1.0)
        _, rot_1, small_1 = new_shape(state, prm, 10.0, 1.0, 1.0)
        _, rot_2, small_2 = new_shape(state, prm, 10.0, 1.0, 1.0)
        first_inside = uniform(state, 0.0, 1.0) < 0.5
        second_inside = first_inside if label == 0 else not first_inside
        ok = False
        bx = by = x1 = y1 = x2 = y2 = 0
        for _ in range(N_LAYOUT_TRIES):
            cv[:] = 0
            ok, bx, by = place_random(state, cv, big, SHAPE_0, BACKGROUND, N_PLACE_TRIES)
            if not ok:
                continue
            ok, x1, y1 = place_in_or_out(state, cv, small_1, SHAPE_1, first_inside, big, bx, by)
            if not ok:
                continue
            ok, x2, y2 = place_in_or_out(state, cv, small_2, SHAPE_2, second_inside, big, bx, by)
            if ok:
                break
        if not ok:
            continue
        big_pixels = get_contour_pixels(big)
        record_shape(table, SHAPE_0, big, bx, by, 1.0, rot_big, UNMIRRORED, SHAPE_0, BACKGROUND)
        container_1 = SHAPE_0 if first_inside else BACKGROUND
        container_2 = SHAPE_0 if second_inside else BACKGROUND
        record_shape(table, SHAPE_1, small_1, x1, y1, 1.0, rot_1, UNMIRRORED, SHAPE_1, container_1)
        record_shape(table, SHAPE_2, small_2, x2, y2, 1.0, rot_2, UNMIRRORED, SHAPE_2, container_2)
        witness[0] = (1.0 if first_inside else 0.0) + (1.0 if second_inside else 0.0)
        witness[1] = get_contour_distance(get_contour_pixels(small_1), x1, y1, big_pixels, bx, by)
        witness[2] = get_contour_distance(get_contour_pixels(small_2), x2, y2, big_pixels, bx, by)
        finish_image(cv, image, table)
        return True
    return False


KERNELS = {2: problem_2, 4: problem_4, 8: problem_8, 11: problem_11, 23: problem_23}
WITNESS_NAMES = {
    2: ("contour_distance",),
    4: ("contour_distance",),
    8: ("inside", "copy", "contour_distance"),
    11: ("contour_distance",),
    23: ("n_inside", "contour_distance_1", "contour_distance_2"),
}
