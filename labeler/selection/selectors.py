"""Batch selection: which samples to send to annotators, given scores and (optionally) features.

Scores come from ``labeler.selection.acquisition`` (``[n_samples]``, higher = more
informative); every function here returns int64 sample indices. Selectors know nothing of
models or probabilities.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

Indices = NDArray[np.int64]

# Distances from already-selected points are computed in blocks of this many matrix entries,
# so a labeled set of 100k against a pool of 1M never builds the full matrix.
_BLOCK_ENTRIES = 1 << 22


def top_k(scores: Any, k: int) -> Indices:
    """Indices of the ``k`` highest ``scores`` (``[n_samples]``), best first, int64 ``[k]``.

    Ties are broken by the lower index, so the result is deterministic. Runs in O(n + k log k):
    a partition finds the k-th value, and only the k winners are sorted.
    """
    values = _check_scores(scores)
    _check_query_size(k, values.shape[0])
    n_samples = values.shape[0]
    if k < n_samples:
        # The k-th largest value; everything above it is in, ties at it go by lower index.
        threshold = np.partition(values, n_samples - k)[n_samples - k]
        above = np.flatnonzero(values > threshold)
        at = np.flatnonzero(values == threshold)[: k - above.shape[0]]
        chosen = np.concatenate([above, at])
    else:
        chosen = np.arange(n_samples)
    # lexsort sorts by the last key first: descending score, then ascending index.
    order = np.lexsort((chosen, -values[chosen]))
    return chosen[order].astype(np.int64)


def k_center_greedy(
    features: Any,
    k: int,
    *,
    candidates: Any = None,
    already_selected: Any = None,
    seed: int | np.random.Generator = 0,
) -> Indices:
    """Core-set selection: greedily pick the candidate farthest from everything chosen so far.

    ``features``: ``[n_samples, n_features]`` (e.g. penultimate-layer activations); only the rows
    of ``candidates`` and ``already_selected`` are read, so a memory-mapped array works.
    ``candidates``: indices that may be picked (default: all not already selected).
    ``already_selected``: indices that count as chosen but are not returned (e.g. the labeled
    set); must not overlap ``candidates``.
    Distance is Euclidean. When nothing is selected yet the first pick is a uniformly random
    candidate drawn from ``seed`` (an int or a ``numpy.random.Generator``); every later pick is
    deterministic, ties going to the earlier candidate. Returns int64 ``[k]`` in pick order.
    """
    points = _check_features(features)
    n_samples = points.shape[0]
    chosen = _check_indices(
        np.empty(0, np.int64) if already_selected is None else already_selected,
        n_samples,
        "already_selected",
    )
    pool = (
        np.setdiff1d(np.arange(n_samples), chosen)
        if candidates is None
        else _check_indices(candidates, n_samples, "candidates")
    )
    overlap = np.intersect1d(pool, chosen)
    if overlap.size:
        raise ValueError(
            f"candidates and already_selected overlap at {overlap.size} indices "
            f"(first: {overlap[0]}); pass disjoint sets"
        )
    _check_query_size(k, pool.shape[0])

    pool_points = _read_rows(points, pool, "candidates")
    pool_sq_norms = np.einsum("ij,ij->i", pool_points, pool_points)
    # Squared distance from each candidate to its nearest chosen point; -inf marks a candidate
    # already picked, so duplicates of a pick (distance 0) still beat it.
    nearest = np.full(pool.shape[0], np.inf)
    block_size = max(1, _BLOCK_ENTRIES // pool.shape[0])
    for start in range(0, chosen.shape[0], block_size):
        block = _read_rows(points, chosen[start : start + block_size], "already_selected")
        distances = _squared_distances(pool_points, pool_sq_norms, block)
        np.minimum(nearest, distances.min(axis=1), out=nearest)

    picks = np.empty(k, dtype=np.int64)
    for step in range(k):
        if step == 0 and chosen.shape[0] == 0:
            position = int(np.random.default_rng(seed).integers(pool.shape[0]))
        else:
            position = int(np.argmax(nearest))
        picks[step] = position
        distances = _squared_distances(pool_points, pool_sq_norms, pool_points[position][None])
        np.minimum(nearest, distances[:, 0], out=nearest)
        nearest[position] = -np.inf
    return pool[picks]


def diverse_top_k(scores: Any, features: Any, k: int, *, pool_factor: int = 10) -> Indices:
    """The ``k`` most informative samples that are not near-duplicates of each other.

    Takes the ``pool_factor * k`` highest ``scores`` (``[n_samples]``, higher = more
    informative), then runs :func:`k_center_greedy` among them on ``features``
    (``[n_samples, n_features]``, aligned with ``scores``; only the candidates' rows are read,
    so a memory-mapped array works). The first pick is the best-scored candidate, so the batch
    always holds the single most informative sample and the result is deterministic.
    Returns int64 ``[k]`` in pick order.
    """
    values = _check_scores(scores)
    points = _check_features(features)
    if points.ndim != 2 or points.shape[0] != values.shape[0]:
        raise ValueError(
            f"features must be [n_samples, n_features] with n_samples = {values.shape[0]} "
            f"(the length of scores), got shape {points.shape}"
        )
    if pool_factor < 1:
        raise ValueError(f"pool_factor must be at least 1, got {pool_factor}")
    _check_query_size(k, values.shape[0])
    pool = top_k(values, min(pool_factor * k, values.shape[0]))
    rest = (
        k_center_greedy(points, k - 1, candidates=pool[1:], already_selected=pool[:1])
        if k > 1
        else pool[:0]
    )
    return np.concatenate([pool[:1], rest])


def balance_classes(
    indices_by_preference: Any,
    predicted_labels: Any,
    k: int,
    *,
    n_classes: int,
    max_fraction: float = 0.5,
) -> Indices:
    """Pick ``k`` of ``indices_by_preference`` with no predicted class above its share.

    ``indices_by_preference``: sample indices, most wanted first (e.g. a longer ``top_k``).
    ``predicted_labels``: ``[n_samples]`` ints in [0, n_classes), indexed by sample index.
    Walking the preference order, each predicted class is capped at
    ``ceil(max_fraction * k)`` picks; if the caps leave the batch short (the candidates are
    mostly one class), the remainder is filled from the skipped ones in preference order.
    Returns int64 ``[k]`` in preference order.
    """
    preferred = np.asarray(indices_by_preference)
    labels = np.asarray(predicted_labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"predicted_labels must be [n_samples] integers, got shape {labels.shape} "
            f"dtype {labels.dtype}"
        )
    preferred = _check_indices(preferred, labels.shape[0], "indices_by_preference")
    if n_classes < 1:
        raise ValueError(f"n_classes must be at least 1, got {n_classes}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"predicted_labels must lie in [0, {n_classes}) for n_classes={n_classes}, got "
            f"values in [{labels.min()}, {labels.max()}]"
        )
    if not 0.0 < max_fraction <= 1.0:
        raise ValueError(f"max_fraction must be in (0, 1], got {max_fraction}")
    _check_query_size(k, preferred.shape[0])

    cap = math.ceil(max_fraction * k)
    preferred_labels = labels[preferred]
    # Rank of each candidate among earlier candidates of its class: a stable sort by class keeps
    # preference order inside each class, and rank = position - start of the class's run.
    by_class = np.argsort(preferred_labels, kind="stable")
    sorted_labels = preferred_labels[by_class]
    run_starts = np.searchsorted(sorted_labels, sorted_labels, side="left")
    rank = np.empty_like(by_class)
    rank[by_class] = np.arange(by_class.shape[0]) - run_starts
    within_cap = np.flatnonzero(rank < cap)[:k]
    shortfall = k - within_cap.shape[0]
    fill = np.flatnonzero(rank >= cap)[:shortfall]
    positions = np.sort(np.concatenate([within_cap, fill]))
    return preferred[positions].astype(np.int64)


def sample_subset(n_pool: int, n_subset: int, *, seed: int | np.random.Generator) -> Indices:
    """A uniformly random subset of ``range(n_pool)`` to score, without replacement.

    For pools too large to score every round. ``seed`` is an int or a
    ``numpy.random.Generator``. Returns sorted int64 ``[n_subset]``.
    """
    if n_pool < 1:
        raise ValueError(f"n_pool must be positive, got {n_pool}")
    if n_subset < 1:
        raise ValueError(f"subset size must be positive, got {n_subset}")
    if n_subset > n_pool:
        raise ValueError(f"subset size {n_subset} is larger than the pool of {n_pool}")
    subset = np.random.default_rng(seed).choice(n_pool, size=n_subset, replace=False)
    return np.sort(subset).astype(np.int64)


def _squared_distances(
    points: NDArray[np.float64], sq_norms: NDArray[np.float64], centers: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``[n_points, n_centers]`` squared Euclidean distances via |a|^2 - 2ab + |b|^2.

    The expansion uses one matrix product instead of an ``[n, m, d]`` difference array; its
    rounding can go slightly negative, hence the clip.
    """
    center_sq_norms = np.einsum("ij,ij->i", centers, centers)
    distances = sq_norms[:, None] - 2.0 * (points @ centers.T) + center_sq_norms[None, :]
    return np.maximum(distances, 0.0)


