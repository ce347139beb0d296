"""Wrong labels on purpose: what annotators' mistakes look like, for simulations and benches.

- ``uniform``: a wrong label is any other class, uniformly;
- ``confusion``: class-dependent: each class is always mistaken for one other class (a random
  pairing with no class paired with itself, drawn from the seed), as annotators confuse
  look-alike classes.

Exactly ``round(rate * n)`` labels, chosen at random, are made wrong.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

NOISE_KINDS = ("uniform", "confusion")
# Half the labels wrong would leave as much signal against the truth as for it (two classes).
MAX_NOISE_RATE = 0.5


def check_noise(rate: Any, kind: str) -> float:
    """``rate`` as a float in [0, 0.5) and ``kind`` one of ``NOISE_KINDS``, else ValueError
    naming the allowed values."""
    try:
        value = float(rate)
    except (TypeError, ValueError):
        raise ValueError(f"label noise must be a number in [0, 0.5), got {rate!r}") from None
    if not 0.0 <= value < MAX_NOISE_RATE:
        raise ValueError(f"label noise must be in [0, 0.5), got {rate!r}")
    if kind not in NOISE_KINDS:
        raise ValueError(f"unknown label noise kind {kind!r}; valid ones: {', '.join(NOISE_KINDS)}")
    return value


def add_label_noise(
    labels: NDArray[np.int64],
    rate: float,
    kind: str,
    *,
    n_classes: int,
    rng: np.random.Generator,
) -> NDArray[np.int64]:
    """A copy of ``labels`` (int ``[n]``) with ``round(rate * n)`` of them made wrong the
    ``kind`` way (module docstring)."""
    rate = check_noise(rate, kind)
    given = np.array(labels, dtype=np.int64, copy=True)
    wrong = rng.choice(given.shape[0], size=round(rate * given.shape[0]), replace=False)
    if kind == "uniform":
        shift = rng.integers(1, n_classes, size=wrong.shape[0])
        given[wrong] = (given[wrong] + shift) % n_classes
    else:
        partner = (np.arange(n_classes) + rng.integers(1, n_classes)) % n_classes
        given[wrong] = partner[given[wrong]]
    return given
