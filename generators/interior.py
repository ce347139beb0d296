"""The interior of a drawn contour: the cells no 4-connected path of open cells joins to the frame.

A sprite's outline (``sprites.draw_outline``) holds ``CONTOUR`` cells inside a clear frame. The
outside is found as bits, 64 cells to a word: each row's open cells form runs, and a row takes
over every run that touches an outside cell of the row above (on a sweep down) or below (on a
sweep up), whole runs at a time by carry and shift tricks. Sweeps alternate until one changes
nothing. This gives exactly what a cell-by-cell flood fill gives, at about half its cost on
the sprites the generators draw.
"""

from __future__ import annotations

import numpy as np

from generators.numba_cache import cached_njit

_ONE = np.uint64(1)
_TOP = np.uint64(1) << np.uint64(63)
# Shifts that double a fill's reach each step, over a 64-bit word.
_S1, _S2, _S4, _S8, _S16, _S32 = (np.uint64(1 << k) for k in range(6))


@cached_njit
def mark_interior(mask: np.ndarray, contour: int, interior: int) -> None:
    """Set the ``interior`` bit on every cell of the square ``mask`` that is not ``contour``
    and not 4-connected to the frame through such cells. The frame (the outer ring) must be
    clear of ``contour``."""
    side = mask.shape[0]
    n_words = (side + 63) // 64
    # Cells are read through a flat view at unsigned offsets: a row slice per word costs a
    # reference count, and signed offsets a negative-index test per cell (5% of the time).
    cells = mask.reshape(mask.size)
    is_open = np.zeros((side, n_words), dtype=np.uint64)
    for y in range(side):
        for w in range(n_words):
            start = np.uint64(y * side + 64 * w)
            word = np.uint64(0)
            for b in range(np.uint64(min(64, side - 64 * w))):  # branch-free, 64 cells a word
                word |= np.uint64((cells[start + b] & contour) == 0) << np.uint64(b)
            is_open[y, w] = word
    outside = np.zeros((side, n_words), dtype=np.uint64)
    outside[0] = is_open[0]
    outside[side - 1] = is_open[side - 1]
    for y in range(side):
        outside[y, 0] |= _ONE
        outside[y, (side - 1) >> 6] |= _ONE << np.uint64((side - 1) & 63)
    _sweep_until_still(outside, is_open)
    for y in range(side):
        for w in range(n_words):
            inside = is_open[y, w] & ~outside[y, w]
            if inside == 0:  # all outside (or contour): most words of a sprite's edge rows
                continue
            start = np.uint64(y * side + 64 * w)
            for b in range(np.uint64(min(64, side - 64 * w))):
                cells[start + b] |= interior * ((inside >> b) & _ONE)


@cached_njit
def _sweep_until_still(outside: np.ndarray, is_open: np.ndarray) -> None:
    """Grow ``outside`` by sweeps down and up until one changes nothing.

    The first two sweeps do every row. After that a row is redone only when the row it reads
    from (above on the way down, below on the way up) changed after it was last done, in the
    sweep before or in this one; the others cannot change.
    """
    side = outside.shape[0]
    before = np.ones(side, dtype=np.bool_)  # rows the previous sweep changed
    now = np.zeros(side, dtype=np.bool_)
    sweep = 0
    while True:
        changed = False
        if sweep % 2 == 0:
            now[0] = False
            for y in range(1, side):
                now[y] = (before[y - 1] or now[y - 1]) and _take_runs(outside, is_open, y, y - 1)
                changed |= now[y]
        else:
            now[side - 1] = False
            for y in range(side - 2, -1, -1):
                now[y] = (before[y + 1] or now[y + 1]) and _take_runs(outside, is_open, y, y + 1)
                changed |= now[y]
        sweep += 1
        if sweep >= 2 and not changed:
            return
        if sweep == 1:
            now[:] = True  # the second sweep does every row too
        before, now = now, before


@cached_njit
def _take_runs(outside: np.ndarray, is_open: np.ndarray, y: int, source: int) -> bool:
    """Row ``y`` of ``outside`` grown by the open cells under outside cells of row ``source``,
    then over the whole runs of open cells it touches; whether the row changed."""
    n_words = is_open.shape[1]
    changed = False
    carry = np.uint64(0)
    for w in range(n_words):
        # Towards higher bits: a seed added to its run of ones carries through to the run's top.
        runs = is_open[y, w]
        seeds = (outside[y, w] | (outside[source, w] & runs) | carry) & runs
        grown = (((runs + seeds) ^ runs) & runs) | seeds
        changed |= grown != outside[y, w]
        outside[y, w] = grown
        carry = _ONE if grown & _TOP else np.uint64(0)
    carry = np.uint64(0)
    for w in range(n_words - 1, -1, -1):
        # Towards lower bits: shifts of 1, 2, 4, ... 32 cells, each through cells all open.
        runs = is_open[y, w]
        grown = outside[y, w] | (carry & runs)
        grown |= runs & (grown >> _S1)
        runs &= runs >> _S1
        grown |= runs & (grown >> _S2)
        runs &= runs >> _S2
        grown |= runs & (grown >> _S4)
        runs &= runs >> _S4
        grown |= runs & (grown >> _S8)
        runs &= runs >> _S8
        grown |= runs & (grown >> _S16)
        runs &= runs >> _S16
        grown |= runs & (grown >> _S32)
        changed |= grown != outside[y, w]
        outside[y, w] = grown
        carry = _TOP if grown & _ONE else np.uint64(0)
    return changed
