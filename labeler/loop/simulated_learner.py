"""The learner and the batch choice of one simulated round, as ``labeler round`` makes them.

A simulation holds the pool and test images in memory and, where a learner or a strategy
reads embeddings, every kind's vectors of pool and test images together (computed once, as a
project embeds all its samples). ``fit_learner`` trains the round's learner on the labeled
pool rows (``cnn``: the network; ``linear@<kind>``: a head; ``auto``: chosen on the labels
by ``labeler.learning.learner_choice``) and tests it; ``select_next`` picks the next batch
with the strategy (``auto``: ``labeler.selection.auto_strategy``), reading the same pieces a
round reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from labeler.learning.fitting import TrainResult
from labeler.learning.learner_choice import AUTO, CNN, get_head_embedding
from labeler.learning.models import Classifier, ModelConfig
from labeler.learning.predictors import ImagePredictor, Predictor
from labeler.learning.train_config import TrainConfig
from labeler.learning.training import check_labels, evaluate_accuracy, train_model
from labeler.learning.warm_start import train_warm
from labeler.loop.auto_step import plan_auto_step
from labeler.selection.auto_strategy import (
    get_uncertainty_selection,
    plan_auto_strategy,
    select_by_coverage,
    select_mixed,
)
from labeler.selection.pool_query import query_pool
from labeler.selection.strategies import AUTO as AUTO_STRATEGY
from labeler.selection.strategies import SelectionConfig

Rows = NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class SimulationArrays:
    """What a simulated round reads: pool and test images with their labels, and the
    embeddings (kind -> float32 ``[n_pool + n_test, dim]``, pool rows first; empty when no
    learner or strategy reads one). ``head_kinds``: the kinds the learner puts heads on, in
    order of preference; ``cold_start_kind``: the one coverage reads (None: none)."""

    pool_images: NDArray[np.uint8]
    pool_labels: NDArray[np.int64]
    test_images: NDArray[np.uint8]
    test_labels: NDArray[np.int64]
    n_classes: int
    vectors: dict[str, NDArray[np.float32]] = field(default_factory=dict)
    head_kinds: tuple[str, ...] = ()
    cold_start_kind: str | None = None

    @property
    def n_pool(self) -> int:
        return int(self.pool_labels.shape[0])

    def get_pool_vectors(self, kind: str) -> NDArray[np.float32]:
        return self.vectors[kind][: self.n_pool]

    def get_test_vectors(self, kind: str) -> NDArray[np.float32]:
        return self.vectors[kind][self.n_pool :]


@dataclass(frozen=True, eq=False)
class Fitted:
    """A round's trained learner: ``predictor`` of pool rows (None: too few labels to train,
    the next picks are then random or coverage), its ``test_accuracy``, and the ``embedding``
    a chosen head reads (None for a network)."""

    predictor: Predictor | None
    test_accuracy: float
    embedding: str | None = None

    @property
    def network(self) -> Classifier | None:
        """The trained network, None for a head (or no learner)."""
        return self.predictor.model if isinstance(self.predictor, ImagePredictor) else None


@dataclass(frozen=True)
class Start:
    """How a round's network starts: from scratch, or (``warm``) from ``previous``, which
    trained on ``n_previous_labels``."""

    warm: bool = False
    previous: Classifier | None = None
    n_previous_labels: int | None = None


def fit_learner(
    arrays: SimulationArrays,
    labeled: Rows,
    *,
    learner: str,
    model_config: ModelConfig,
    train_config: TrainConfig,
    seed: int,
    warm: bool = False,
    previous: Classifier | None = None,
    n_previous_labels: int | None = None,
) -> Fitted:
    """Train ``learner`` on the labeled pool rows and test it (module docstring). ``warm``: a
    network starts from ``previous`` (the last round's, trained on ``n_previous_labels``)
    when ``labeler.learning.warm_start`` takes it."""
    labels = arrays.pool_labels[labeled]
    start = Start(warm, previous, n_previous_labels)
    if learner == CNN:
        return _fit_network(
            arrays, labeled, model_config=model_config, train_config=train_config, start=start
        )
    if np.unique(labels).shape[0] < 2:
        return _majority(arrays, labels)

    def train_cnn() -> TrainResult:
        return _train_network(arrays, labeled, model_config, train_config, start)

    fixed = get_head_embedding(learner)
    kinds = (fixed,) if fixed else arrays.head_kinds
    step = plan_auto_step(
        {kind: arrays.get_pool_vectors(kind) for kind in kinds},
        labeled,
        labels,
        n_classes=arrays.n_classes,
        seed=seed,
        train_cnn=train_cnn if learner == AUTO else None,
        train_config=train_config,
    )
    assert step.choice is not None
    if step.choice.trained is not None:
        return _network_fitted(arrays, step.choice.trained, train_config)
    assert step.choice.head is not None
    guesses = step.choice.head.predict(arrays.get_test_vectors(step.embedding))
    predictor = step.get_head_predictor({step.embedding: arrays.get_pool_vectors(step.embedding)})
    return Fitted(predictor, float(np.mean(guesses == arrays.test_labels)), step.embedding)


def select_next(
    arrays: SimulationArrays,
    fitted: Fitted,
    labeled: Rows,
    *,
    selection: SelectionConfig,
    rng: np.random.Generator,
    score_subset: int | None,
    excluded: Rows | None = None,
) -> Rows:
    """The next ``selection.query_size`` unlabeled pool rows: by ``selection`` scored with the
    fitted learner, or, for ``auto``, by coverage while labels are few (and whenever there is
    no learner yet, when an embedding is there; else at random), then half by uncertainty and
    half by coverage (``labeler.selection.auto_strategy``). ``excluded`` rows (the stop
    set) are never picked, unless the rest runs shorter than the batch."""
    n_select = selection.query_size
    rows: Rows = np.arange(arrays.n_pool, dtype=np.int64)
    if excluded is not None and not np.isin(labeled, excluded).any():
        kept = np.setdiff1d(rows, excluded).astype(np.int64)
        if np.setdiff1d(kept, labeled).shape[0] >= n_select:
            rows = kept
    unlabeled = np.setdiff1d(rows, labeled)
    if selection.strategy == AUTO_STRATEGY:
        auto = plan_auto_strategy(arrays.pool_labels[labeled], n_classes=arrays.n_classes)
        kind = fitted.embedding or arrays.cold_start_kind
        if kind is not None:
            # Coverage over the rows allowed; labeled rows are among them (never excluded).
            vectors = arrays.get_pool_vectors(kind)[rows]

            def by_coverage(taken: Rows, n_cover: int) -> Rows:
                at = np.searchsorted(rows, np.concatenate([labeled, taken]))
                return rows[select_by_coverage(vectors, at, n_cover, rng=rng)]

            if auto.covers or fitted.predictor is None:
                return by_coverage(np.zeros(0, dtype=np.int64), n_select)
            predictor = fitted.predictor

            def by_uncertainty(n_uncertain: int) -> Rows:
                return query_pool(
                    predictor,
                    unlabeled,
                    labeled,
                    selection=get_uncertainty_selection(selection, n_uncertain),
                    rng=rng,
                    score_subset=score_subset,
                ).selected

            return select_mixed(
                auto, n_select, by_uncertainty=by_uncertainty, by_coverage=by_coverage
            )
        selection = get_uncertainty_selection(selection)
    if fitted.predictor is None:
        return rng.choice(unlabeled, size=n_select, replace=False).astype(np.int64)
    return query_pool(
        fitted.predictor,
        unlabeled,
        labeled,
        selection=selection,
        rng=rng,
        score_subset=score_subset,
    ).selected


def _fit_network(
    arrays: SimulationArrays,
    labeled: Rows,
    *,
    model_config: ModelConfig,
    train_config: TrainConfig,
    start: Start,
) -> Fitted:
    labels = arrays.pool_labels[labeled]
    try:
        check_labels(
            labels, n_classes=arrays.n_classes, min_per_class=train_config.min_labels_per_class
        )
    except ValueError:
        # Too few labels per class to train: the best guess is the commonest labeled class.
        return _majority(arrays, labels)
    trained = _train_network(arrays, labeled, model_config, train_config, start)
    return _network_fitted(arrays, trained, train_config)


def _train_network(
    arrays: SimulationArrays,
    labeled: Rows,
    model_config: ModelConfig,
    train_config: TrainConfig,
    start: Start,
) -> TrainResult:
    if start.warm:
        return train_warm(
            start.previous,
            arrays.pool_images[labeled],
            arrays.pool_labels[labeled],
            n_classes=arrays.n_classes,
            model_config=model_config,
            train_config=train_config,
            progress=False,
            n_previous_labels=start.n_previous_labels,
        )
    return train_model(
        arrays.pool_images[labeled],
        arrays.pool_labels[labeled],
        n_classes=arrays.n_classes,
        model_config=model_config,
        train_config=train_config,
        progress=False,
    )


def _network_fitted(
    arrays: SimulationArrays, trained: TrainResult, train_config: TrainConfig
) -> Fitted:
    accuracy = evaluate_accuracy(
        trained.model, arrays.test_images, arrays.test_labels, device=train_config.device
    )
    predictor = ImagePredictor(
        trained.model,
        arrays.pool_images,
        device=train_config.device,
        n_threads=train_config.n_threads,
    )
    return Fitted(predictor, float(accuracy))


def _majority(arrays: SimulationArrays, labels: NDArray[np.int64]) -> Fitted:
    majority = np.bincount(labels, minlength=arrays.n_classes).argmax()
    return Fitted(None, float(np.mean(arrays.test_labels == majority)))
