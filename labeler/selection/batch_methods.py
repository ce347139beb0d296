"""Two ways to make a batch other than the top scores: stochastic power sampling and BADGE.

- **Power sampling** (Kirsch et al. 2023, "Stochastic batch acquisition"): the batch is drawn
  without replacement with probability proportional to ``score ** beta``, by Gumbel-top-k on
  ``beta * log(score)``. A top-k batch takes near-duplicates of the single most uncertain
  region; drawing by score spreads the batch at no cost beyond the scores.
- **BADGE** (Ash et al. 2020): each candidate's gradient embedding is the gradient of the
  cross-entropy at the model's own guess with respect to the last layer's weights:
  ``(p - onehot(argmax p)) (outer) h``, with ``h`` the penultimate features. Its length grows
  with uncertainty, its direction with what the sample would change; k-means++ seeding over
  these vectors picks a batch both uncertain and diverse. The vectors (``n_classes x
  n_features`` each) are never built: the squared distance of two of them is
  ``|a_i|^2 |h_i|^2 + |a_j|^2 |h_j|^2 - 2 (a_i . a_j)(h_i . h_j)``.

Pure arrays in, indices out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from labeler.selection.selectors import top_k

Indices = NDArray[np.int64]

# Power sampling's exponent: 1 draws in proportion to the score (the paper's default).
POWER_BETA = 1.0


def power_sample(
    scores: Any, k: int, *, rng: np.random.Generator, beta: float = POWER_BETA
) -> Indices:
    """``k`` indices drawn without replacement, each with probability proportional to
    ``scores ** beta`` (scores of 0 only once the others run out), in the order drawn."""
    values = np.asarray(scores, dtype=np.float64)
    if values.ndim != 1 or not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError("power sampling needs finite scores of 0 or more, [n_samples]")
    noisy = beta * np.log(np.maximum(values, np.finfo(np.float64).tiny))
    noisy += rng.gumbel(size=values.shape[0])
    return top_k(np.where(values > 0, noisy, np.finfo(np.float64).min), k)


def badge(mean_probs: Any, features: Any, k: int, *, rng: np.random.Generator) -> Indices:
    """``k`` indices by k-means++ seeding over the gradient embeddings of the rows (module
    docstring): the longest embedding first, then each next one drawn with probability
    proportional to its squared distance from the nearest one picked."""
    probs = np.asarray(mean_probs, dtype=np.float64)
    points = np.asarray(features, dtype=np.float64)
    if probs.ndim != 2 or points.ndim != 2 or probs.shape[0] != points.shape[0]:
        raise ValueError(
            f"BADGE needs probabilities [n, n_classes] and features [n, n_features] of the "
            f"same rows, got {probs.shape} and {points.shape}"
        )
    n_rows = probs.shape[0]
    if not 1 <= k <= n_rows:
        raise ValueError(f"query size {k} must be between 1 and the {n_rows} candidates")
    errors = probs.copy()
    errors[np.arange(n_rows), probs.argmax(axis=1)] -= 1.0
    error_norms = np.einsum("ij,ij->i", errors, errors)
    feature_norms = np.einsum("ij,ij->i", points, points)
    lengths = error_norms * feature_norms  # squared length of each gradient embedding

    def distances_to(row: int) -> NDArray[np.float64]:
        cross = (errors @ errors[row]) * (points @ points[row])
        return np.maximum(lengths + lengths[row] - 2.0 * cross, 0.0)

    picks = [int(np.argmax(lengths))]
    nearest = distances_to(picks[0])
    nearest[picks[0]] = 0.0
    for _ in range(k - 1):
        total = nearest.sum()
        if total > 0:
            row = int(rng.choice(n_rows, p=nearest / total))
        else:  # every row sits on a pick: take the next unpicked one
            row = int(np.setdiff1d(np.arange(n_rows), picks)[0])
        picks.append(row)
        nearest = np.minimum(nearest, distances_to(row))
        nearest[picks] = 0.0
    return np.asarray(picks, dtype=np.int64)
