"""SVRT problems about touching chains, lines and repeated pairs: 3, 9, 13.

Each kernel draws image ``index`` of stream ``key`` (label ``index % 2``) into
``images[slot]``, its ground truth into ``tables[slot]`` (one row per shape, see
``generators.canvas``) and ``witnesses[slot]`` (the measured values the rule turns on, named in
``WITNESS_NAMES``); ``cv`` is scratch canvas. It returns False only if the parameters make the
image impossible. Shapes are drawn once per image; when they find no room, the layout is
drawn again (``N_LAYOUT_TRIES`` times) before the shapes are.
"""

from __future__ import annotations

import math

import numpy as np

from generators.canvas import (
    check_touch,
    find_position_in,
    finish_image,
    fits,
    get_centre_range,
    get_contour_distance,
    get_radius,
    get_reach,
    place_random,
    place_touching,
    record_shape,
    round_px,
    slide,
    stamp,
)
from generators.numba_cache import cached_njit
from generators.rng import angle, integer, uniform
from generators.sprites import FILL, HALO, get_contour_pixels, get_extent
from generators.svrt.common import (
    MAX_IMAGE_TRIES,
    N_PLACE_TRIES,
    distance,
    draw,
    get_size,
    margin,
    new_shape,
    open_image,
    position,
    reset,
)
from generators.svrt.containment import (
    BACKGROUND,
    N_LAYOUT_TRIES,
    SHAPE_0,
    SHAPE_1,
    SHAPE_2,
    SHAPE_3,
    UNMIRRORED,
    is_within_reach,
)


@cached_njit
def _is_clear(
    reach: tuple[np.ndarray, np.ndarray, float],
    x: int,
    y: int,
    pixels_a: np.ndarray,
    ax: int,
    ay: int,
    pixels_b: np.ndarray,
    bx: int,
    by: int,
    min_gap: float,
) -> bool:
    """Whether a contour (``get_reach`` of its pixels) at (x, y) is at least ``min_gap`` px
    from both contours a and b."""
    return not (
        is_within_reach(reach, x, y, pixels_a, ax, ay, min_gap)
        or is_within_reach(reach, x, y, pixels_b, bx, by, min_gap)
    )


@cached_njit
def _place_touching_clear(
    state: np.ndarray,
    cv: np.ndarray,
    mask: np.ndarray,
    pixels: np.ndarray,
    shape_id: int,
    target: int,
    tx: int,
    ty: int,
    target_pixels: np.ndarray,
    pixels_a: np.ndarray,
    ax: int,
    ay: int,
    pixels_b: np.ndarray,
    bx: int,
    by: int,
    min_gap: float,
) -> tuple[bool, int, int]:
    """``canvas.place_touching`` (contact with ``target`` and nothing else), starting just out
    of reach of the target rather than a sprite side away, and, when ``min_gap`` > 0, keeping
    the sprite at least ``min_gap`` px from contours a and b.
    """
    # Beyond the two radii (plus rounding and the halo) the start cannot touch the target.
    reach = get_radius(target_pixels) + get_radius(pixels) + 3.0
    own_reach = get_reach(pixels)
    for _ in range(N_PLACE_TRIES):
        direction = angle(state)
        x0 = tx + reach * math.cos(direction)
        y0 = ty + reach * math.sin(direction)
        n_fit, _, _, x, y = slide(
            cv, mask, pixels, x0, y0, direction + math.pi, BACKGROUND, int(2 * reach) + 4
        )
        if n_fit == 0 or x < 0:
            continue
        if not check_touch(cv, mask, x, y, BACKGROUND, target):
            continue
        if min_gap <= 0.0 or _is_clear(
            own_reach, x, y, pixels_a, ax, ay, pixels_b, bx, by, min_gap
        ):
            stamp(cv, mask, x, y, shape_id)
            return True, x, y
    return False, 0, 0


