"""SVRT problems about where copies of shapes stand: 6, 10, 12, 14, 17.

Each kernel draws image ``index`` of stream ``key`` (label ``index % 2``) into
``images[slot]``, its ground truth into ``tables[slot]`` (one row per shape, see
``generators.canvas``) and ``witnesses[slot]`` (the measured values the rule turns on, named in
``WITNESS_NAMES``); ``cv`` is scratch canvas. It returns False only if the parameters make the
image impossible. Layouts (pairs, squares, circles, lines) are drawn as float centres,
rounded to pixels, and redrawn locally when a shape does not fit.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from generators.canvas import (
    find_position,
    finish_image,
    fits,
    place_at,
    place_random,
    record_shape,
    round_px,
    stamp,
)
from generators.numba_cache import cached_njit
from generators.rng import angle, uniform
from generators.sprites import count_ink
from generators.svrt.common import (
    MAX_IMAGE_TRIES,
    N_PLACE_TRIES,
    distance,
    get_size,
    margin,
    new_different_shape,
    new_shape,
    open_image,
    position,
    reset,
)


@cached_njit
def _place_partner(
    state: np.ndarray,
    cv: np.ndarray,
    mask: np.ndarray,
    shape_id: int,
    x: int,
    y: int,
    gap: float,
) -> tuple[bool, int, int]:
    """Place a sprite with its centre ``gap`` px from (x, y), in a random direction.

    Among the fitting directions tried, keep one whose rounded centre is within 0.5 px of the
    requested distance, so that pairs meant to match do so to the pixel.
    """
    for _ in range(N_PLACE_TRIES):
        direction = angle(state)
        px = round_px(x + gap * math.cos(direction))
        py = round_px(y + gap * math.sin(direction))
        if abs(distance(x, y, px, py) - gap) > 0.5:
            continue
        if place_at(cv, mask, px, py, shape_id, -1):
            return True, px, py
    return False, 0, 0


@cached_njit
def problem_6(
    key: np.uint64,
    index: int,
    prm: np.ndarray,
    cv: np.ndarray,
    images: np.ndarray,
    tables: np.ndarray,
    witnesses: np.ndarray,
    slot: int,
) -> bool:
    """Two pairs of identical shapes; class 1 iff both pairs have the same within-pair distance.

    Class 0 distances differ by at least 21 px (the spec's rejection threshold).
    """
    state, label, image, table, witness = open_image(key, index, images, tables, witnesses, slot)
    min_gap = position(prm, 24.0)
    max_gap = position(prm, 90.0)
    min_diff = margin(prm, 21.0)
    for _ in range(MAX_IMAGE_TRIES):
        reset(cv, table, witness)
        _, rot_a, a = new_shape(state, prm, 10.0, 1.0, 1.0)
        _, rot_b, b = new_shape(state, prm, 10.0, 1.0, 1.0)
        gap_a = uniform(state, min_gap, max_gap)
        if label == 1:
            gap_b = gap_a
        else:
            # Uniform over the allowed range minus the band |gap_b - gap_a| < min_diff.
            low_span = max(0.0, gap_a - min_diff - min_gap)
            high_span = max(0.0, max_gap - gap_a - min_diff)
            if low_span + high_span <= 0.0:
                continue
            u = uniform(state, 0.0, low_span + high_span)
            gap_b = min_gap + u if u < low_span else gap_a + min_diff + (u - low_span)
        ok, ax1, ay1 = place_random(state, cv, a, 0, -1, N_PLACE_TRIES)
        if not ok:
            continue
        ok, ax2, ay2 = _place_partner(state, cv, a, 1, ax1, ay1, gap_a)
        if not ok:
            continue
        ok, bx1, by1 = place_random(state, cv, b, 2, -1, N_PLACE_TRIES)
        if not ok:
            continue
        ok, bx2, by2 = _place_partner(state, cv, b, 3, bx1, by1, gap_b)
        if not ok:
            continue
        record_shape(table, 0, a, ax1, ay1, 1.0, rot_a, False, 0, -1)
        record_shape(table, 1, a, ax2, ay2, 1.0, rot_a, False, 0, -1)
        record_shape(table, 2, b, bx1, by1, 1.0, rot_b, False, 2, -1)
        record_shape(table, 3, b, bx2, by2, 1.0, rot_b, False, 2, -1)
        witness[0] = distance(ax1, ay1, ax2, ay2)
        witness[1] = distance(bx1, by1, bx2, by2)
        witness[2] = abs(witness[0] - witness[1])
        finish_image(cv, image, table)
        return True
    return False


@cached_njit
def _square_corners(state: np.ndarray, prm: np.ndarray, extent: int) -> np.ndarray:
    """Four rounded corners of a random square that keeps ``extent`` px clear of the border."""
    size = get_size(prm)
    corners = np.empty((4, 2), dtype=np.int64)
    low = float(extent + 1)
    high = float(size - 2 - extent)
    side = uniform(state, position(prm, 2.0 * 10.0 + 6.0), max(high - low, 1.0))
    half_diagonal = side / math.sqrt(2.0)
    if low + half_diagonal > high - half_diagonal:
        corners[:] = -1
        return corners
    cx = uniform(state, low + half_diagonal, high - half_diagonal)
    cy = uniform(state, low + half_diagonal, high - half_diagonal)
    theta = angle(state)
    for k in range(4):
        corners[k, 0] = round_px(cx + half_diagonal * math.cos(theta + k * 0.5 * math.pi))
        corners[k, 1] = round_px(cy + half_diagonal * math.sin(theta + k * 0.5 * math.pi))
    return corners


@cached_njit
def problem_10(
    key: np.uint64,
    index: int,
    prm: np.ndarray,
    cv: np.ndarray,
    images: np.ndarray,
    tables: np.ndarray,
    witnesses: np.ndarray,
    slot: int,
) -> bool:
    """Four identical shapes: class 0 at random positions, class 1 at a square's corners."""
    state, label, image, table, witness = open_image(key, index, images, tables, witnesses, slot)
    for _ in range(MAX_IMAGE_TRIES):
        reset(cv, table, witness)
        _, rot, a = new_shape(state, prm, 10.0, 1.0, 1.0)
        xs = np.empty(4, dtype=np.int64)
        ys = np.empty(4, dtype=np.int64)
        ok = True
        if label == 1:
            corners = _square_corners(state, prm, a.shape[0] // 2)
            for k in range(4):
                ok = corners[k, 0] >= 0 and place_at(cv, a, corners[k, 0], corners[k, 1], k, -1)
                if not ok:
                    break
                xs[k] = corners[k, 0]
                ys[k] = corners[k, 1]
        else:
            for k in range(4):
                ok, xs[k], ys[k] = place_random(state, cv, a, k, -1, N_PLACE_TRIES)
                if not ok:
                    break
        if not ok:
            continue
        for k in range(4):
            record_shape(table, k, a, xs[k], ys[k], 1.0, rot, False, 0, -1)
        witness[0] = _square_error(xs, ys)
        finish_image(cv, image, table)
        return True
    return False


@cached_njit
def _square_error(xs: np.ndarray, ys: np.ndarray) -> float:
    """How far (px) four points are from the best square through their centroid.

    Sorted by angle around the centroid, a square's points are its centroid plus a vector
    rotated by 90 degrees each step; the error is the mean distance to that ideal.
    """
    mx = xs.mean()
    my = ys.mean()
    angles = np.empty(4)
    for k in range(4):
        angles[k] = math.atan2(ys[k] - my, xs[k] - mx)
    order = np.argsort(angles)
    # Average the corner vectors after rotating each back by its step of 90 degrees.
    vx = 0.0
    vy = 0.0
    for step in range(4):
        k = order[step]
        dx = xs[k] - mx
        dy = ys[k] - my
        t = -step * 0.5 * math.pi
        vx += dx * math.cos(t) - dy * math.sin(t)
        vy += dx * math.sin(t) + dy * math.cos(t)
    vx /= 4.0
    vy /= 4.0
    error = 0.0
    for step in range(4):
        k = order[step]
        t = step * 0.5 * math.pi
        ix = mx + vx * math.cos(t) - vy * math.sin(t)
        iy = my + vx * math.sin(t) + vy * math.cos(t)
        error += distance(xs[k], ys[k], ix, iy)
    return error / 4.0


@cached_njit
def problem_12(
    key: np.uint64,
    index: int,
    prm: np.ndarray,
    cv: np.ndarray,
    images: np.ndarray,
    tables: np.ndarray,
    witnesses: np.ndarray,
    slot: int,
) -> bool:
    """Three shapes on a circle: two small (10, h 5) and a big one (21, h 10).

    Two of them stand close together (an angular gap uniform in [0.1 pi, 0.5 pi]) and the
    third opposite their midpoint. Class 0: the close pair is one small + the big one;
    class 1: the close pair is the two small shapes.
    """
    state, label, image, table, witness = open_image(key, index, images, tables, witnesses, slot)
    size = get_size(prm)
    for _ in range(MAX_IMAGE_TRIES):
        reset(cv, table, witness)
        _, rot_s1, s1 = new_shape(state, prm, 10.0, 5.0, 1.0)
        _, rot_s2, s2 = new_shape(state, prm, 10.0, 5.0, 1.0)
        _, rot_big, big = new_shape(state, prm, 21.0, 10.0, 1.0)
        ok = False
        xs = np.empty(3, dtype=np.int64)
        ys = np.empty(3, dtype=np.int64)
        for _ in range(N_PLACE_TRIES):
            circle = uniform(state, 0.1, 0.6) * size
            cx = uniform(state, 0.25, 0.75) * size
            cy = uniform(state, 0.25, 0.75) * size
            gap = uniform(state, 0.1 * math.pi, 0.5 * math.pi)
            start = angle(state)
            # Slots 0 and 1 are the close pair, slot 2 is opposite their midpoint.
            slot_angles = (start, start + gap, start + 0.5 * gap + math.pi)
            # Shape ids: 0, 1 small, 2 big. Which slot each one takes depends on the class.
            slots = (0, 1, 2) if label == 1 else (0, 2, 1)
            ok = True
            for shape_id in range(3):
                t = slot_angles[slots[shape_id]]
                xs[shape_id] = round_px(cx + circle * math.cos(t))
                ys[shape_id] = round_px(cy + circle * math.sin(t))
            sprites = (s1, s2, big)
            for shape_id in range(3):
                if not fits(cv, sprites[shape_id], xs[shape_id], ys[shape_id], -1):
                    ok = False
                    break
                stamp(cv, sprites[shape_id], xs[shape_id], ys[shape_id], shape_id)
            if ok:
                witness[0] = circle
                witness[1] = gap
                break
            cv[:] = 0
        if not ok:
            continue
        record_shape(table, 0, s1, xs[0], ys[0], 1.0, rot_s1, False, 0, -1)
        record_shape(table, 1, s2, xs[1], ys[1], 1.0, rot_s2, False, 1, -1)
        record_shape(table, 2, big, xs[2], ys[2], 1.0, rot_big, False, 2, -1)
        witness[2] = distance(xs[0], ys[0], xs[1], ys[1])
        witness[3] = min(distance(xs[0], ys[0], xs[2], ys[2]), distance(xs[1], ys[1], xs[2], ys[2]))
        finish_image(cv, image, table)
        return True
    return False


@cached_njit
def _segment_distance(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> float:
    """Distance (px) from point p to the segment [a, b]."""
    dx = bx - ax
    dy = by - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0.0 else ((px - ax) * dx + (py - ay) * dy) / length2
    t = min(1.0, max(0.0, t))
    return distance(px, py, ax + t * dx, ay + t * dy)


@cached_njit
def _alignment(xs: np.ndarray, ys: np.ndarray) -> float:
    """The smallest distance of one centre to the segment joining the other two (px)."""
    best = 1e18
    for k in range(3):
        i = (k + 1) % 3
        j = (k + 2) % 3
        best = min(best, _segment_distance(xs[k], ys[k], xs[i], ys[i], xs[j], ys[j]))
    return best


@cached_njit
def problem_14(
    key: np.uint64,
    index: int,
    prm: np.ndarray,
    cv: np.ndarray,
    images: np.ndarray,
    tables: np.ndarray,
    witnesses: np.ndarray,
    slot: int,
) -> bool:
    """Three identical shapes: class 1 aligned, class 0 none within 6.4 px of the segment
    joining the other two."""
    state, label, image, table, witness = open_image(key, index, images, tables, witnesses, slot)
    size = get_size(prm)
    tolerance = margin(prm, 6.4)
    for _ in range(MAX_IMAGE_TRIES):
        reset(cv, table, witness)
        _, rot, a = new_shape(state, prm, 10.0, 1.0, 1.0)
        xs = np.empty(3, dtype=np.int64)
        ys = np.empty(3, dtype=np.int64)
        ok = False
        if label == 1:
            for _ in range(N_PLACE_TRIES):
                x0 = uniform(state, 0.0, size)
                y0 = uniform(state, 0.0, size)
                direction = angle(state)
                t1 = uniform(state, position(prm, 22.0), position(prm, 60.0))
                t2 = t1 + uniform(state, position(prm, 22.0), position(prm, 60.0))
                for k, t in enumerate((0.0, t1, t2)):
                    xs[k] = round_px(x0 + t * math.cos(direction))
                    ys[k] = round_px(y0 + t * math.sin(direction))
                ok = True
                for k in range(3):
                    if not fits(cv, a, xs[k], ys[k], -1):
                        ok = False
                        break
                    stamp(cv, a, xs[k], ys[k], k)
                if ok:
                    break
                cv[:] = 0
        else:
            ok, xs[0], ys[0] = place_random(state, cv, a, 0, -1, N_PLACE_TRIES)
            ok = ok and place_random_into(state, cv, a, 1, xs, ys)
            if ok:
                ok = False
                for _ in range(N_PLACE_TRIES):
                    found, xs[2], ys[2] = find_position(state, cv, a, -1)
                    if found and _alignment(xs, ys) >= tolerance:
                        stamp(cv, a, xs[2], ys[2], 2)
                        ok = True
                        break
        if not ok:
            continue
        for k in range(3):
            record_shape(table, k, a, xs[k], ys[k], 1.0, rot, False, 0, -1)
        witness[0] = _alignment(xs, ys)
        finish_image(cv, image, table)
        return True
    return False


@cached_njit
def place_random_into(
    state: np.ndarray, cv: np.ndarray, mask: np.ndarray, shape_id: int, xs: Any, ys: Any
) -> bool:
    """``place_random`` storing the centre into ``xs[shape_id]``, ``ys[shape_id]``."""
    ok, x, y = place_random(state, cv, mask, shape_id, -1, N_PLACE_TRIES)
    xs[shape_id] = x
    ys[shape_id] = y
    return ok


@cached_njit
def problem_17(
    key: np.uint64,
    index: int,
    prm: np.ndarray,
    cv: np.ndarray,
    images: np.ndarray,
    tables: np.ndarray,
    witnesses: np.ndarray,
    slot: int,
) -> bool:
    """Three identical shapes and a different one: class 1 with the odd shape at the three's
    circumcentre, class 0 at least 21 px from it."""
    state, label, image, table, witness = open_image(key, index, images, tables, witnesses, slot)
    min_offset = margin(prm, 21.0)
    for _ in range(MAX_IMAGE_TRIES):
        reset(cv, table, witness)
        _, rot_a, a = new_shape(state, prm, 10.0, 1.0, 1.0)
        rot_b = angle(state)
        _, b = new_different_shape(state, prm, 10.0, 1.0, 1.0, rot_b, False, count_ink(a))
        xs = np.empty(4, dtype=np.int64)
        ys = np.empty(4, dtype=np.int64)
        ux = 0.0
        uy = 0.0
        ok = False
        # Only the layout is retried here: the shapes stay, which keeps this problem fast.
        for _ in range(N_PLACE_TRIES):
            cv[:] = 0
            ok = True
            for k in range(3):
                ok = place_random_into(state, cv, a, k, xs, ys)
                if not ok:
                    break
            if not ok:
                continue
            found, ux, uy = _circumcentre(xs, ys)
            if not found:
                ok = False
                continue
            if label == 1:
                xs[3] = round_px(ux)
                ys[3] = round_px(uy)
                ok = place_at(cv, b, xs[3], ys[3], 3, -1)
            else:
                ok = False
                for _ in range(N_PLACE_TRIES):
                    found, xs[3], ys[3] = find_position(state, cv, b, -1)
                    if found and distance(xs[3], ys[3], ux, uy) >= min_offset:
                        stamp(cv, b, xs[3], ys[3], 3)
                        ok = True
                        break
            if ok:
                break
        if not ok:
            continue
        for k in range(3):
            record_shape(table, k, a, xs[k], ys[k], 1.0, rot_a, False, 0, -1)
        record_shape(table, 3, b, xs[3], ys[3], 1.0, rot_b, False, 3, -1)
        witness[0] = distance(xs[3], ys[3], ux, uy)
        witness[1] = ux
        witness[2] = uy
        finish_image(cv, image, table)
        return True
    return False


@cached_njit
def _circumcentre(xs: np.ndarray, ys: np.ndarray) -> tuple[bool, float, float]:
    """The centre of the circle through the first three points; False if they are collinear."""
    ax, ay = float(xs[0]), float(ys[0])
    bx, by = float(xs[1]), float(ys[1])
    cx, cy = float(xs[2]), float(ys[2])
    d = 2.0 * (ax * (by - cy) + bx * (cy - ay) + cx * (ay - by))
    if abs(d) < 1e-9:
        return False, 0.0, 0.0
    a2 = ax * ax + ay * ay
    b2 = bx * bx + by * by
    c2 = cx * cx + cy * cy
    ux = (a2 * (by - cy) + b2 * (cy - ay) + c2 * (ay - by)) / d
    uy = (a2 * (cx - bx) + b2 * (ax - cx) + c2 * (bx - ax)) / d
    return True, ux, uy


KERNELS: dict[int, Any] = {
    6: problem_6,
    10: problem_10,
    12: problem_12,
    14: problem_14,
    17: problem_17,
}
WITNESS_NAMES: dict[int, tuple[str, ...]] = {
    6: ("pair_a_distance", "pair_b_distance", "distance_difference"),
    10: ("square_error",),
    12: ("circle_radius", "angular_gap", "small_pair_distance", "big_to_nearest_small"),
    14: ("alignment_error",),
    17: ("offset_from_circumcentre", "circumcentre_x", "circumcentre_y"),
}
