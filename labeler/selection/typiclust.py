"""TypiClust: the first labels as the most typical points of the pool's uncovered clusters.

Hacohen, Dekel and Weinshall, "Active learning on a budget: opposite strategies suit high and
low budgets" (ICML 2022). With few labels a learner gains most from examples that are
representative (dense regions) and diverse (one per region). The pool is cut into as many
k-means clusters as there will be labels; each label goes to a cluster that holds none yet,
largest first, and within it to the point whose neighbours are closest (the densest point).

This is an implementation from the paper's description, not from any library's code.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from numpy.typing import NDArray

from generators.checks import check_int
from labeler.selection.cold_start_checks import (
    Indices,
    check_embedding,
    check_labeled,
    check_n_select,
    iter_row_blocks,
    make_rng,
    squared_distances,
)

# The paper's defaults: 20 neighbours for typicality, at most 500 clusters (beyond that the
# budget is no longer "low" and clusters get too small for a density estimate), and clusters
# below 5 points treated as outliers.
DEFAULT_K_NEIGHBORS = 20
DEFAULT_MAX_CLUSTERS = 500
DEFAULT_MIN_CLUSTER_SIZE = 5
# Above this many point-centre pairs per k-means iteration, mini-batch k-means takes over:
# full k-means on 100,000 points x 500 clusters takes minutes on one core.
_FULL_KMEANS_MAX_PAIRS = 20_000_000
# Typicality within a cluster costs its squared size; a larger cluster (only when there are few
# clusters for a big pool) is ranked on a seeded random subset of this many of its points.
_MAX_TYPICALITY_POINTS = 20_000


def typiclust(
    embedding: Any,
    n_select: int,
    *,
    labeled: Any = None,
    seed: int | np.random.Generator,
    k_neighbors: int = DEFAULT_K_NEIGHBORS,
    max_clusters: int = DEFAULT_MAX_CLUSTERS,
    min_cluster_size: int = DEFAULT_MIN_CLUSTER_SIZE,
) -> Indices:
    """Rows of ``embedding`` to label first: the most typical point of each uncovered cluster.

    ``embedding``: ``[n_samples, dim]`` (e.g. float32 PCA of the pixels), one row per pool
    sample, labeled ones included; ``labeled``: row indices already labeled (they count as
    covering their cluster and are never returned). ``seed`` (int or ``numpy.random.Generator``)
    drives k-means (and the subset of a huge cluster, below); the rest is deterministic.

    1. k-means cuts the pool into ``min(n_labeled + n_select, max_clusters, n_distinct_points)``
       clusters (scikit-learn's ``KMeans``, or ``MiniBatchKMeans`` for large pools).
    2. Each pick goes to the cluster with the fewest labeled-or-picked points, ties to the
       largest (then the lower cluster id). Clusters smaller than ``min_cluster_size`` come last
       (the paper drops them as outliers; here they only fill in when nothing else is left,
       so any ``n_select`` up to the number of unlabeled rows can be met).
    3. Within that cluster the pick is its most typical unpicked, unlabeled point:
       typicality = 1 / (mean Euclidean distance to its k nearest neighbours in the cluster),
       k = ``min(k_neighbors, cluster size - 1)``; ties go to the lower row. A cluster of
       more than 20,000 points is ranked on a random subset of 20,000 of them, the others
       after them (the cost grows with the square of the size; this happens only with few
       picks in a big pool).

    Returns int64 ``[n_select]`` in priority order (the first pick is the most typical point of
    the largest cluster); a prefix is a fair smaller selection, though not the one a smaller
    ``n_select`` gives (k-means then cuts fewer clusters). ``n_select`` 0 gives an empty
    array; more than the unlabeled rows raises ``ValueError``.
    Cost: k-means, plus distances within each cluster picked from (sum of its squared size).
    """
    points = check_embedding(embedding)
    n_samples = points.shape[0]
    labeled_rows = check_labeled(labeled, n_samples)
    count = check_n_select(n_select, n_samples=n_samples, n_labeled=labeled_rows.shape[0])
    k_neighbors = check_int("k_neighbors", k_neighbors, low=1)
    max_clusters = check_int("max_clusters", max_clusters, low=1)
    min_cluster_size = check_int("min_cluster_size", min_cluster_size, low=1)
    rng = make_rng(seed)
    if count == 0:
        return np.empty(0, dtype=np.int64)

    n_distinct = np.unique(points, axis=0).shape[0]
    n_clusters = min(labeled_rows.shape[0] + count, max_clusters, n_distinct)
    cluster_of = cluster_points(points, n_clusters, seed=rng)
    sizes = np.bincount(cluster_of, minlength=n_clusters)
    n_covered = np.bincount(cluster_of[labeled_rows], minlength=n_clusters)
    available = np.ones(n_samples, dtype=bool)
    available[labeled_rows] = False
    n_available = np.bincount(cluster_of[available], minlength=n_clusters)
    too_small = (sizes < min_cluster_size).astype(np.int64)
    ranked_members: dict[int, Indices] = {}
    next_rank = np.zeros(n_clusters, dtype=np.int64)

    picks = np.empty(count, dtype=np.int64)
    for step in range(count):
        # lexsort sorts by its last key first: open clusters, outliers last, fewest covered,
        # largest, lowest id.
        order = np.lexsort((np.arange(n_clusters), -sizes, n_covered, too_small, n_available == 0))
        cluster = int(order[0])
        if cluster not in ranked_members:
            ranked_members[cluster] = rank_cluster(
                np.flatnonzero(cluster_of == cluster), points, k_neighbors, rng
            )
        ranking = ranked_members[cluster]
        while not available[ranking[next_rank[cluster]]]:
            next_rank[cluster] += 1
        row = int(ranking[next_rank[cluster]])
        picks[step] = row
        available[row] = False
        n_available[cluster] -= 1
        n_covered[cluster] += 1
    return picks


def rank_cluster(
    members: Indices,
    points: NDArray[np.float64],
    k_neighbors: int,
    rng: np.random.Generator,
) -> Indices:
    """``members`` (rows of one cluster) from most to least typical among themselves.

    Beyond ``_MAX_TYPICALITY_POINTS`` members, a random subset of that many is ranked and the
    rest follow in row order, so every member still has a place.
    """
    if members.shape[0] <= _MAX_TYPICALITY_POINTS:
        return members[rank_by_typicality(points[members], k_neighbors)]
    in_subset = np.zeros(members.shape[0], dtype=bool)
    in_subset[rng.choice(members.shape[0], size=_MAX_TYPICALITY_POINTS, replace=False)] = True
    subset = members[in_subset]
    ranked = subset[rank_by_typicality(points[subset], k_neighbors)]
    return np.concatenate([ranked, members[~in_subset]])


def cluster_points(
    points: NDArray[np.float64], n_clusters: int, *, seed: int | np.random.Generator
) -> Indices:
    """k-means cluster of each row of ``points`` (``[n_samples, dim]``): int64 ``[n_samples]``
    in ``[0, n_clusters)``. Seeded by ``seed``; full k-means while ``n_samples * n_clusters``
    stays small, mini-batch k-means beyond. Some clusters may end up empty."""
    from sklearn.cluster import KMeans, MiniBatchKMeans

    n_clusters = check_int("n_clusters", n_clusters, low=1, high=points.shape[0])
    if n_clusters == 1:
        return np.zeros(points.shape[0], dtype=np.int64)
    random_state = int(make_rng(seed).integers(2**31 - 1))
    model: KMeans | MiniBatchKMeans
    if points.shape[0] * n_clusters <= _FULL_KMEANS_MAX_PAIRS:
        model = KMeans(n_clusters=n_clusters, n_init=1, random_state=random_state)
    else:
        model = MiniBatchKMeans(
            n_clusters=n_clusters, n_init=3, batch_size=4096, random_state=random_state
        )
    with warnings.catch_warnings():
        # Duplicate points can leave fewer distinct clusters than asked; the picking loop
        # handles empty clusters, so scikit-learn's warning says nothing the caller must act on.
        warnings.filterwarnings("ignore", message="Number of distinct clusters")
        labels = model.fit_predict(points)
    return np.asarray(labels, dtype=np.int64)


def rank_by_typicality(points: NDArray[np.float64], k_neighbors: int) -> Indices:
    """Rows of ``points`` (``[n_points, dim]``, one cluster) from most to least typical.

    Typicality = 1 / mean Euclidean distance to the k nearest other rows, k =
    ``min(k_neighbors, n_points - 1)``, so the order is by ascending mean distance, ties to the
    lower row. A single row is trivially the most typical. Distances go by row blocks, so the
    memory stays bounded whatever the cluster size. Returns int64 ``[n_points]``.
    """
    mean_distances = get_mean_neighbor_distances(points, k_neighbors)
    return np.lexsort((np.arange(points.shape[0]), mean_distances)).astype(np.int64)


def get_typicality(points: Any, k_neighbors: int = DEFAULT_K_NEIGHBORS) -> NDArray[np.float64]:
    """Typicality of each row of ``points`` (``[n_points, dim]``) among the others:
    ``[n_points]`` float64, 1 / mean distance to the k nearest other rows (higher = more
    typical, inf for a row with k exact duplicates, 0 for a lone row)."""
    values = check_embedding(points)
    mean_distances = get_mean_neighbor_distances(values, check_int("k_neighbors", k_neighbors))
    with np.errstate(divide="ignore"):
        return np.where(np.isinf(mean_distances), 0.0, 1.0 / mean_distances)


def get_mean_neighbor_distances(
    points: NDArray[np.float64], k_neighbors: int
) -> NDArray[np.float64]:
    """Mean Euclidean distance of each row to its ``min(k_neighbors, n - 1)`` nearest other
    rows: ``[n_points]`` float64 (inf for a lone row)."""
    n_points = points.shape[0]
    k = min(k_neighbors, n_points - 1)
    if k < 1:
        return np.full(n_points, np.inf)
    means = np.empty(n_points)
    for block in iter_row_blocks(n_points, n_points):
        distances = squared_distances(points[block], points)
        # A row is not its own neighbour (a duplicate of it is).
        rows = np.arange(block.stop - block.start)
        distances[rows, rows + block.start] = np.inf
        nearest = np.partition(distances, k - 1, axis=1)[:, :k]
        means[block] = np.sqrt(nearest).mean(axis=1)
    return means