@cached_njit
def _place_touching(
    state: np.ndarray,
    cv: np.ndarray,
    mask: np.ndarray,
    pixels: np.ndarray,
    shape_id: int,
    target: int,
    tx: int,
    ty: int,
    target_pixels: np.ndarray,
) -> tuple[bool, int, int]:
    """``canvas.place_touching``, starting just out of reach of the target (see
    ``_place_touching_clear``) rather than a sprite side away."""
    reach = get_radius(target_pixels) + get_radius(pixels) + 3.0
    return place_touching(
        state, cv, mask, pixels, shape_id, target, tx, ty, reach, BACKGROUND, N_PLACE_TRIES
    )


@cached_njit
def _place_clear(
    state: np.ndarray,
    cv: np.ndarray,
    mask: np.ndarray,
    pixels: np.ndarray,
    shape_id: int,
    pixels_a: np.ndarray,
    ax: int,
    ay: int,
    pixels_b: np.ndarray,
    bx: int,
    by: int,
    pixels_c: np.ndarray,
    cx: int,
    cy: int,
    min_gap: float,
) -> tuple[bool, int, int]:
    """``place_random`` at least ``min_gap`` px from contours a, b and c (pass c = a for two)."""
    box = get_centre_range(mask, cv.shape[1])
    reach = get_reach(pixels)
    for _ in range(N_PLACE_TRIES):
        ok, x, y = find_position_in(state, cv, mask, BACKGROUND, box)
        if (
            ok
            and _is_clear(reach, x, y, pixels_a, ax, ay, pixels_b, bx, by, min_gap)
            and not is_within_reach(reach, x, y, pixels_c, cx, cy, min_gap)
        ):
            stamp(cv, mask, x, y, shape_id)
            return True, x, y
    return False, 0, 0


@cached_njit
def problem_3(
    key: np.uint64,
    index: int,
    prm: np.ndarray,
    cv: np.ndarray,
    images: np.ndarray,
    tables: np.ndarray,
    witnesses: np.ndarray,
    slot: int,
) -> bool:
    """Four shapes. Class 0: a chain of three touching shapes (0 touches 1, 1 touches 2; 0 and 2
    do not touch) and an isolated shape; class 1: two touching pairs (0-1, 2-3).

    In both classes the two groups are at least 16 px apart (contour to contour), so the
    classes differ only in how the contacts are grouped.
    """
    state, label, image, table, witness = open_image(key, index, images, tables, witnesses, slot)
    min_gap = margin(prm, 16.0)
    for _ in range(MAX_IMAGE_TRIES):
        reset(cv, table, witness)
        _, rot_0, s0 = new_shape(state, prm, 21.0, 2.0, 1.0)
        _, rot_1, s1 = new_shape(state, prm, 21.0, 2.0, 1.0)
        _, rot_2, s2 = new_shape(state, prm, 21.0, 2.0, 1.0)
        _, rot_3, s3 = new_shape(state, prm, 21.0, 2.0, 1.0)
        p0 = get_contour_pixels(s0)
        p1 = get_contour_pixels(s1)
        p2 = get_contour_pixels(s2)
        p3 = get_contour_pixels(s3)
        ok = False
        x0 = y0 = x1 = y1 = x2 = y2 = x3 = y3 = 0
        for _ in range(N_LAYOUT_TRIES):
            cv[:] = 0
            ok, x0, y0 = place_random(state, cv, s0, SHAPE_0, BACKGROUND, N_PLACE_TRIES)
            if not ok:
                continue
            ok, x1, y1 = _place_touching(state, cv, s1, p1, SHAPE_1, SHAPE_0, x0, y0, p0)
            if not ok:
                continue
            if label == 0:
                # Contact with shape 1 only: shape 2 stays clear of shape 0.
                ok, x2, y2 = _place_touching(state, cv, s2, p2, SHAPE_2, SHAPE_1, x1, y1, p1)
                if not ok:
                    continue
                ok, x3, y3 = _place_clear(
                    state, cv, s3, p3, SHAPE_3, p0, x0, y0, p1, x1, y1, p2, x2, y2, min_gap
                )
            else:
                ok, x2, y2 = _place_clear(
                    state, cv, s2, p2, SHAPE_2, p0, x0, y0, p1, x1, y1, p0, x0, y0, min_gap
                )
                if not ok:
                    continue
                ok, x3, y3 = _place_touching_clear(
                    state, cv, s3, p3, SHAPE_3, SHAPE_2, x2, y2, p2, p0, x0, y0, p1, x1, y1, min_gap
                )
            if ok:
                break
        if not ok:
            continue
        record_shape(table, SHAPE_0, s0, x0, y0, 1.0, rot_0, UNMIRRORED, SHAPE_0, BACKGROUND)
        record_shape(table, SHAPE_1, s1, x1, y1, 1.0, rot_1, UNMIRRORED, SHAPE_1, BACKGROUND)
        record_shape(table, SHAPE_2, s2, x2, y2, 1.0, rot_2, UNMIRRORED, SHAPE_2, BACKGROUND)
        record_shape(table, SHAPE_3, s3, x3, y3, 1.0, rot_3, UNMIRRORED, SHAPE_3, BACKGROUND)
        # The distance between the two groups: {0, 1, 2} and {3}, or {0, 1} and {2, 3}.
        group_distance = min(
            get_contour_distance(p3, x3, y3, p0, x0, y0),
            get_contour_distance(p3, x3, y3, p1, x1, y1),
        )
        if label == 0:
            group_distance = min(group_distance, get_contour_distance(p3, x3, y3, p2, x2, y2))
        else:
            group_distance = min(
                group_distance,
                get_contour_distance(p2, x2, y2, p0, x0, y0),
                get_contour_distance(p2, x2, y2, p1, x1, y1),
            )
        witness[0] = group_distance
        finish_image(cv, image, table)
        return True
    return False


