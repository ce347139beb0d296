"""Asking a trained model which unlabeled images to label next: score, then choose a batch.

The one path from a model to a batch, shared by ``labeler round`` and ``labeler simulate``:
score the candidates (all unlabeled images, or a random subset of a huge pool), score the
labeled images too when the strategy needs their features, and let ``choose_batch`` pick.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from labeler.learning.models import Classifier
from labeler.learning.scoring import score_features, score_pool
from labeler.learning.sharded_scoring import ScoringCluster, ScoringJob, score_pool_on_engine
from labeler.selection.selectors import sample_subset
from labeler.selection.strategies import CORESET, SelectionConfig, choose_batch


@dataclass(frozen=True)
class PoolQuery:
    """``selected``: int64 ``[query_size]`` image indices, most wanted first; ``scored_ids``
    int64 ``[n_scored]`` the images that were scored, with their ``scores`` (float64, higher =
    more informative), the model's ``guesses`` (int64 class, the argmax of the mean over
    draws) and ``confidences`` (float64 in [0, 1], that class's mean probability)."""

    selected: NDArray[np.int64]
    scored_ids: NDArray[np.int64]
    scores: NDArray[np.float64]
    guesses: NDArray[np.int64]
    confidences: NDArray[np.float64]


def query_pool(
    model: Classifier,
    images: NDArray[np.uint8],
    unlabeled: NDArray[np.int64],
    labeled: NDArray[np.int64],
    *,
    selection: SelectionConfig,
    rng: np.random.Generator,
    score_subset: int | None = None,
    device: str = "auto",
    n_threads: int | None = None,
    progress: bool = False,
    cluster: ScoringCluster | None = None,
    features: NDArray[np.float32] | None = None,
) -> PoolQuery:
    """Choose ``selection.query_size`` of the ``unlabeled`` rows of ``images`` (uint8
    ``[n, H, W]``, e.g. a memory map; only the rows scored are read).

    ``labeled``: rows already labeled, read only by strategies that cover them ("coreset").
    ``score_subset``: score only this many random unlabeled rows (None: all). ``rng`` draws the
    subset, the MC-dropout masks and the strategy's own randomness, in that order.
    ``cluster``: score the candidates on an engine's workers instead (the same predictions,
    given the same thread count); ``images`` must then be the file ``cluster.images`` holds.
    ``features``: float32 ``[n, model.n_features]``, ``model``'s penultimate features of every
    row of ``images`` computed before (a frozen backbone's, ``labeler.learning.feature_cache``):
    only the model's head scores them, and ``images`` and ``cluster`` are not used.
    """
    scored = unlabeled
    if score_subset is not None and score_subset < unlabeled.shape[0]:
        scored = unlabeled[sample_subset(unlabeled.shape[0], score_subset, seed=rng)]
    seed = int(rng.integers(2**31))
    if features is not None:
        predictions = score_features(
            model.head, features, indices=scored, n_draws=selection.effective_n_draws, seed=seed
        )
    elif cluster is None:
        predictions = score_pool(
            model,
            images,
            indices=scored,
            n_draws=selection.effective_n_draws,
            device=device,
            seed=seed,
            n_threads=n_threads,
            progress=progress,
        )
    else:
        job = ScoringJob(
            cluster.checkpoint,
            cluster.images,
            n_draws=selection.effective_n_draws,
            seed=seed,
            n_threads=n_threads,
        )
        predictions = score_pool_on_engine(cluster.engine, job, scored)
    labeled_features = None
    if selection.strategy == CORESET and features is not None:
        labeled_features = np.array(features[labeled], dtype=np.float32)
    elif selection.strategy == CORESET:
        labeled_features = score_pool(
            model,
            images,
            indices=labeled,
            device=device,
            n_threads=n_threads,
            progress=False,
        ).features
    choice = choose_batch(
        predictions.probs,
        predictions.features,
        config=selection,
        seed=rng,
        labeled_features=labeled_features,
    )
    mean_probs = predictions.probs.mean(axis=2)
    guesses = mean_probs.argmax(axis=1).astype(np.int64)
    confidences = np.take_along_axis(mean_probs, guesses[:, None], axis=1)[:, 0]
    return PoolQuery(
        scored[choice.indices], scored, choice.scores, guesses, confidences.astype(np.float64)
    )
