"""The first labels: which pool images a round queues before any model can be trained.

With too few labels to train on, ``round --initial N`` queues N unlabeled images picked by a
cold-start strategy (``labeler.selection.cold_start``): ``random``, or a pick from the geometry
of an embedding of the pool (``labeler.learning.embeddings``, computed once and cached), such
as ``typiclust`` (the most typical image of each uncovered cluster) or ``max_herding``
(greedy coverage). Published work and ``bench/results/cold_start.md`` find representative and
diverse first labels ahead of random ones at a few labels per class.
"""

from __future__ import annotations

import logging

import numpy as np
from numpy.typing import NDArray

from labeler.learning.embeddings import get_embedding_vectors
from labeler.selection.cold_start import get_cold_start
from labeler.selection.selectors import sample_subset
from labeler.store.project import Project

logger = logging.getLogger(__name__)

# The command line's default: ahead of random picks for a linear head at 1 to 16 labels per
# class wherever a class could be learned (bench/results/cold_start.md, first_labels.md).
DEFAULT_COLD_START = "max_herding"
# The prefix of an initial round's strategy in the store ("initial-random", "initial-typiclust").
INITIAL_PREFIX = "initial-"


def get_initial_strategy_name(cold_start: str) -> str:
    """The strategy an initial round records: ``initial-<cold start>``."""
    return INITIAL_PREFIX + cold_start


def is_initial_strategy(strategy: str) -> bool:
    """Whether a round's recorded strategy is an initial (model-free) one."""
    return strategy.startswith(INITIAL_PREFIX)


def pick_initial(
    project: Project,
    unlabeled: NDArray[np.int64],
    n_picks: int,
    *,
    cold_start: str,
    embedding: str,
    rng: np.random.Generator,
    progress: bool = True,
) -> NDArray[np.int64]:
    """``n_picks`` of the ``unlabeled`` pool sample ids, first pick first.

    ``random`` draws them from ``rng`` without reading any image. The other strategies read
    the project's ``embedding`` (computed and cached on first use) of the pool samples and
    avoid the clusters the labels held so far already cover.
    """
    if cold_start == "random":
        picks = unlabeled[sample_subset(unlabeled.shape[0], n_picks, seed=rng)]
        rng.shuffle(picks)
        return picks
    choose = get_cold_start(cold_start)
    vectors = get_embedding_vectors(project, [embedding], progress=progress)[embedding]
    pool_ids = project.store.get_sample_ids("pool")
    labeled_rows = np.flatnonzero(~np.isin(pool_ids, unlabeled))
    rows = choose(np.asarray(vectors[pool_ids]), n_picks, labeled=labeled_rows, seed=rng)
    logger.info("picked %d first images by %s on the %s embedding", n_picks, cold_start, embedding)
    return pool_ids[rows].astype(np.int64)
