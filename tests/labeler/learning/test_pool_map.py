"""The pool's 2-D layout: every method keeps clusters apart, within the unit square."""

from __future__ import annotations

import numpy as np
import pytest

from labeler.learning.pool_map import compute_layout


def _blobs(n_per: int = 60, dim: int = 30) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 8, size=(3, dim))
    vectors = np.vstack([rng.normal(c, 1.0, size=(n_per, dim)) for c in centres])
    return vectors.astype(np.float32), np.repeat(np.arange(3), n_per)


def _separation(xy: np.ndarray, groups: np.ndarray) -> float:
    """Mean distance between cluster centres over the mean spread within a cluster."""
    centres = np.array([xy[groups == g].mean(axis=0) for g in range(3)])
    spread = np.mean(
        [np.linalg.norm(xy[groups == g] - centres[g], axis=1).mean() for g in range(3)]
    )
    between = np.mean(
        [np.linalg.norm(a - b) for i, a in enumerate(centres) for b in centres[i + 1 :]]
    )
    return float(between / spread)


@pytest.mark.parametrize("method", ["pca", "tsne", pytest.param("umap", marks=pytest.mark.slow)])
def test_clusters_stay_apart_in_the_unit_square(method: str) -> None:
    vectors, groups = _blobs()
    layout = compute_layout(vectors, method, seed=0)
    assert layout.method == method and layout.xy.shape == (180, 2)
    assert layout.xy.dtype == np.float32
    assert layout.xy.min() >= 0 and layout.xy.max() <= 1
    assert _separation(layout.xy, groups) > 3.0
    if method != "umap":  # a fixed seed gives the same layout
        assert np.array_equal(layout.xy, compute_layout(vectors, method, seed=0).xy)


def test_a_handful_of_points_get_pca_and_bad_input_a_clear_error() -> None:
    vectors, _ = _blobs(n_per=3)
    assert compute_layout(vectors, "umap").method == "pca"
    with pytest.raises(ValueError, match="unknown map method 'mds'; valid ones: auto, umap"):
        compute_layout(vectors, "mds")
    vectors[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        compute_layout(vectors, "pca")
    with pytest.raises(ValueError, match="non-empty"):
        compute_layout(np.zeros((0, 4), np.float32), "pca")