@cached_njit
def _collide(mask_a: np.ndarray, ax: int, ay: int, mask_b: np.ndarray, bx: int, by: int) -> bool:
    """Whether two sprites at these centres come within 1 px of each other: ``fits`` of one
    after stamping the other, without a canvas (some fill pixel of a on b's halo).
    """
    ca = mask_a.shape[0] // 2
    cb = mask_b.shape[0] // 2
    x_lo = max(ax - ca, bx - cb)
    x_hi = min(ax + ca, bx + cb)
    y_lo = max(ay - ca, by - cb)
    y_hi = min(ay + ca, by + cb)
    for y in range(y_lo, y_hi + 1):
        for x in range(x_lo, x_hi + 1):
            if mask_a[y - ay + ca, x - ax + ca] & FILL and mask_b[y - by + cb, x - bx + cb] & HALO:
                return True
    return False


@cached_njit
def problem_9(
    key: np.uint64,
    index: int,
    prm: np.ndarray,
    cv: np.ndarray,
    images: np.ndarray,
    tables: np.ndarray,
    witnesses: np.ndarray,
    slot: int,
) -> bool:
    """Three collinear shapes: a big one (0) and two half-scale copies of it (1, 2; same
    rotation). Class 0: the big one in the middle; class 1: the big one at an end.

    The middle centre sits at a fraction uniform in [0.25, 0.75] along the segment joining the
    outer two (rounded to the pixel grid, so at most 0.71 px off the line).
    """
    state, label, image, table, witness = open_image(key, index, images, tables, witnesses, slot)
    size = get_size(prm)
    for _ in range(MAX_IMAGE_TRIES):
        reset(cv, table, witness)
        base, rotation, big = new_shape(state, prm, 21.0, 2.0, 1.0)
        small = draw(base, prm, 0.5, rotation, False)
        if label == 0:
            end, id_end, id_other, middle, id_middle = small, SHAPE_1, SHAPE_2, big, SHAPE_0
        else:
            end, id_end, id_other, middle, id_middle = big, SHAPE_0, SHAPE_1, small, SHAPE_2
        range_end = get_centre_range(end, size)
        range_other = get_centre_range(small, size)
        range_middle = get_centre_range(middle, size)
        ok = False
        xe = ye = xo = yo = xm = ym = 0
        # Positions are cheap to try (no shape is redrawn, nothing is drawn until all three
        # fit), so the whole layout is resampled until it fits.
        for _ in range(N_PLACE_TRIES * N_LAYOUT_TRIES):
            fraction = uniform(state, 0.25, 0.75)
            xe = integer(state, range_end[0], range_end[1])
            ye = integer(state, range_end[2], range_end[3])
            xo = integer(state, range_other[0], range_other[1])
            yo = integer(state, range_other[2], range_other[3])
            xm = round_px(xe + fraction * (xo - xe))
            ym = round_px(ye + fraction * (yo - ye))
            if (
                range_middle[0] <= xm <= range_middle[1]
                and range_middle[2] <= ym <= range_middle[3]
                and not _collide(end, xe, ye, small, xo, yo)
                and not _collide(middle, xm, ym, end, xe, ye)
                and not _collide(middle, xm, ym, small, xo, yo)
            ):
                ok = True
                break
        if not ok:
            continue
        stamp(cv, end, xe, ye, id_end)
        stamp(cv, small, xo, yo, id_other)
        stamp(cv, middle, xm, ym, id_middle)
        for shape_id, mask, x, y in (
            (id_end, end, xe, ye),
            (id_other, small, xo, yo),
            (id_middle, middle, xm, ym),
        ):
            scale = 1.0 if shape_id == 0 else 0.5
            record_shape(
                table, shape_id, mask, x, y, scale, rotation, UNMIRRORED, SHAPE_0, BACKGROUND
            )
        # The rounded middle centre, measured along and across the segment.
        length2 = float((xo - xe) ** 2 + (yo - ye) ** 2)
        witness[0] = ((xm - xe) * (xo - xe) + (ym - ye) * (yo - ye)) / length2
        witness[1] = abs((xm - xe) * (yo - ye) - (ym - ye) * (xo - xe)) / math.sqrt(length2)
        finish_image(cv, image, table)
        return True
    return False


