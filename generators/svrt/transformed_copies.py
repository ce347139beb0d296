"""SVRT same/different problems whose copies are scaled, mirrored or turned: 19, 20, 21.

The kernels follow the contract in ``generators.svrt.problems``. As in ``same_different``, a
shape that must differ is drawn with ``new_different_shape`` at the transform of the copy it
stands in for.
"""

from __future__ import annotations

import math

import numpy as np

from generators.canvas import REGION, RINGS, finish_image, fits, record_shape, stamp
from generators.numba_cache import cached_njit
from generators.rng import angle, integer, uniform
from generators.sprites import HALO, count_ink
from generators.svrt.common import (
    MAX_IMAGE_TRIES,
    N_PLACE_TRIES,
    distance,
    draw,
    get_size,
    is_balanced,
    new_different_shape,
    new_shape,
    open_image,
    reset,
)
from generators.svrt.same_different import place_one, place_shapes

# Sizes (px at 128 px) of the scaled problems 19 and 21: a base contour of radius 10.5 and hole
# 1 drawn at a scale uniform in [1, 4], so r = 10.5 s and h = s.
_SCALED_R = 10.5
_SCALED_H = 1.0
_MIN_SCALE = 1.0
_MAX_SCALE = 4.0


@cached_njit
def _angle_difference(a: float, b: float) -> float:
    """The absolute difference of two angles, in [0, pi] radians."""
    d = (a - b) % (2.0 * math.pi)
    return min(d, 2.0 * math.pi - d)


@cached_njit
def _draw_scaled_pair(
    key: np.uint64,
    index: int,
    prm: np.ndarray,
    cv: np.ndarray,
    images: np.ndarray,
    tables: np.ndarray,
    witnesses: np.ndarray,
    slot: int,
    turned: bool,
) -> bool:
    """Problems 19 (``turned`` False) and 21 (True): two shapes, each a base contour of radius
    10.5 px (hole 1 px) drawn at a scale uniform in [1, 4]. Class 1: B is A's base contour at
    B's scale, at A's rotation or, when ``turned``, at its own uniform one; class 0: a
    different shape. The second witness is the centres' distance, or when ``turned`` the
    rotations' difference in degrees.
    """
    state, label, image, table, witness = open_image(key, index, images, tables, witnesses, slot)
    xs = np.zeros(2, dtype=np.int64)
    ys = np.zeros(2, dtype=np.int64)
    for _ in range(MAX_IMAGE_TRIES):
        reset(cv, table, witness)
        scale_a = uniform(state, _MIN_SCALE, _MAX_SCALE)
        scale_b = uniform(state, _MIN_SCALE, _MAX_SCALE)
        base_a, rot_a, a = new_shape(state, prm, _SCALED_R, _SCALED_H, scale_a)
        rot_b = angle(state) if turned or label == 0 else rot_a
        if label == 1:
            b = draw(base_a, prm, scale_b, rot_b, False)
            proto_b = 0
        else:
            # Only balanced mode needs the copy that B stands in for, and only for its ink.
            target = 0
            if is_balanced(prm):
                target = count_ink(draw(base_a, prm, scale_b, rot_b, False))
            _, b = new_different_shape(
                state, prm, _SCALED_R, _SCALED_H, scale_b, rot_b, False, target
            )
            proto_b = 1
        if not place_shapes(state, cv, [a, b], xs, ys):
            continue
        record_shape(table, 0, a, xs[0], ys[0], scale_a, rot_a, False, 0, -1)
        record_shape(table, 1, b, xs[1], ys[1], scale_b, rot_b, False, proto_b, -1)
        witness[0] = scale_b / scale_a
        if turned:
            witness[1] = math.degrees(_angle_difference(rot_b, rot_a))
        else:
            witness[1] = distance(xs[0], ys[0], xs[1], ys[1])
        finish_image(cv, image, table)
        return True
    return False


@cached_njit
def problem_19(
    key: np.uint64,
    index: int,
    prm: np.ndarray,
    cv: np.ndarray,
    images: np.ndarray,
    tables: np.ndarray,
    witnesses: np.ndarray,
    slot: int,
) -> bool:
    """Class 0: two different shapes at random scales; class 1: one shape at two scales.

    Each shape is a base contour of radius 10.5 px (hole 1 px) drawn at a scale uniform in
    [1, 4]; in class 1 the second shape is the first one's contour at its own scale, same
    rotation.
    """
    return _draw_scaled_pair(key, index, prm, cv, images, tables, witnesses, slot, False)


