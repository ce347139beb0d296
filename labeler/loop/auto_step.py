"""One step of the default loop on arrays: choose the learner, then the next batch.

The defaults ``--model auto`` and ``--strategy auto`` work together: the labels so far choose
the learner (``labeler.learning.learner_choice``) and the strategy
(``labeler.selection.auto_strategy``); coverage picks (the whole batch while labels are few,
half of it after) read the chosen head's embedding, and uncertainty picks (the other half) the
chosen learner's probabilities. ``plan_auto_step`` and ``select_auto``
do that on pool rows (row = index into the embeddings' arrays), for ``labeler simulate`` and
the benchmarks; ``labeler round`` applies the same two choices to a project's samples.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from labeler.learning.fitting import TrainResult
from labeler.learning.learner_choice import LearnerChoice, choose_learner, get_head_embedding
from labeler.learning.predictors import HeadPredictor, Predictor
from labeler.learning.train_config import TrainConfig
from labeler.selection.auto_strategy import (
    SWITCH_LABELS_PER_CLASS,
    UNCERTAINTY_SHARE,
    AutoStrategy,
    get_uncertainty_selection,
    plan_auto_strategy,
    select_by_coverage,
    select_mixed,
)
from labeler.selection.pool_query import query_pool
from labeler.selection.strategies import SelectionConfig

Vectors = Mapping[str, NDArray[np.float32]]


@dataclass(frozen=True, eq=False)
class AutoStep:
    """The learner ``choice`` on the labels so far (None while they hold fewer than two
    classes), the ``strategy`` for the next batch, and the ``embedding`` its coverage reads:
    the chosen head's, else the first in order of preference."""

    choice: LearnerChoice | None
    strategy: AutoStrategy
    embedding: str

    def get_head_predictor(self, vectors: Vectors) -> HeadPredictor | None:
        """The chosen head scoring rows of ``vectors[self.embedding]``; None when the choice is
        not a head (or there is none)."""
        if self.choice is None or self.choice.head is None:
            return None
        return HeadPredictor(self.choice.head, vectors[self.embedding])


def plan_auto_step(
    vectors: Vectors,
    labeled: NDArray[np.int64],
    labels: NDArray[np.int64],
    *,
    n_classes: int,
    seed: int,
    switch: int = SWITCH_LABELS_PER_CLASS,
    uncertainty_share: float = UNCERTAINTY_SHARE,
    train_cnn: Callable[[], TrainResult] | None = None,
    train_config: TrainConfig | None = None,
) -> AutoStep:
    """Choose the learner on ``labels`` (int ``[n_labeled]``) of rows ``labeled`` of
    ``vectors`` (kind -> ``[n_rows, dim]``, in order of preference; the CNN joins when
    ``train_cnn`` is given) and the strategy of the next batch (``plan_auto_strategy``, with
    ``switch`` and ``uncertainty_share``)."""
    strategy = plan_auto_strategy(
        labels, n_classes=n_classes, switch=switch, uncertainty_share=uncertainty_share
    )
    first = next(iter(vectors))
    if np.unique(labels).shape[0] < 2:
        return AutoStep(None, strategy, first)
    choice = choose_learner(
        labels,
        n_classes=n_classes,
        head_vectors={kind: np.asarray(rows[labeled]) for kind, rows in vectors.items()},
        train_cnn=train_cnn,
        train_config=train_config or TrainConfig(),
        seed=seed,
    )
    return AutoStep(choice, strategy, get_head_embedding(choice.chosen) or first)


def select_auto(
    step: AutoStep,
    vectors: Vectors,
    labeled: NDArray[np.int64],
    n_select: int,
    *,
    rng: np.random.Generator,
    predictor: Predictor | None = None,
) -> NDArray[np.int64]:
    """The next ``n_select`` rows by ``step``: coverage of ``vectors[step.embedding]``, or
    margin with k-center diversity scored by the chosen head (or ``predictor``, the CNN's,
    when the CNN was chosen) for its share of the batch and coverage for the rest. Without a
    learner (fewer than two classes) coverage is used whatever the step says."""
    scorer = predictor or step.get_head_predictor(vectors)
    covered_vectors = vectors[step.embedding]
    if step.strategy.covers or scorer is None:
        return select_by_coverage(covered_vectors, labeled, n_select, rng=rng)
    n_rows = next(iter(vectors.values())).shape[0]
    unlabeled = np.setdiff1d(np.arange(n_rows, dtype=np.int64), labeled)

    def by_uncertainty(n_uncertain: int) -> NDArray[np.int64]:
        selection = get_uncertainty_selection(SelectionConfig(query_size=n_uncertain))
        return query_pool(scorer, unlabeled, labeled, selection=selection, rng=rng).selected

    def by_coverage(taken: NDArray[np.int64], n_cover: int) -> NDArray[np.int64]:
        at = np.concatenate([labeled, taken])
        return select_by_coverage(covered_vectors, at, n_cover, rng=rng)

    return select_mixed(
        step.strategy, n_select, by_uncertainty=by_uncertainty, by_coverage=by_coverage
    )
