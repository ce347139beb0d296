"""A 2-D map of the pool from an embedding, for the dashboard: UMAP, t-SNE or PCA.

The layout depends on the embedding only (labels, guesses and scores are drawn over it), so it
is computed once per embedding and cached (``labeler.store.project_files.MapFiles``). Vectors
are first reduced to at most ``PRE_COMPONENTS`` dimensions by PCA, which keeps the neighbour
search of UMAP and t-SNE fast on a 1,280-dimensional backbone embedding.

Methods: ``umap`` (umap-learn: clusters kept apart, about a minute for 100,000 images on two
cores; bench/results/pool_map.md), ``tsne`` (scikit-learn's Barnes-Hut t-SNE, slower: meant
for pools of a few thousand), ``pca`` (seconds, but clusters overlap); ``auto`` is UMAP.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

MAP_METHODS = ("auto", "umap", "tsne", "pca")
PRE_COMPONENTS = 50
# Fewer points than this get PCA whatever the method: UMAP and t-SNE need neighbours.
MIN_POINTS_FOR_NEIGHBOURS = 20


@dataclass(frozen=True)
class Layout:
    """``xy`` float32 ``[n, 2]`` in [0, 1] (row i = the i-th vector), the method used and the
    seconds it took."""

    xy: NDArray[np.float32]
    method: str
    seconds: float


def check_map_method(method: str) -> str:
    if method not in MAP_METHODS:
        raise ValueError(f"unknown map method {method!r}; valid ones: {', '.join(MAP_METHODS)}")
    return method


def compute_layout(
    vectors: NDArray[np.float32], method: str = "auto", *, seed: int = 0, n_threads: int = 1
) -> Layout:
    """Lay ``vectors`` ``[n, d]`` out in two dimensions with ``method`` (``MAP_METHODS``)."""
    method = check_map_method(method)
    data = np.asarray(vectors, dtype=np.float32)
    if data.ndim != 2 or len(data) == 0:
        raise ValueError(f"vectors must be a non-empty [n, d] array, got shape {data.shape}")
    started = time.perf_counter()
    used = "umap" if method == "auto" else method
    if len(data) < MIN_POINTS_FOR_NEIGHBOURS:
        used = "pca"
    with threadpool_limits(n_threads):
        reduced = _reduce(data, PRE_COMPONENTS if used != "pca" else 2, seed)
        if used == "umap":
            xy = _umap(reduced, seed, n_threads)
        elif used == "tsne":
            from sklearn.manifold import TSNE

            perplexity = float(min(30, (len(reduced) - 1) / 3))
            xy = TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(
                reduced
            )
        else:
            xy = reduced[:, :2]
    return Layout(_to_unit_square(np.asarray(xy)), used, time.perf_counter() - started)


def _reduce(data: NDArray[np.float32], n_components: int, seed: int) -> NDArray[np.float32]:
    """PCA to ``n_components`` (padded with zeros when the data have fewer dimensions)."""
    from sklearn.decomposition import PCA

    k = min(n_components, data.shape[1], len(data))
    if k == 0 or not np.isfinite(data).all():
        raise ValueError("the embedding holds NaN or infinite values; compute it again")
    reduced = PCA(k, random_state=seed).fit_transform(data).astype(np.float32)
    if k < 2:
        reduced = np.hstack([reduced, np.zeros((len(data), 2 - k), np.float32)])
    return reduced


def _umap(data: NDArray[np.float32], seed: int, n_threads: int) -> NDArray[np.float32]:
    import umap

    # A fixed random_state makes UMAP single-threaded; with several threads the layout is
    # faster but not reproducible, and a map is for looking at.
    reducer = umap.UMAP(
        n_neighbors=min(15, len(data) - 1),
        min_dist=0.1,
        random_state=seed if n_threads == 1 else None,
        n_jobs=n_threads,
        low_memory=True,
    )
    return np.asarray(reducer.fit_transform(data), dtype=np.float32)


def _to_unit_square(xy: NDArray[np.float64]) -> NDArray[np.float32]:
    """Scale both axes alike into [0, 1], centred; the outermost 0.5% at each end are
    clamped to the border, so that a few outliers do not shrink the rest to a dot."""
    low = np.percentile(xy, 0.5, axis=0)
    high = np.percentile(xy, 99.5, axis=0)
    span = float(max((high - low).max(), 1e-9))
    centre = (low + high) / 2
    unit = (xy - centre) / span + 0.5
    return np.clip(unit, 0.0, 1.0).astype(np.float32)