def _check_query_size(k: int, n_candidates: int) -> None:
    if k <= 0:
        raise ValueError(f"query size must be positive, got {k}")
    if k > n_candidates:
        raise ValueError(f"query size {k} is larger than the pool of {n_candidates}")


def _check_scores(scores: Any) -> NDArray[np.float64]:
    values = np.asarray(scores, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"scores must be [n_samples], got shape {values.shape}")
    if not np.isfinite(values).all():
        raise ValueError(f"scores must be finite, got NaN or inf (shape {values.shape})")
    return values


def _check_features(features: Any) -> NDArray[np.floating[Any]]:
    points = np.asarray(features)
    if points.ndim != 2 or not np.issubdtype(points.dtype, np.number):
        raise ValueError(
            f"features must be [n_samples, n_features] numbers, got shape {points.shape} "
            f"dtype {points.dtype}"
        )
    return points


def _read_rows(points: NDArray[Any], rows: Indices, name: str) -> NDArray[np.float64]:
    """``points[rows]`` as float64, checked finite (only the rows used are ever read)."""
    values = np.asarray(points[rows], dtype=np.float64)
    if not np.isfinite(values).all():
        raise ValueError(f"features of {name} must be finite, got NaN or inf")
    return values


def _check_indices(indices: Any, n_samples: int, name: str) -> Indices:
    array = np.asarray(indices)
    if array.ndim != 1 or (array.size and not np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"{name} must be [n] integer indices, got shape {array.shape}")
    array = array.astype(np.int64)
    if array.size and (array.min() < 0 or array.max() >= n_samples):
        raise ValueError(
            f"{name} must lie in [0, {n_samples}), got values in [{array.min()}, {array.max()}]"
        )
    if np.unique(array).shape[0] != array.shape[0]:
        raise ValueError(f"{name} contains duplicate indices")
    return array
