import numpy as np
import pytest

from labeler.selection.auto_strategy import (
    COVERAGE,
    SWITCH_LABELS_PER_CLASS,
    UNCERTAINTY,
    UNCERTAINTY_SHARE,
    interleave,
    plan_auto_strategy,
    select_by_coverage,
    select_mixed,
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
    assert plan.uncertainty_share == UNCERTAINTY_SHARE == 0.5
    assert "for 50% of the batch, max_herding coverage for the rest" in plan.reason
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


def test_a_mixed_batch_splits_half_up_and_a_covering_one_does_not_split() -> None:
    mixed = plan_auto_strategy(np.array([0, 1]), n_classes=2)
    assert [mixed.split(n) for n in (1, 2, 5, 10)] == [(1, 0), (1, 1), (3, 2), (5, 5)]
    most = plan_auto_strategy(np.array([0, 1]), n_classes=2, uncertainty_share=0.8)
    assert most.split(10) == (8, 2)
    covering = plan_auto_strategy(np.array([0]), n_classes=2)
    assert covering.uncertainty_share == 0.0 and covering.split(5) == (0, 5)
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match=r"uncertainty_share must be in \(0, 1\]"):
            plan_auto_strategy(np.array([0, 1]), n_classes=2, uncertainty_share=bad)


def test_interleave_keeps_the_proportion_along_the_queue() -> None:
    merged = interleave(np.array([1, 2, 3, 4]), np.array([9, 8]))
    assert merged.tolist() == [1, 9, 2, 3, 8, 4]
    assert interleave(np.array([5]), np.zeros(0, dtype=np.int64)).tolist() == [5]
    assert interleave(np.zeros(0, dtype=np.int64), np.array([7, 6])).tolist() == [7, 6]


def test_a_mixed_batch_covers_around_the_uncertainty_picks() -> None:
    plan = plan_auto_strategy(np.array([0, 1]), n_classes=2)
    seen: list[list[int]] = []

    def by_uncertainty(n: int) -> np.ndarray:
        return np.arange(100, 100 + n)

    def by_coverage(taken: np.ndarray, n: int) -> np.ndarray:
        seen.append(taken.tolist())
        return np.arange(200, 200 + n)

    batch = select_mixed(plan, 5, by_uncertainty=by_uncertainty, by_coverage=by_coverage)
    assert batch.tolist() == [100, 200, 101, 201, 102]
    assert seen == [[100, 101, 102]]  # coverage saw the uncertainty picks as taken
    # A batch of one is all uncertainty: coverage is not asked.
    assert select_mixed(
        plan, 1, by_uncertainty=by_uncertainty, by_coverage=by_coverage
    ).tolist() == [100]
    assert len(seen) == 1
