"""The stop meter: when more labels stop changing the model, by stabilizing predictions
(Bloodgood & Vijay-Shanker 2009).

A fixed stop set of unlabeled pool images, never queued, is predicted by every trained round.
Cohen's kappa between one round's predictions on it and the round before's measures how much
the model still changes. Labeling can stop once kappa has stayed at or above ``threshold``
for ``window`` rounds in a row. What it means: two models whose predictions agree with kappa
``T`` or more have F-measures that differ by at most ``4 (1 - T) / T`` (the paper's bound),
so at 0.99 the next labels would move the model's F-measure by at most about 0.04.

Tried and not kept: kappas a round can measure at once instead of over a window of rounds,
between heads fitted on the labels so far less their last 2, 5 or 10% (in the order they were
labeled), 1-3 steps back. On the stop meter bench's runs of orientation and SVRT 4, the best
of 27 settings (thresholds 0.98-0.995) stopped on time in 3 of 6 runs, against 0 of 6 for
this rule, and the looser settings stopped SVRT 4 and counting below 98% of full-data
accuracy: a window of rounds stays the rule.

Pure functions of the kappa series; the rounds compute it (``labeler.loop.stop_set``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from generators.checks import check_int, check_number

DEFAULT_STOP_THRESHOLD = 0.99
DEFAULT_STOP_WINDOW = 3
# Stop set: a tenth of the pool, at least MIN and at most MAX images (Bloodgood & Vijay-Shanker
# used a few thousand; a thousand keeps a round's extra scoring to about a second), so no stop
# set for a pool under MIN_POOL.
STOP_SET_MAX = 1000
STOP_SET_MIN = 50
MIN_POOL = 10 * STOP_SET_MIN


@dataclass(frozen=True)
class StopMeter:
    """Where labeling stands: ``kappas``, one per trained round after the first (None where it
    could not be measured: no earlier round with the same stop set, or a model that put every
    image in one class), and the rule's ``threshold`` and ``window``."""

    kappas: tuple[float | None, ...]
    threshold: float = DEFAULT_STOP_THRESHOLD
    window: int = DEFAULT_STOP_WINDOW

    @property
    def n_stable(self) -> int:
        """Rounds in a row, up to the last, whose kappa is at or above the threshold."""
        count = 0
        for kappa in reversed(self.kappas):
            if kappa is None or kappa < self.threshold:
                break
            count += 1
        return count

    @property
    def should_stop(self) -> bool:
        return self.n_stable >= self.window

    @property
    def f_measure_bound(self) -> float:
        """The most two models agreeing at the threshold can differ in F-measure."""
        return 4 * (1 - self.threshold) / self.threshold

    @property
    def last_kappa(self) -> float | None:
        return self.kappas[-1] if self.kappas else None

    def describe(self) -> str:
        """One line for people: the advice, then what it rests on."""
        rule = (
            f"kappa between consecutive rounds on the stop set at or above {self.threshold:g} "
            f"for {self.window} rounds"
        )
        if not self.kappas:
            return f"keep labeling: the meter needs two trained rounds ({rule} means stop)"
        last = "not measured" if self.last_kappa is None else f"{self.last_kappa:.3f}"
        if self.should_stop:
            return (
                f"the model has stopped changing: {rule} (last {last}); more labels would move "
                f"its F-measure by at most {self.f_measure_bound:.3f}"
            )
        return (
            f"keep labeling: last kappa {last}, {self.n_stable} of {self.window} rounds at or "
            f"above {self.threshold:g}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kappas": list(self.kappas),
            "threshold": self.threshold,
            "window": self.window,
            "n_stable": self.n_stable,
            "should_stop": self.should_stop,
            "f_measure_bound": self.f_measure_bound,
            "message": self.describe(),
        }


def check_stop_rule(threshold: float, window: int) -> tuple[float, int]:
    """The rule's settings, checked: ValueError naming the allowed range."""
    threshold = check_number("stop threshold", threshold, low=0, high=1, low_open=True)
    return threshold, check_int("stop window", window, low=1)


def read_stop_meter(
    kappas: Sequence[float | None],
    *,
    threshold: float = DEFAULT_STOP_THRESHOLD,
    window: int = DEFAULT_STOP_WINDOW,
) -> StopMeter:
    threshold, window = check_stop_rule(threshold, window)
    return StopMeter(tuple(kappas), threshold, window)


def choose_stop_set(
    candidates: NDArray[np.int64], *, n_pool: int, rng: np.random.Generator
) -> NDArray[np.int64]:
    """A random stop set drawn from ``candidates`` (unlabeled, unqueued pool ids), sorted: a
    tenth of the pool, at most STOP_SET_MAX and half the candidates; empty when that leaves
    fewer than STOP_SET_MIN images (a pool under ``MIN_POOL``): a smaller set would make kappa
    noise, and a larger share would take too much of a small pool away from labeling."""
    size = min(STOP_SET_MAX, n_pool // 10, candidates.shape[0] // 2)
    if size < STOP_SET_MIN:
        return np.zeros(0, dtype=np.int64)
    return np.sort(rng.choice(candidates, size=size, replace=False)).astype(np.int64)
