"""MaxHerding: the first labels as a greedy kernel coverage of the pool, with no radius to set.

Bae, Noh and Sutherland, "Generalized coverage for more robust low-budget active learning"
(ECCV 2024). ProbCover counts a pool point as covered when it lies within a radius delta of a
label, and its results swing with delta. MaxHerding replaces the ball by a Gaussian kernel:
a point is covered as much as its most similar label, and the labels maximise the total
coverage of the pool

    F(S) = sum over pool points x of max over s in S of k(x, s),
    k(x, s) = exp(-|x - s|^2 / (2 sigma^2)).

F is monotone and submodular (a facility-location objective), so the greedy choice is within
1 - 1/e of the best set, and lazy evaluation of the gains is exact. The bandwidth sigma comes
from the data (the median distance between pool points), not from the user. With a wide
kernel, 1 - k(x, s) grows like |x - s|^2 near s, so the picks behave like medoids of a k-means
cut of the pool: representative first, then spread out.

This is an implementation from the paper's description, not from any library's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from generators.checks import check_int, check_number
from labeler.selection.cold_start_checks import (
    Indices,
    check_embedding,
    check_labeled,
    check_n_select,
    get_unlabeled,
    iter_row_blocks,
    make_rng,
    squared_distances,
)

# The coverage sum runs over at most this many pool points (a seeded random subset beyond): it
# estimates an average over the pool, and the kernel between the candidates and these points
# is kept in memory, so each greedy step costs at most one pass over it.
DEFAULT_MAX_REFERENCE = 2_000
# That kernel holds at most this many float32 entries (128 MiB): with 2,000 reference points,
# up to 16,777 candidates; a larger pool offers a seeded random subset of that many. (Shrinking
# the reference instead would leave fewer reference points than picks, where every gain is
# near 0 and lazy greedy reads the whole kernel at every step.)
_MAX_KERNEL_ENTRIES = 1 << 25
# The median distance is estimated from this many random pairs of distinct rows.
_N_BANDWIDTH_PAIRS = 100_000
# Their differences are taken by blocks of at most this many float64 entries (4 MiB).
_PAIR_BLOCK_ENTRIES = 1 << 19
# Lazy greedy re-evaluates the best upper bounds by chunks of this many rows, doubling.
_FIRST_CHUNK = 64


def max_herding(
    embedding: Any,
    n_select: int,
    *,
    labeled: Any = None,
    seed: int | np.random.Generator,
    bandwidth: float | None = None,
    max_reference: int = DEFAULT_MAX_REFERENCE,
) -> Indices:
    """Rows of ``embedding`` to label first: a greedy maximum of the pool's kernel coverage.

    ``embedding``: ``[n_samples, dim]``, one row per pool sample, labeled ones included;
    ``labeled``: row indices already labeled (they cover the pool from the start and are never
    returned). ``bandwidth``: the Gaussian kernel's sigma in embedding units; None takes the
    median Euclidean distance between pool points (:func:`get_median_distance`).
    ``max_reference``: the coverage sum runs over every row while the pool holds at most this
    many, else over a random subset of that size. Every unlabeled row is a candidate while the
    kernel of candidates x reference rows fits 2^25 entries (16,777 candidates at the default
    2,000 references), else a random subset of that many (at least ``n_select``) is. ``seed``
    (int or ``numpy.random.Generator``) draws those subsets and the pairs of the median; with
    none of them in play the result does not depend on it.

    Each step picks the unlabeled row with the largest gain in coverage,
    ``sum_x max(k(x, c) - covered(x), 0)``, ties to the lower row; the first pick is the
    kernel-density mode of the pool. Returns int64 ``[n_select]`` in pick order (a prefix is
    the greedy selection of that size). ``n_select`` 0 gives an empty array; more than the
    unlabeled rows raises ``ValueError``.
    Cost: the ``n_candidates x n_reference`` kernel once (float32, at most 128 MiB, by blocks),
    then per step a pass over the rows whose old gain could still beat the best (lazy greedy).
    """
    points = check_embedding(embedding)
    n_samples = points.shape[0]
    labeled_rows = check_labeled(labeled, n_samples)
    count = check_n_select(n_select, n_samples=n_samples, n_labeled=labeled_rows.shape[0])
    max_reference = check_int("max_reference", max_reference, low=1)
    rng = make_rng(seed)
    if count == 0:
        return np.empty(0, dtype=np.int64)
    unlabeled = get_unlabeled(n_samples, labeled_rows)
    n_reference = min(n_samples, max_reference)
    n_candidates = min(unlabeled.shape[0], max(count, _MAX_KERNEL_ENTRIES // n_reference))
    # Only when n_select alone passes the memory bound does the reference shrink.
    n_reference = min(n_reference, max(1, _MAX_KERNEL_ENTRIES // n_candidates))
    if n_reference < n_samples:
        reference = points[np.sort(rng.choice(n_samples, size=n_reference, replace=False))]
    else:
        reference = points
    if n_candidates < unlabeled.shape[0]:
        candidates = np.sort(rng.choice(unlabeled, size=n_candidates, replace=False))
    else:
        candidates = unlabeled
    sigma = (
        get_median_distance(points, seed=rng)
        if bandwidth is None
        else check_number("bandwidth", bandwidth, low=0.0, low_open=True)
    )
    # A pool of identical points has no scale; any positive sigma gives the same choice.
    scale = -0.5 / (sigma * sigma if sigma > 0.0 else 1.0)

    covered = np.zeros(n_reference, dtype=np.float32)
    for block in iter_row_blocks(labeled_rows.shape[0], n_reference):
        kernel = get_kernel(points[labeled_rows[block]], reference, scale)
        np.maximum(covered, kernel.max(axis=0), out=covered)
    kernel = np.empty((candidates.shape[0], n_reference), dtype=np.float32)
    for block in iter_row_blocks(candidates.shape[0], n_reference):
        kernel[block] = get_kernel(points[candidates[block]], reference, scale)
    positions = greedy_coverage(kernel, covered, count)
    return candidates[positions]


def greedy_coverage(
    kernel: NDArray[np.float32], covered: NDArray[np.float32], n_select: int
) -> Indices:
    """Greedy maximum of ``sum_x max(covered(x), max over picks c of kernel[c, x])``.

    ``kernel``: ``[n_candidates, n_reference]`` similarities in [0, 1]; ``covered``:
    ``[n_reference]``, the coverage before any pick (updated in place). Returns int64 candidate
    positions ``[n_select]`` in pick order, ties to the lower position.

    Lazy greedy, vectorised: coverage only grows, so a gain computed at an earlier step bounds
    the gain now. Each step re-evaluates candidates in order of their bound, by chunks, until
    the best exact gain is above every bound left, so a step usually reads a small part of the
    kernel; the result is that of a plain argmax over exact gains.
    """
    n_candidates = kernel.shape[0]
    bounds = get_gains(kernel, covered)
    picks = np.empty(n_select, dtype=np.int64)
    for step in range(n_select):
        n_open = n_candidates - step
        order = np.lexsort((np.arange(n_candidates), -bounds))[:n_open]
        best = -np.inf
        start, size = 0, _FIRST_CHUNK
        while start < n_open:
            rows = order[start : start + size]
            bounds[rows] = get_gains(kernel[rows], covered)
            best = max(best, float(bounds[rows].max()))
            start += rows.shape[0]
            size *= 2
            # Equal bounds must be checked too, or a lower row with an equal gain is missed.
            if start < n_open and bounds[order[start]] < best:
                break
        evaluated = order[:start]
        position = int(evaluated[bounds[evaluated] == best].min())
        picks[step] = position
        np.maximum(covered, kernel[position], out=covered)
        bounds[position] = -np.inf
    return picks


def get_gains(kernel: NDArray[np.float32], covered: NDArray[np.float32]) -> NDArray[np.float64]:
    """Coverage gain of each row of ``kernel`` (``[n_rows, n_reference]``) over ``covered``
    (``[n_reference]``): ``[n_rows]`` float64, ``sum_x max(kernel[c, x] - covered[x], 0)``."""
    excess = kernel - covered[None, :]
    np.maximum(excess, 0.0, out=excess)
    return excess.sum(axis=1, dtype=np.float64)


def get_kernel(
    rows: NDArray[np.float64], points: NDArray[np.float64], scale: float
) -> NDArray[np.float32]:
    """Gaussian kernel ``exp(scale * |row - point|^2)``, ``[n_rows, n_points]`` float32, with
    ``scale = -1 / (2 sigma^2)``."""
    distances = squared_distances(rows, points)
    distances *= scale
    return np.exp(distances, out=distances).astype(np.float32)


def get_median_distance(points: Any, *, seed: int | np.random.Generator) -> float:
    """The median Euclidean distance between two distinct rows of ``points`` (``[n, dim]``).

    Exact (all pairs) while there are at most 100,000 pairs, else estimated from 100,000 random
    pairs of distinct rows drawn from ``seed``. 0.0 for a single row or identical rows.
    """
    values = check_embedding(points)
    n_points = values.shape[0]
    if n_points < 2:
        return 0.0
    if n_points * (n_points - 1) // 2 <= _N_BANDWIDTH_PAIRS:
        first, second = np.triu_indices(n_points, k=1)
    else:
        rng = make_rng(seed)
        first = rng.integers(n_points, size=_N_BANDWIDTH_PAIRS)
        # An offset in [1, n) makes the second row always differ from the first.
        second = (first + rng.integers(1, n_points, size=_N_BANDWIDTH_PAIRS)) % n_points
    return float(np.median(np.sqrt(get_pair_distances(values, first, second))))


def get_pair_distances(
    values: NDArray[np.float64], first: Indices, second: Indices
) -> NDArray[np.float64]:
    """Squared Euclidean distances ``[n_pairs]`` between rows ``first[i]`` and ``second[i]`` of
    ``values``, by blocks of pairs whose differences fit ``_PAIR_BLOCK_ENTRIES`` (all 100,000
    pairs of a 1,344-column embedding at once would be a 1 GiB difference array, 17 times
    slower than blocks that stay in cache)."""
    distances = np.empty(first.shape[0], dtype=np.float64)
    for block in iter_row_blocks(first.shape[0], values.shape[1], max_entries=_PAIR_BLOCK_ENTRIES):
        differences = values[first[block]] - values[second[block]]
        distances[block] = np.einsum("ij,ij->i", differences, differences)
    return distances
