"""Asking a trained model which unlabeled images to label next: score, then choose a batch.

The one path from a predictor to a batch, shared by ``labeler round`` and ``labeler simulate``:
score the candidates (all unlabeled images, or a random subset of a huge pool), read the
labeled images' features too when the strategy needs them, and let ``choose_batch`` pick.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from labeler.learning.predictors import Predictor
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

    def with_batch(self, selected: NDArray[np.int64]) -> PoolQuery:
        """This query with ``selected`` as its batch: an image of it the query did not score
        (an audit draw, a coverage pick) joins the scored ids with score 0."""
        missing = selected[~np.isin(selected, self.scored_ids)]
        return PoolQuery(
            selected,
            np.concatenate([self.scored_ids, missing]),
            np.concatenate([self.scores, np.zeros(missing.shape[0])]),
            self.guesses,
            self.confidences,
        )


def query_pool(
    predictor: Predictor,
    unlabeled: NDArray[np.int64],
    labeled: NDArray[np.int64],
    *,
    selection: SelectionConfig,
    rng: np.random.Generator,
    score_subset: int | None = None,
    progress: bool = False,
) -> PoolQuery:
    """Choose ``selection.query_size`` of the ``unlabeled`` images, scored by ``predictor``
    (``labeler.learning.predictors``: whatever the round trained, on images or features).

    ``labeled``: images already labeled, whose features only strategies that cover them read
    ("coreset"). ``score_subset``: score only this many random unlabeled images (None: all).
    ``rng`` draws the subset, the MC-dropout masks and the strategy's own randomness, in that
    order.
    """
    scored = unlabeled
    if score_subset is not None and score_subset < unlabeled.shape[0]:
        scored = unlabeled[sample_subset(unlabeled.shape[0], score_subset, seed=rng)]
    seed = int(rng.integers(2**31))
    predictions = predictor.predict(
        scored, n_draws=selection.effective_n_draws, seed=seed, progress=progress
    )
    labeled_features = None
    if selection.strategy == CORESET:
        labeled_features = predictor.get_features(labeled)
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
