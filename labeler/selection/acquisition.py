"""Acquisition functions: how informative each unlabeled sample is, from predicted probabilities.

Every function takes ``probs`` shaped ``[n_samples, n_classes, n_draws]`` (draws = MC-dropout
passes or ensemble members; 1 when the model is deterministic) and returns ``[n_samples]``
float64 scores where HIGHER = MORE INFORMATIVE, so that ``labeler.selection.selectors.top_k``
picks the batch. They are pure functions of arrays: no model, no project store.

All registered functions share one call, ``fn(probs, *, seed=...)``, so a caller never needs to
know which strategy is stochastic; the deterministic ones ignore ``seed``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from generators.named_registry import NamedRegistry

Scores = NDArray[np.float64]
AcquisitionFn = Callable[..., Scores]
_F = TypeVar("_F", bound=AcquisitionFn)

_ACQUISITIONS: NamedRegistry[AcquisitionFn] = NamedRegistry("acquisition")

# Sums of softmax outputs in float32 drift by ~1e-6; 1e-3 still catches logits or one-hot
# labels passed by mistake.
_SUM_TOLERANCE = 1e-3
# log(0) would give -inf and 0 * -inf = NaN; clipping first makes 0 * log(eps) = 0 exactly.
_LOG_EPS = 1e-12
_SHAPE = "[n_samples, n_classes, n_draws]"


def register_acquisition(name: str, *, replace: bool = False) -> Callable[[_F], _F]:
    """Register an acquisition function under ``name`` (decorator); ``replace`` lets a
    custom one take over a name it registered before."""
    return _ACQUISITIONS.register(name, replace=replace)


def get_acquisition(name: str) -> AcquisitionFn:
    """Return the acquisition function ``name``; call it as ``fn(probs, *, seed=...)``."""
    return _ACQUISITIONS.get(name)


def list_acquisitions() -> list[str]:
    """Names of the registered acquisition functions, sorted."""
    return _ACQUISITIONS.names()


def check_probs(probs: Any) -> NDArray[np.float64]:
    """Return ``probs`` as float64 ``[n_samples, n_classes, n_draws]``, or raise ``ValueError``.

    Probabilities must be finite, in [0, 1], and sum to 1 over classes (within 1e-3) for every
    sample and draw; at least 2 classes and 1 draw.
    """
    array = np.asarray(probs, dtype=np.float64)
    if array.ndim != 3:
        hint = " (add a draw axis with probs[..., None])" if array.ndim == 2 else ""
        raise ValueError(f"probs must be {_SHAPE}, got shape {array.shape}{hint}")
    _, n_classes, n_draws = array.shape
    if n_classes < 2 or n_draws < 1:
        raise ValueError(
            f"probs must be {_SHAPE} with n_classes >= 2 and n_draws >= 1, got shape {array.shape}"
        )
    if not np.isfinite(array).all():
        raise ValueError(f"probs {_SHAPE} must be finite, got NaN or inf (shape {array.shape})")
    if array.size and (array.min() < 0.0 or array.max() > 1.0):
        raise ValueError(
            f"probs {_SHAPE} must lie in [0, 1], got values in "
            f"[{array.min():.4g}, {array.max():.4g}] (logits instead of softmax outputs?)"
        )
    sums = array.sum(axis=1)
    if sums.size and np.abs(sums - 1.0).max() > _SUM_TOLERANCE:
        raise ValueError(
            f"probs {_SHAPE} must sum to 1 over classes (axis 1) within {_SUM_TOLERANCE}, got "
            f"sums in [{sums.min():.4g}, {sums.max():.4g}] (shape {array.shape})"
        )
    return array


def _entropy_over_classes(probs: NDArray[np.float64]) -> NDArray[np.float64]:
    """Natural-log entropy over axis 1: ``[n, c]`` -> ``[n]``, ``[n, c, d]`` -> ``[n, d]``."""
    return -(probs * np.log(np.clip(probs, _LOG_EPS, 1.0))).sum(axis=1)


@register_acquisition("random")
def random_scores(probs: Any, *, seed: int | np.random.Generator) -> Scores:
    """Uniform [0, 1) scores, ``[n_samples]``: the baseline every strategy is compared with.

    ``seed`` is an int or a ``numpy.random.Generator`` (used as is, so repeated calls advance it).
    """
    n_samples = check_probs(probs).shape[0]
    return np.random.default_rng(seed).random((n_samples,))


@register_acquisition("least_confidence")
def least_confidence(probs: Any, *, seed: int | np.random.Generator | None = None) -> Scores:
    """``1 - max_c mean_d probs``, ``[n_samples]`` in [0, 1 - 1/n_classes]; higher = less sure."""
    mean = check_probs(probs).mean(axis=2)
    return 1.0 - mean.max(axis=1)


@register_acquisition("margin")
def margin(probs: Any, *, seed: int | np.random.Generator | None = None) -> Scores:
    """``1 - (p1 - p2)`` of the mean probs, ``[n_samples]`` in [0, 1].

    p1 and p2 are the two largest mean class probabilities: higher = closer call between the top
    two classes = more informative.
    """
    mean = check_probs(probs).mean(axis=2)
    top_two = np.partition(mean, -2, axis=1)[:, -2:]  # [:, 0] second, [:, 1] first
    return 1.0 - (top_two[:, 1] - top_two[:, 0])


@register_acquisition("entropy")
def entropy(probs: Any, *, seed: int | np.random.Generator | None = None) -> Scores:
    """Entropy (nats) of the mean probs, ``[n_samples]`` in [0, ln n_classes]; higher = more
    uncertain."""
    return _entropy_over_classes(check_probs(probs).mean(axis=2))


@register_acquisition("bald")
def bald(probs: Any, *, seed: int | np.random.Generator | None = None) -> Scores:
    """BALD mutual information (nats), ``[n_samples]``: H(mean over draws) - mean of H(each draw).

    Zero when all draws agree (a deterministic model scores 0 everywhere); higher = the draws
    disagree more = more information about the model from the label.
    """
    checked = check_probs(probs)
    total = _entropy_over_classes(checked.mean(axis=2))
    expected = _entropy_over_classes(checked).mean(axis=1)
    # Mutual information is >= 0 (Jensen); rounding can leave -1e-16 where the draws agree.
    return np.maximum(total - expected, 0.0)


@register_acquisition("variation_ratio")
def variation_ratio(probs: Any, *, seed: int | np.random.Generator | None = None) -> Scores:
    """``1 - (draws voting for the modal class) / n_draws``, ``[n_samples]``; higher = the
    draws' argmax predictions disagree more. Always 0 with a single draw."""
    checked = check_probs(probs)
    n_classes, n_draws = checked.shape[1:]
    votes = checked.argmax(axis=1)  # [n_samples, n_draws]
    counts = (votes[:, :, None] == np.arange(n_classes)).sum(axis=1)  # [n_samples, n_classes]
    return 1.0 - counts.max(axis=1) / n_draws
