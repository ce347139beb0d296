"""SVRT problems about inside/outside and contact: 2, 4, 8, 11, 23.

Each kernel draws one image of the given label into ``image`` and its ground truth into
``table`` (one row per shape, see ``generators.canvas``) and ``witness`` (the measured values
the rule turns on, named in ``WITNESS_NAMES``). It returns False only if the parameters make
the image impossible.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from generators.canvas import (
    find_position,
    finish_image,
    get_contour_distance,
    place_random,
    place_touching,
    record_shape,
    stamp,
)
from generators.sprites import get_contour_pixels
from generators.svrt.common import (
    MAX_IMAGE_TRIES,
    N_PLACE_TRIES,
    margin,
    new_shape,
    reset,
)


@njit(cache=True)
def problem_4(state, label, prm, cv, image, table, witness):  # type: ignore[no-untyped-def]
    """Class 0: small shape outside the big one; class 1: inside it."""
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


@njit(cache=True)
def problem_11(state, label, prm, cv, image, table, witness):  # type: ignore[no-untyped-def]
    """Class 0: small shape at least 10 px from the big one; class 1: touching it from outside."""
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
                state, cv, small, 1, 0, float(bx), float(by), reach, -1, N_PLACE_TRIES
            )
            if not ok:
                continue
        else:
            ok = False
            sx = 0
            sy = 0
            for _ in range(N_PLACE_TRIES):
                ok, sx, sy = find_position(state, cv, small, -1)
                if ok and get_contour_distance(small_pixels, sx, sy, big_pixels, bx, by) >= min_gap:
                    break
                ok = False
            if not ok:
                continue
            stamp(cv, small, sx, sy, 1)
        record_shape(table, 0, big, bx, by, 1.0, rot_big, False, 0, -1)
        record_shape(table, 1, small, sx, sy, 1.0, rot_small, False, 1, -1)
        witness[0] = get_contour_distance(small_pixels, sx, sy, big_pixels, bx, by)
        finish_image(cv, image, table)
        return True
    return False


KERNELS = {4: problem_4, 11: problem_11}
WITNESS_NAMES = {4: ("contour_distance",), 11: ("contour_distance",)}
