import numpy as np
import pytest

from labeler.selection.auto_strategy import (
    COVERAGE,
    SWITCH_LABELS_PER_CLASS,
    UNCERTAINTY,
    plan_auto_strategy,
    select_by_coverage,
)
from labeler.selection.strategies import AUTO, SelectionConfig, choose_batch, list_strategies


def test_coverage_while_a_class_has_few_labels_then_uncertainty():
    few = np.array([0] * 10 + [1] * (SWITCH_LABELS_PER_CLASS - 1))
    plan = plan_auto_strategy(few, n_classes=2)
    assert plan.covers and plan.strategy == COVERAGE and plan.diversity == "none"
    assert f"({SWITCH_LABELS_PER_CLASS - 1}) are below {SWITCH_LABELS_PER_CLASS}" in plan.reason
    enough = np.array([0, 1] * SWITCH_LABELS_PER_CLASS)
    plan = plan_auto_strategy(enough, n_classes=2)
    assert not plan.covers and plan.strategy == UNCERTAINTY and plan.diversity == "kcenter"
    # A class with no label at all counts as fewest.
    assert plan_auto_strategy(enough, n_classes=3).covers
    assert not plan_auto_strategy(np.zeros(0, dtype=np.int64), n_classes=2, switch=0).covers


def test_coverage_picks_are_unlabeled_distinct_and_spread():
    rng = np.random.default_rng(0)
    # Two far clusters; the labels so far cover the first, so the picks go to the second.
    vectors = np.concatenate([rng.normal(size=(40, 2)), 50 + rng.normal(size=(40, 2))])
    labeled = np.arange(5)
    picks = select_by_coverage(vectors.astype(np.float32), labeled, 3, rng=rng)
    assert picks.shape == (3,) and np.unique(picks).shape == (3,)
    assert not set(picks.tolist()) & set(labeled.tolist())
    assert picks[0] >= 40


def test_auto_is_a_strategy_name_but_is_resolved_before_a_batch_is_chosen():
    assert AUTO in list_strategies()
    probs = np.full((4, 2, 1), 0.5)
    with pytest.raises(ValueError, match="resolved per batch"):
        choose_batch(probs, np.zeros((4, 1)), config=SelectionConfig(AUTO, query_size=1), seed=0)
