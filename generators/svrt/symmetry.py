"""SVRT problems about mirror symmetry about the vertical midline: 16, 18.

The kernels follow the contract in ``generators.svrt.problems``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from generators.canvas import finish_image, fits, record_shape, stamp
from generators.numba_cache import cached_njit
from generators.rng import integer
from generators.sprites import mirror_sprite
from generators.svrt.common import (
    MAX_IMAGE_TRIES,
    N_PLACE_TRIES,
    get_size,
    new_shape,
    open_image,
    reset,
)


@cached_njit
def _place_mirrored_pairs(
    state: np.ndarray,
    prm: np.ndarray,
    cv: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    n_pairs: int,
    mirrored_x: bool,
    xs: np.ndarray,
    ys: np.ndarray,
) -> bool:
    """Place ``n_pairs`` left-half copies of ``left`` and, at the same heights, copies of
    ``right`` in the right half: at the mirrored x when ``mirrored_x``, else at a random x.

    Shape ids: left ones 0..n-1, right ones n..2n-1.
    """
    size = get_size(prm)
    c = left.shape[0] // 2
    for k in range(n_pairs):
        ok = False
        for _ in range(N_PLACE_TRIES):
            # Keep each shape wholly in its half, with a clear column at the midline.
            x = integer(state, c + 1, size // 2 - c - 2)
            y = integer(state, c + 1, size - c - 2)
            if mirrored_x:
                rx = size - 1 - x
            else:
                rx = integer(state, size - size // 2 + c + 1, size - c - 2)
            # The halves are apart, so a left and a right shape can never meet each other.
            if fits(cv, left, x, y, -1) and fits(cv, right, rx, y, -1):
                stamp(cv, left, x, y, k)
                stamp(cv, right, rx, y, n_pairs + k)
                xs[k] = x
                ys[k] = y
                xs[n_pairs + k] = rx
                ys[n_pairs + k] = y
                ok = True
                break
        if not ok:
            return False
    return True


@cached_njit
def problem_16(
    key: np.uint64,
    index: int,
    prm: np.ndarray,
    cv: np.ndarray,
    images: np.ndarray,
    tables: np.ndarray,
    witnesses: np.ndarray,
    slot: int,
) -> bool:
    """Six copies of one shape at positions mirror-symmetric about the vertical midline.

    Class 0: the right-hand copies are translated copies; class 1: they are mirrored, so the
    whole image is left-right symmetric.
    """
    state, label, image, table, witness = open_image(key, index, images, tables, witnesses, slot)
    for _ in range(MAX_IMAGE_TRIES):
        reset(cv, table, witness)
        _, rot, a = new_shape(state, prm, 10.0, 1.0, 1.0)
        right = mirror_sprite(a) if label == 1 else a
        xs = np.empty(6, dtype=np.int64)
        ys = np.empty(6, dtype=np.int64)
        if not _place_mirrored_pairs(state, prm, cv, a, right, 3, True, xs, ys):
            continue
        for k in range(3):
            record_shape(table, k, a, xs[k], ys[k], 1.0, rot, False, 0, -1)
            if label == 1:
                # A left-right mirror of R(rot) * base is R(-rot) * M * base.
                record_shape(table, 3 + k, right, xs[3 + k], ys[3 + k], 1.0, -rot, True, 0, -1)
            else:
                record_shape(table, 3 + k, right, xs[3 + k], ys[3 + k], 1.0, rot, False, 0, -1)
        finish_image(cv, image, table)
        witness[0] = _symmetry_error(image)
        return True
    return False


@cached_njit
def _symmetry_error(image: np.ndarray) -> float:
    """Fraction of ink pixels whose left-right mirror pixel is not ink."""
    width = image.shape[1]
    n_ink = 0
    n_bad = 0
    for y in range(image.shape[0]):
        for x in range(width):
            if image[y, x] == 0:
                n_ink += 1
                if image[y, width - 1 - x] != 0:
                    n_bad += 1
    return n_bad / max(n_ink, 1)


@cached_njit
def problem_18(
    key: np.uint64,
    index: int,
    prm: np.ndarray,
    cv: np.ndarray,
    images: np.ndarray,
    tables: np.ndarray,
    witnesses: np.ndarray,
    slot: int,
) -> bool:
    """Six identical shapes; the right three keep the left three's heights, at random x
    (class 0) or at the mirrored x (class 1: a symmetric arrangement)."""
    state, label, image, table, witness = open_image(key, index, images, tables, witnesses, slot)
    size = get_size(prm)
    for _ in range(MAX_IMAGE_TRIES):
        reset(cv, table, witness)
        _, rot, a = new_shape(state, prm, 10.0, 1.0, 1.0)
        xs = np.empty(6, dtype=np.int64)
        ys = np.empty(6, dtype=np.int64)
        if not _place_mirrored_pairs(state, prm, cv, a, a, 3, label == 1, xs, ys):
            continue
        for k in range(6):
            record_shape(table, k, a, xs[k], ys[k], 1.0, rot, False, 0, -1)
        error = 0.0
        for k in range(3):
            error += abs(xs[3 + k] - (size - 1 - xs[k]))
        witness[0] = error / 3.0
        finish_image(cv, image, table)
        return True
    return False


KERNELS: dict[int, Any] = {
    16: problem_16,
    18: problem_18,
}
WITNESS_NAMES: dict[int, tuple[str, ...]] = {
    16: ("asymmetry",),
    18: ("mean_mirror_offset",),
}