@cached_njit
def _disc_is_free(cv: np.ndarray, cx: int, cy: int, reach: int) -> bool:
    """Whether the centre and the four points ``reach`` px away from it are free background.

    A sprite whose contour stays more than ``reach + 1`` px from its centre fills those pixels,
    so a position failing this check cannot fit (a cheap test before drawing the sprite).
    """
    size = cv.shape[1]
    for k in range(5):
        x = cx
        y = cy
        if k == 1:
            x += reach
        elif k == 2:
            x -= reach
        elif k == 3:
            y += reach
        elif k == 4:
            y -= reach
        if x < 1 or y < 1 or x > size - 2 or y > size - 2:
            return False
        if cv[REGION, y, x] != 0 or cv[RINGS, y, x] & HALO:
            return False
    return True


@cached_njit
def problem_20(
    key: np.uint64,
    index: int,
    prm: np.ndarray,
    cv: np.ndarray,
    images: np.ndarray,
    tables: np.ndarray,
    witnesses: np.ndarray,
    slot: int,
) -> bool:
    """Class 0: two different shapes; class 1: B mirrors A across their centres' bisector.

    With A at rotation theta and the direction from A's centre to B's at angle phi, the
    reflection across the perpendicular bisector maps A's contour onto
    ``draw(base, 1, 2 phi - theta, mirror=True)`` centred on B. In class 1 B's sprite depends
    on where it stands, so candidate positions are drawn uniformly and the sprite drawn for
    each; in both classes B ends up uniform over the positions where it fits.
    """
    state, label, image, table, witness = open_image(key, index, images, tables, witnesses, slot)
    size = get_size(prm)
    for _ in range(MAX_IMAGE_TRIES):
        reset(cv, table, witness)
        base_a, rot_a, a = new_shape(state, prm, 16.0, 2.0, 1.0)
        ok, ax, ay = place_one(state, cv, a, 0, N_PLACE_TRIES)
        if not ok:
            continue
        bx = 0
        by = 0
        rot_b = 0.0
        b = a
        if label == 1:
            inner = 1e18
            for i in range(base_a.shape[0]):
                inner = min(inner, math.sqrt(base_a[i, 0] ** 2 + base_a[i, 1] ** 2))
            reach = max(0, int(inner - 1.0))
            ok = False
            for _ in range(N_PLACE_TRIES * 4):
                bx = integer(state, 1, size - 2)
                by = integer(state, 1, size - 2)
                if not _disc_is_free(cv, bx, by, reach):
                    continue
                phi = math.atan2(by - ay, bx - ax)
                rot_b = 2.0 * phi - rot_a
                b = draw(base_a, prm, 1.0, rot_b, True)
                if fits(cv, b, bx, by, -1):
                    ok = True
                    break
            if not ok:
                continue
            stamp(cv, b, bx, by, 1)
            proto_b = 0
        else:
            rot_b = angle(state)
            target = 0
            if is_balanced(prm):
                # The mirror copy's rotation 2 phi - theta is uniform like rot_b: match B's ink
                # to A mirrored at rot_b.
                target = count_ink(draw(base_a, prm, 1.0, rot_b, True))
            _, b = new_different_shape(state, prm, 16.0, 2.0, 1.0, rot_b, False, target)
            ok, bx, by = place_one(state, cv, b, 1, N_PLACE_TRIES)
            if not ok:
                continue
            proto_b = 1
        record_shape(table, 0, a, ax, ay, 1.0, rot_a, False, 0, -1)
        record_shape(table, 1, b, bx, by, 1.0, rot_b, label == 1, proto_b, -1)
        witness[0] = distance(ax, ay, bx, by)
        # The mirror axis is perpendicular to the line of centres.
        witness[1] = math.degrees((math.atan2(by - ay, bx - ax) + 0.5 * math.pi) % math.pi)
        finish_image(cv, image, table)
        return True
    return False


@cached_njit
def problem_21(
    key: np.uint64,
    index: int,
    prm: np.ndarray,
    cv: np.ndarray,
    images: np.ndarray,
    tables: np.ndarray,
    witnesses: np.ndarray,
    slot: int,
) -> bool:
    """Class 0: two different shapes; class 1: the same shape up to scale and rotation.

    Each shape is a base contour of radius 10.5 px (hole 1 px) drawn at a scale uniform in
    [1, 4] and a uniform rotation, independently for the two shapes.
    """
    return _draw_scaled_pair(key, index, prm, cv, images, tables, witnesses, slot, True)


KERNELS = {
    19: problem_19,
    20: problem_20,
    21: problem_21,
}
WITNESS_NAMES = {
    19: ("scale_ratio", "centre_distance"),
    20: ("centre_distance", "mirror_axis_deg"),
    21: ("scale_ratio", "rotation_difference_deg"),
}
