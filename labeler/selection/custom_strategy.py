"""A researcher's own acquisition function as a strategy of rounds and simulations.

The function is pure, like the built-in ones (``labeler.selection.acquisition``): it takes the
probability array ``[n_samples, n_classes, n_draws]`` and returns ``[n_samples]`` scores,
higher = label first. It is registered under ``custom:<name>``, the name the round report and
the simulation results record, and every call is checked: a wrong shape or a NaN stops the
round with an error naming the strategy, before anything is queued.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from labeler.selection.acquisition import Scores, check_probs, register_acquisition

CUSTOM_PREFIX = "custom:"
CustomStrategy = Callable[..., Any]


def register_custom_strategy(function: CustomStrategy, name: str | None = None) -> str:
    """Register ``function`` as the strategy ``custom:<name>`` (``name`` defaults to the
    function's own name) and return that strategy name. Registering the same name again
    replaces the earlier function."""
    if not callable(function):
        raise ValueError(f"a custom strategy must be a function of probs, got {function!r}")
    label = name if name is not None else getattr(function, "__name__", "")
    if not label or label == "<lambda>" or not label.replace("_", "").isalnum():
        raise ValueError(
            f"name the custom strategy (letters, digits and '_'), got {label!r}: pass name=..."
        )
    strategy = CUSTOM_PREFIX + label
    takes_seed = "seed" in inspect.signature(function).parameters

    def checked(probs: Any, *, seed: int | np.random.Generator | None = None) -> Scores:
        array = check_probs(probs)
        scores = function(array, seed=seed) if takes_seed else function(array)
        return check_scores(strategy, scores, n_samples=array.shape[0])

    register_acquisition(strategy, replace=True)(checked)
    return strategy


def check_scores(strategy: str, scores: Any, *, n_samples: int) -> Scores:
    """``scores`` as float64 ``[n_samples]``, or ValueError naming ``strategy`` and what is
    wrong."""
    try:
        array = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"strategy {strategy!r} returned {type(scores).__name__}, not numbers: {error}"
        ) from None
    if array.shape != (n_samples,):
        raise ValueError(
            f"strategy {strategy!r} returned scores of shape {array.shape}; it must return one "
            f"score per sample, shape ({n_samples},), from probs [n_samples, n_classes, n_draws]"
        )
    if not np.isfinite(array).all():
        n_bad = int((~np.isfinite(array)).sum())
        raise ValueError(
            f"strategy {strategy!r} returned {n_bad} NaN or infinite scores of {n_samples}; "
            "every score must be a finite number"
        )
    return array
