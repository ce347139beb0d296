"""Input checks and distance blocks shared by the cold-start strategies.

Every cold-start strategy reads an embedding ``[n_samples, dim]`` (float32 as cached; any real
dtype is accepted), an optional set of already labeled rows and a number of rows to select.
The checks here give them one set of messages; the distance helper gives them one way to
compute squared Euclidean distances by blocks, so no strategy ever builds an
``[n_samples, n_samples]`` matrix.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from generators.checks import check_int

Indices = NDArray[np.int64]

# Distance blocks hold at most this many float64 entries (32 MiB), whatever the pool size.
BLOCK_ENTRIES = 1 << 22


def check_embedding(embedding: Any) -> NDArray[np.float64]:
    """``embedding`` as float64 ``[n_samples, dim]`` with n_samples, dim >= 1, all finite."""
    points = np.asarray(embedding)
    if points.ndim != 2 or not np.issubdtype(points.dtype, np.number):
        raise ValueError(
            f"embedding must be [n_samples, dim] numbers, got shape {points.shape} "
            f"dtype {points.dtype}"
        )
    if points.shape[0] < 1 or points.shape[1] < 1:
        raise ValueError(f"embedding must have at least one row and column, got {points.shape}")
    points = points.astype(np.float64, copy=False)
    if not np.isfinite(points).all():
        raise ValueError(f"embedding must be finite, got NaN or inf (shape {points.shape})")
    return points


def check_labeled(labeled: Any, n_samples: int) -> Indices:
    """``labeled`` (row indices already labeled, or None) as sorted unique int64 ``[n_labeled]``."""
    if labeled is None:
        return np.empty(0, dtype=np.int64)
    rows = np.asarray(labeled)
    if rows.ndim != 1 or (rows.size and not np.issubdtype(rows.dtype, np.integer)):
        raise ValueError(f"labeled must be [n_labeled] integer row indices, got shape {rows.shape}")
    rows = rows.astype(np.int64)
    if rows.size and (rows.min() < 0 or rows.max() >= n_samples):
        raise ValueError(
            f"labeled must lie in [0, {n_samples}) (rows of the embedding), got values in "
            f"[{rows.min()}, {rows.max()}]"
        )
    unique = np.unique(rows)
    if unique.shape[0] != rows.shape[0]:
        raise ValueError("labeled contains duplicate row indices")
    return unique


def check_n_select(n_select: object, *, n_samples: int, n_labeled: int) -> int:
    """``n_select`` as an int in ``[0, n_samples - n_labeled]``, or a ``ValueError`` saying why."""
    count = check_int("n_select", n_select, low=0)
    n_unlabeled = n_samples - n_labeled
    if count > n_unlabeled:
        raise ValueError(
            f"n_select {count} is larger than the {n_unlabeled} unlabeled samples of the pool "
            f"({n_samples} samples, {n_labeled} labeled)"
        )
    return count


def get_unlabeled(n_samples: int, labeled: Indices) -> Indices:
    """The rows not in ``labeled``, ascending, int64."""
    mask = np.ones(n_samples, dtype=bool)
    mask[labeled] = False
    return np.flatnonzero(mask).astype(np.int64)


def squared_distances(
    rows: NDArray[np.float64], points: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``[n_rows, n_points]`` squared Euclidean distances via |a|^2 - 2ab + |b|^2.

    One matrix product instead of an ``[n_rows, n_points, dim]`` difference array; the
    expansion can round slightly below 0, hence the clip.
    """
    row_norms = np.einsum("ij,ij->i", rows, rows)
    point_norms = np.einsum("ij,ij->i", points, points)
    distances = row_norms[:, None] - 2.0 * (rows @ points.T) + point_norms[None, :]
    return np.maximum(distances, 0.0, out=distances)


def iter_row_blocks(
    n_rows: int, n_columns: int, *, max_entries: int = BLOCK_ENTRIES
) -> Iterator[slice]:
    """Slices of ``range(n_rows)`` such that a block times ``n_columns`` fits ``max_entries``."""
    block_size = max(1, max_entries // max(1, n_columns))
    for start in range(0, n_rows, block_size):
        yield slice(start, min(n_rows, start + block_size))


def make_rng(seed: int | np.random.Generator) -> np.random.Generator:
    """A generator from an int seed, or the given generator itself (repeated calls advance it)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(check_int("seed", seed, low=0))
