"""Custom strategies: a researcher's acquisition function, registered and checked."""

from __future__ import annotations

import numpy as np
import pytest

from labeler.selection.acquisition import get_acquisition
from labeler.selection.custom_strategy import register_custom_strategy
from labeler.selection.strategies import SelectionConfig, choose_batch, list_strategies

PROBS = np.array([[0.9, 0.1], [0.6, 0.4], [0.5, 0.5], [0.2, 0.8]])[..., None]


def highest_second_class(probs: np.ndarray) -> np.ndarray:
    return probs.mean(axis=2)[:, 1]


def test_a_registered_function_becomes_a_strategy_that_chooses_batches() -> None:
    name = register_custom_strategy(highest_second_class)
    assert name == "custom:highest_second_class" and name in list_strategies()
    choice = choose_batch(
        PROBS, np.zeros((4, 2)), config=SelectionConfig(strategy=name, query_size=2), seed=0
    )
    assert choice.indices.tolist() == [3, 2]
    np.testing.assert_allclose(choice.scores, [0.1, 0.4, 0.5, 0.8])


def test_registering_again_replaces_and_a_seed_is_passed_when_asked_for() -> None:
    seen = []

    def noisy(probs: np.ndarray, seed: object = None) -> np.ndarray:
        seen.append(seed)
        return np.zeros(probs.shape[0])

    register_custom_strategy(highest_second_class, name="mine")
    name = register_custom_strategy(noisy, name="mine")
    get_acquisition(name)(PROBS, seed=7)
    assert seen == [7]


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (lambda probs: probs[:, 0, 0][:2], r"shape \(2,\); it must return one score per sample"),
        (lambda probs: np.full((4, 1), 0.5), r"shape \(4, 1\)"),
        (lambda probs: np.array([0.0, np.inf, 1.0, np.nan]), "returned 2 NaN or infinite scores"),
        (lambda probs: ["a", "b", "c", "d"], "returned list, not numbers"),
    ],
)
def test_bad_scores_are_refused_naming_the_strategy(function, message: str) -> None:
    name = register_custom_strategy(function, name="bad")
    with pytest.raises(ValueError, match=f"strategy 'custom:bad' .*{message}"):
        get_acquisition(name)(PROBS, seed=0)


def test_bad_probabilities_are_refused_before_the_function_sees_them() -> None:
    name = register_custom_strategy(highest_second_class)
    with pytest.raises(ValueError, match="must sum to 1"):
        get_acquisition(name)(np.full((2, 2, 1), 0.9), seed=0)


def test_unnamed_or_badly_named_functions_are_refused() -> None:
    with pytest.raises(ValueError, match=r"name the custom strategy.*pass name="):
        register_custom_strategy(lambda probs: probs[:, 0, 0])
    with pytest.raises(ValueError, match="name the custom strategy"):
        register_custom_strategy(highest_second_class, name="my strategy")
    with pytest.raises(ValueError, match="must be a function of probs"):
        register_custom_strategy("margin")  # type: ignore[arg-type]
