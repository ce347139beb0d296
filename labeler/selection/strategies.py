"""Choosing the next batch to label: a strategy's scores, then diversity and class balance.

The one place that turns a selection configuration into sample indices, shared by
``labeler round`` and ``labeler simulate`` so both pick batches the same way. Pure arrays in,
indices out: no model, no project store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labeler.learning.learner_choice import CNN
from labeler.selection.acquisition import get_acquisition, list_acquisitions
from labeler.selection.batch_methods import badge, power_sample
from labeler.selection.selectors import balance_classes, diverse_top_k, k_center_greedy, top_k

# A diversity-only strategy: k-center greedy on the features, ignoring the probabilities.
CORESET = "coreset"
# Uncertainty and diversity at once: k-means++ seeding over gradient embeddings
# (``labeler.selection.batch_methods``).
BADGE = "badge"
# Chosen for each batch from the labels so far (``labeler.selection.auto_strategy``), then
# resolved into one of the others before ``choose_batch`` sees it.
AUTO = "auto"
DIVERSITY_MODES = ("none", "kcenter", "power")
# Strategies whose scores need several stochastic passes to mean anything (with one draw BALD
# and the variation ratio are 0 everywhere).
STRATEGIES_NEEDING_DRAWS = ("bald", "variation_ratio")
DEFAULT_N_DRAWS = 10


def list_strategies() -> list[str]:
    """Every strategy name a round or a simulation accepts, sorted (``auto`` is resolved into
    one of the others before ``choose_batch``)."""
    return sorted([*list_acquisitions(), CORESET, BADGE, AUTO])


def list_default_learner_strategies() -> list[str]:
    """The strategies a round with the default learner (``--model auto``, which may choose a
    linear head without dropout) accepts: all but those reading MC-dropout draws."""
    return [name for name in list_strategies() if name not in STRATEGIES_NEEDING_DRAWS]


def check_strategy_fits(learner: str, strategy: str) -> None:
    """Refuse a strategy that reads MC-dropout draws with a learner that may be a linear head
    (a head has no dropout, so every draw is the same and such scores are all 0)."""
    if learner != CNN and strategy in STRATEGIES_NEEDING_DRAWS:
        raise ValueError(
            f"strategy {strategy!r} needs MC-dropout draws of a network, and --model {learner} "
            "may choose a linear head, which has none: use a network (--model resnet) or "
            "another strategy"
        )


def check_strategy(name: str) -> str:
    """Return ``name`` if it is a strategy, else raise ``ValueError`` listing the valid ones."""
    if name not in list_strategies():
        raise ValueError(f"unknown strategy {name!r}; valid ones: {', '.join(list_strategies())}")
    return name


@dataclass(frozen=True)
class SelectionConfig:
    """How a batch is chosen; one field per command-line flag.

    ``diversity``: "none" takes the best scores as they are; "kcenter" takes the
    ``pool_factor * query_size`` best and spreads the batch over them with k-center greedy on
    penultimate features, so a batch is not full of near-duplicates; "power" draws the batch
    with probability proportional to the score (``labeler.selection.batch_methods``).
    ``max_class_fraction``: no predicted class takes more than this share of the batch (None:
    no guard). Neither applies to "random", which stays the plain baseline.
    ``n_draws``: MC-dropout passes; 0 means ``DEFAULT_N_DRAWS`` for strategies that need draws
    and 1 for the others.
    """

    strategy: str = "margin"
    query_size: int = 50
    diversity: str = "none"
    pool_factor: int = 4
    max_class_fraction: float | None = None
    n_draws: int = 0

    def __post_init__(self) -> None:
        check_strategy(self.strategy)
        if self.query_size < 1:
            raise ValueError(f"query size must be positive, got {self.query_size}")
        if self.diversity not in DIVERSITY_MODES:
            raise ValueError(
                f"unknown diversity {self.diversity!r}; valid ones: {', '.join(DIVERSITY_MODES)}"
            )
        if self.pool_factor < 1:
            raise ValueError(f"pool factor must be at least 1, got {self.pool_factor}")
        if self.max_class_fraction is not None and not 0.0 < self.max_class_fraction <= 1.0:
            raise ValueError(f"max class fraction must be in (0, 1], got {self.max_class_fraction}")
        if self.n_draws < 0:
            raise ValueError(f"n_draws must be 0 (automatic) or positive, got {self.n_draws}")
        if self.strategy in STRATEGIES_NEEDING_DRAWS and self.n_draws == 1:
            raise ValueError(
                f"strategy {self.strategy!r} needs several MC-dropout draws, got n_draws=1 "
                f"(use 0 for the default {DEFAULT_N_DRAWS})"
            )

    @property
    def effective_n_draws(self) -> int:
        """How many stochastic passes scoring should make for this strategy."""
        if self.n_draws:
            return self.n_draws
        return DEFAULT_N_DRAWS if self.strategy in STRATEGIES_NEEDING_DRAWS else 1


@dataclass(frozen=True)
class BatchChoice:
    """A chosen batch: ``indices`` int64 ``[query_size]`` into the scored rows, best first, and
    ``scores`` float64 ``[n_scored]`` (higher = more informative; "coreset" and "badge" pick
    by distances, not scores, so all zeros)."""

    indices: NDArray[np.int64]
    scores: NDArray[np.float64]


def choose_batch(
    probs: Any,
    features: Any,
    *,
    config: SelectionConfig,
    seed: int | np.random.Generator,
    labeled_features: Any = None,
) -> BatchChoice:
    """Pick ``config.query_size`` rows of the scored pool.

    ``probs``: ``[n_scored, n_classes, n_draws]``; ``features``: ``[n_scored, n_features]``
    (penultimate activations, read only by diversity and "coreset"); ``labeled_features``:
    ``[n_labeled, n_features]``, which "coreset" counts as already covered. ``seed`` drives the
    random strategy and ties in k-center's first pick.
    """
    probs_array = np.asarray(probs)
    n_scored = probs_array.shape[0] if probs_array.ndim else 0
    if config.query_size > n_scored:
        raise ValueError(f"query size {config.query_size} is larger than the pool of {n_scored}")
    if config.strategy == AUTO:
        raise ValueError(
            "strategy 'auto' is resolved per batch by labeler.selection.auto_strategy before a "
            "batch is chosen"
        )
    rng = np.random.default_rng(seed)
    if config.strategy == CORESET:
        return _choose_coreset(features, labeled_features, config.query_size, rng)
    if config.strategy == BADGE:
        picks = badge(probs_array.mean(axis=2), features, config.query_size, rng=rng)
        return BatchChoice(picks, np.zeros(n_scored))

    scores = get_acquisition(config.strategy)(probs_array, seed=rng)
    if config.strategy == "random":
        return BatchChoice(top_k(scores, config.query_size), scores)

    n_wanted = config.query_size
    if config.max_class_fraction is not None:
        # The guard needs spare candidates to swap in; take them from the same ranking.
        n_wanted = min(n_scored, config.pool_factor * config.query_size)
    if config.diversity == "kcenter":
        ranked = diverse_top_k(scores, features, n_wanted, pool_factor=config.pool_factor)
    elif config.diversity == "power":
        ranked = power_sample(scores, n_wanted, rng=rng)
    else:
        ranked = top_k(scores, n_wanted)
    if config.max_class_fraction is not None:
        predicted = probs_array.mean(axis=2).argmax(axis=1).astype(np.int64)
        ranked = balance_classes(
            ranked,
            predicted,
            config.query_size,
            n_classes=probs_array.shape[1],
            max_fraction=config.max_class_fraction,
        )
    return BatchChoice(ranked[: config.query_size], scores)


def _choose_coreset(
    features: Any, labeled_features: Any, query_size: int, rng: np.random.Generator
) -> BatchChoice:
    pool_points = np.asarray(features, dtype=np.float64)
    if labeled_features is None or len(labeled_features) == 0:
        points = pool_points
        already: NDArray[np.int64] | None = None
    else:
        labeled_points = np.asarray(labeled_features, dtype=np.float64)
        points = np.concatenate([pool_points, labeled_points])
        already = np.arange(pool_points.shape[0], points.shape[0], dtype=np.int64)
    candidates = np.arange(pool_points.shape[0], dtype=np.int64)
    picks = k_center_greedy(
        points, query_size, candidates=candidates, already_selected=already, seed=rng
    )
    return BatchChoice(picks, np.zeros(pool_points.shape[0]))
