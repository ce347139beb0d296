"""Helpers shared by the SVRT problem kernels: sizes, shape drawing, image bookkeeping."""

from __future__ import annotations

import math

import numpy as np

from generators.canvas import MAX_SHAPES, N_FIELDS
from generators.numba_cache import cached_njit
from generators.rng import angle, make_state
from generators.sprites import (
    complete_sprite,
    count_ink,
    make_contour_points,
    make_outline,
    make_sprite,
)
from generators.svrt.params import (
    P_BALANCED,
    P_INK_TOLERANCE,
    P_LINE_WIDTH,
    P_MARGIN_SCALE,
    P_POSITION_SCALE,
    P_RADIUS_SCALE,
    P_SIZE,
)

# An image whose shapes cannot be placed is drawn again; each placement first retries locally,
# so this bound is only reached on impossible parameters.
MAX_IMAGE_TRIES = 2000
N_PLACE_TRIES = 200
N_WITNESS = 8
_MAX_MATCH_TRIES = 400


@cached_njit
def get_size(prm: np.ndarray) -> int:
    return int(prm[P_SIZE])


@cached_njit
def radius(prm: np.ndarray, px: float) -> float:
    """A shape radius given in px at 128 px, scaled to this image."""
    return px * prm[P_RADIUS_SCALE]


@cached_njit
def position(prm: np.ndarray, px: float) -> float:
    """A position or free distance given in px at 128 px, scaled to this image."""
    return px * prm[P_POSITION_SCALE]


@cached_njit
def margin(prm: np.ndarray, px: float) -> float:
    """A rule-deciding distance given in px at 128 px, scaled to this image and difficulty."""
    return px * prm[P_MARGIN_SCALE]


@cached_njit
def is_balanced(prm: np.ndarray) -> bool:
    return prm[P_BALANCED] > 0.5


@cached_njit
def reset(cv: np.ndarray, table: np.ndarray, witness: np.ndarray) -> None:
    cv[:] = 0
    table[:] = 0.0
    table[:, 10] = -1.0  # no container
    witness[:] = np.nan


@cached_njit
def draw(
    base: np.ndarray, prm: np.ndarray, scale: float, rotation: float, mirror: bool
) -> np.ndarray:
    return make_sprite(base, scale, rotation, mirror, int(prm[P_LINE_WIDTH]))


@cached_njit
def new_shape(
    state: np.ndarray, prm: np.ndarray, r: float, h: float, scale: float
) -> tuple[np.ndarray, float, np.ndarray]:
    """A fresh random shape of radius ``r`` (hole ``h``), px at 128 px, drawn at ``scale``.

    Returns (base points: the contour's points in no particular order, rotation, sprite).
    """
    base = make_contour_points(state, radius(prm, r), radius(prm, h))
    rotation = angle(state)
    return base, rotation, draw(base, prm, scale, rotation, False)


@cached_njit
def new_different_shape(
    state: np.ndarray,
    prm: np.ndarray,
    r: float,
    h: float,
    scale: float,
    rotation: float,
    mirror: bool,
    target_ink: int,
) -> tuple[np.ndarray, np.ndarray]:
    """A fresh shape drawn at the given transform, standing in for a copy of another shape.

    In balanced mode it is redrawn until its ink count is within the tolerance of
    ``target_ink`` (the copy's ink), so that "different" images carry the same total ink as
    "same" ones. Returns (base points, in no particular order; sprite).
    """
    tolerance = max(1.0, prm[P_INK_TOLERANCE] * target_ink)
    best_base = make_contour_points(state, radius(prm, r), radius(prm, h))
    best_sprite = draw(best_base, prm, scale, rotation, mirror)
    if not is_balanced(prm):
        return best_base, best_sprite
    best_gap = abs(count_ink(best_sprite) - target_ink)
    # Redraws are outlines (their ink is known without filling); only the one kept is filled.
    best_is_outline = False
    for _ in range(_MAX_MATCH_TRIES):
        if best_gap <= tolerance:
            break
        base = make_contour_points(state, radius(prm, r), radius(prm, h))
        outline = make_outline(base, scale, rotation, mirror, int(prm[P_LINE_WIDTH]))
        gap = abs(count_ink(outline) - target_ink)
        if gap < best_gap:
            best_gap = gap
            best_base = base
            best_sprite = outline
            best_is_outline = True
    if best_is_outline:
        complete_sprite(best_sprite)
    return best_base, best_sprite


@cached_njit
def distance(ax: float, ay: float, bx: float, by: float) -> float:
    return math.sqrt((ax - bx) ** 2 + (ay - by) ** 2)


def make_buffers(count: int, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Output arrays for ``count`` images: images, shape tables and witnesses."""
    images = np.empty((count, size, size), dtype=np.uint8)
    tables = np.zeros((count, MAX_SHAPES, N_FIELDS), dtype=np.float64)
    witnesses = np.full((count, N_WITNESS), np.nan, dtype=np.float64)
    return images, tables, witnesses


@cached_njit
def open_image(
    key: np.uint64,
    index: int,
    images: np.ndarray,
    tables: np.ndarray,
    witnesses: np.ndarray,
    slot: int,
) -> tuple[np.ndarray, int, np.ndarray, np.ndarray, np.ndarray]:
    """Start image ``index`` of stream ``key``, written to position ``slot`` of the outputs.

    Returns (random state, label, image, shape table, witness). Kernels take the index and the
    whole output arrays rather than slices because each Python-level call of a compiled
    function costs per argument: this way a call costs ~1.5 us instead of ~5 us.
    """
    state = make_state(key, np.uint64(index))
    return state, index % 2, images[slot], tables[slot], witnesses[slot]