@cached_njit
def _get_reach_box(
    target: np.ndarray, tx: int, ty: int, mask: np.ndarray, reach: float, size: int
) -> tuple[int, int, int, int]:
    """Centres (x_lo, x_hi, y_lo, y_hi) where the sprite's fill box comes within ``reach`` px
    (per axis) of the target's: every centre that puts the contours within ``reach`` is here.
    """
    t_x0, t_x1, t_y0, t_y1 = get_extent(target, FILL)
    s_x0, s_x1, s_y0, s_y1 = get_extent(mask, FILL)
    pad = math.ceil(reach)
    x_lo, x_hi, y_lo, y_hi = get_centre_range(mask, size)
    return (
        max(x_lo, tx + t_x0 - pad - s_x1),
        min(x_hi, tx + t_x1 + pad - s_x0),
        max(y_lo, ty + t_y0 - pad - s_y1),
        min(y_hi, ty + t_y1 + pad - s_y0),
    )


@cached_njit
def problem_13(
    key: np.uint64,
    index: int,
    prm: np.ndarray,
    cv: np.ndarray,
    images: np.ndarray,
    tables: np.ndarray,
    witnesses: np.ndarray,
    slot: int,
) -> bool:
    """Two copies of a big shape A (0, 2), each with a copy of a small shape B near it (1 near
    0, 3 near 2). Class 1: the second pair is a translated copy of the first (same offset
    B - A); class 0: the second B is at least 32 px (centre to centre) from where that
    translated copy would be.

    "Near" means a contour gap under 10 px (and, as everywhere, at least one clear pixel); each
    B is near its own A only, so the pairs are unambiguous.
    """
    state, label, image, table, witness = open_image(key, index, images, tables, witnesses, slot)
    near = position(prm, 10.0)
    min_offset = margin(prm, 32.0)
    size = get_size(prm)
    for _ in range(MAX_IMAGE_TRIES):
        reset(cv, table, witness)
        _, rot_a, a = new_shape(state, prm, 32.0, 16.0, 1.0)
        _, rot_b, b = new_shape(state, prm, 10.0, 5.0, 1.0)
        pa = get_contour_pixels(a)
        pb = get_contour_pixels(b)
        reach_b = get_reach(pb)
        range_a = get_centre_range(a, size)
        ok = False
        ax1 = ay1 = bx1 = by1 = ax2 = ay2 = bx2 = by2 = 0
        for _ in range(N_LAYOUT_TRIES):
            cv[:] = 0
            ax1 = integer(state, range_a[0], range_a[1])
            ay1 = integer(state, range_a[2], range_a[3])
            stamp(cv, a, ax1, ay1, SHAPE_0)
            box = _get_reach_box(a, ax1, ay1, b, near, size)
            ok = False
            for _ in range(N_PLACE_TRIES):
                fit, bx1, by1 = find_position_in(state, cv, b, BACKGROUND, box)
                if fit and is_within_reach(reach_b, bx1, by1, pa, ax1, ay1, near):
                    ok = True
                    break
            if not ok:
                continue
            stamp(cv, b, bx1, by1, SHAPE_1)
            ok = False
            for _ in range(N_PLACE_TRIES):
                fit, ax2, ay2 = find_position_in(state, cv, a, BACKGROUND, range_a)
                if fit and not is_within_reach(reach_b, bx1, by1, pa, ax2, ay2, near):
                    ok = True
                    break
            if not ok:
                continue
            stamp(cv, a, ax2, ay2, SHAPE_2)
            copy_x = ax2 + bx1 - ax1
            copy_y = ay2 + by1 - ay1
            if label == 1:
                bx2 = copy_x
                by2 = copy_y
                ok = fits(cv, b, bx2, by2, BACKGROUND) and not is_within_reach(
                    reach_b, bx2, by2, pa, ax1, ay1, near
                )
            else:
                box = _get_reach_box(a, ax2, ay2, b, near, size)
                ok = False
                for _ in range(N_PLACE_TRIES):
                    fit, bx2, by2 = find_position_in(state, cv, b, BACKGROUND, box)
                    if (
                        fit
                        and distance(bx2, by2, copy_x, copy_y) >= min_offset
                        and is_within_reach(reach_b, bx2, by2, pa, ax2, ay2, near)
                        and not is_within_reach(reach_b, bx2, by2, pa, ax1, ay1, near)
                    ):
                        ok = True
                        break
            if ok:
                stamp(cv, b, bx2, by2, SHAPE_3)
                break
        if not ok:
            continue
        record_shape(table, SHAPE_0, a, ax1, ay1, 1.0, rot_a, UNMIRRORED, SHAPE_0, BACKGROUND)
        record_shape(table, SHAPE_1, b, bx1, by1, 1.0, rot_b, UNMIRRORED, SHAPE_1, BACKGROUND)
        record_shape(table, SHAPE_2, a, ax2, ay2, 1.0, rot_a, UNMIRRORED, SHAPE_0, BACKGROUND)
        record_shape(table, SHAPE_3, b, bx2, by2, 1.0, rot_b, UNMIRRORED, SHAPE_1, BACKGROUND)
        witness[0] = distance(bx2 - ax2, by2 - ay2, bx1 - ax1, by1 - ay1)
        witness[1] = get_contour_distance(pb, bx1, by1, pa, ax1, ay1)
        witness[2] = get_contour_distance(pb, bx2, by2, pa, ax2, ay2)
        finish_image(cv, image, table)
        return True
    return False


KERNELS = {3: problem_3, 9: problem_9, 13: problem_13}
WITNESS_NAMES = {
    3: ("group_distance",),
    9: ("middle_fraction", "middle_off_line"),
    13: ("offset_error", "contour_distance_1", "contour_distance_2"),
}
