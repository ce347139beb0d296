"""SVRT same/different problems: 1, 5, 7, 15, 19, 20, 21, 22.

Each kernel draws one image of the given label into ``image`` and its ground truth into
``table`` (one row per shape, see ``generators.canvas``) and ``witness`` (the measured values
the rule turns on, named in ``WITNESS_NAMES``). It returns False only if the parameters make
the image impossible.
"""

from __future__ import annotations

from numba import njit

from generators.canvas import finish_image, place_random, record_shape
from generators.rng import angle
from generators.sprites import count_ink
from generators.svrt.common import (
    MAX_IMAGE_TRIES,
    N_PLACE_TRIES,
    distance,
    new_different_shape,
    new_shape,
    reset,
)


@njit(cache=True)
def problem_1(state, label, prm, cv, image, table, witness):  # type: ignore[no-untyped-def]
    """Class 0: two different shapes; class 1: two identical shapes (translation only)."""
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


KERNELS = {1: problem_1}
WITNESS_NAMES = {1: ("centre_distance",)}
