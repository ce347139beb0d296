"""Cold start: which pool samples to label first, from an embedding alone (no model yet).

With no labels there are no probabilities to score, so the first labels are chosen from the
geometry of an embedding of the pool (``[n_samples, dim]`` float32, e.g. a PCA of the raw
pixels). Published results (TypiClust, ProbCover, MaxHerding) agree that at a few labels per
class, representative and diverse picks beat random ones by a wide margin; uncertainty takes
over once the model is confident.

Every registered strategy has one call, ``fn(embedding, n_select, *, labeled=None, seed)``,
returning int64 row indices ``[n_select]`` in priority order, never a labeled row:
- ``random``: uniform among the unlabeled rows, the baseline;
- ``typiclust``: the most typical point of each k-means cluster holding no label yet, largest
  cluster first (:mod:`labeler.selection.typiclust`);
- ``max_herding``: greedy maximum of the pool's Gaussian-kernel coverage, the bandwidth from the
  median distance (:mod:`labeler.selection.max_herding`).
``bench/cold_start.py`` measures them (``bench/results/cold_start.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from generators.named_registry import NamedRegistry
from labeler.selection.cold_start_checks import (
    Indices,
    check_embedding,
    check_labeled,
    check_n_select,
    get_unlabeled,
    make_rng,
)
from labeler.selection.max_herding import max_herding
from labeler.selection.typiclust import typiclust

ColdStartFn = Callable[..., Indices]
_F = TypeVar("_F", bound=ColdStartFn)

_COLD_STARTS: NamedRegistry[ColdStartFn] = NamedRegistry("cold-start strategy")


def register_cold_start(name: str) -> Callable[[_F], _F]:
    """Register a cold-start strategy under ``name`` (decorator). It must take
    ``(embedding, n_select, *, labeled=None, seed)`` and return int64 rows ``[n_select]``."""
    return _COLD_STARTS.register(name)


def get_cold_start(name: str) -> ColdStartFn:
    """The cold-start strategy ``name``; call it as ``fn(embedding, n_select, *, labeled, seed)``.

    Unknown names raise ``ValueError`` listing the valid ones.
    """
    return _COLD_STARTS.get(name)


def list_cold_starts() -> list[str]:
    """Names of the registered cold-start strategies, sorted."""
    return _COLD_STARTS.names()


@register_cold_start("random")
def random_start(
    embedding: Any, n_select: int, *, labeled: Any = None, seed: int | np.random.Generator
) -> Indices:
    """``n_select`` unlabeled rows of ``embedding`` (``[n_samples, dim]``) drawn uniformly without
    replacement from ``seed``; the embedding's values are not read beyond its checks.
    Returns int64 ``[n_select]`` in draw order."""
    points = check_embedding(embedding)
    labeled_rows = check_labeled(labeled, points.shape[0])
    count = check_n_select(n_select, n_samples=points.shape[0], n_labeled=labeled_rows.shape[0])
    rng = make_rng(seed)
    unlabeled = get_unlabeled(points.shape[0], labeled_rows)
    return rng.choice(unlabeled, size=count, replace=False).astype(np.int64)


register_cold_start("typiclust")(typiclust)
register_cold_start("max_herding")(max_herding)
