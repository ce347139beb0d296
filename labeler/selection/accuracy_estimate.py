"""How accurate the model is on the unlabeled pool, without test labels: an estimate with an
interval, from two samples of labels.

- **Cross-validation on the labels**: out-of-fold guesses for every label. Cheap and large,
  but the labels were chosen by the rounds (hard, uncertain images first), so it leans low
  where the pool is easier than what was picked.
- **An audit slice**: a few images of every batch are drawn at random from the images the
  round scored instead of by the strategy, and queued among the others. Once labeled, the
  round's guesses on them are an unbiased sample of that model's accuracy on the pool.

Both are counts of right guesses out of ``n``; the interval is Wilson's score interval (95%
by default), which stays inside [0, 1] and keeps its coverage at small ``n`` where the normal
approximation does not. Each class gets a light from its recall: red when its interval lies
wholly below the overall accuracy (this class is clearly worse: label more of it), amber when
only its point lies below, green otherwise, grey with too few labels to tell.

Pure functions; the rounds and status read and write the files (``labeler.loop.
accuracy_audit``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from generators.checks import check_number

# A tenth of each batch is drawn at random: enough for an interval of about +-0.1 after a few
# hundred labels, at a tenth of the batch's selection given up.
DEFAULT_AUDIT_SHARE = 0.1
# No batch gives more than half of itself to the audit.
MAX_AUDIT_SHARE = 0.5
# z of a two-sided 95% interval.
Z_95 = 1.959964
# Fewer labels of a class than this and its light is grey.
MIN_CLASS_LABELS = 5

GREEN, AMBER, RED, GREY = "green", "amber", "red", "grey"


def wilson_interval(correct: int, n: int, *, z: float = Z_95) -> tuple[float, float]:
    """Wilson's score interval for ``correct`` successes of ``n``: ``(0, 1)`` when ``n`` is 0."""
    if n <= 0:
        return 0.0, 1.0
    share = correct / n
    denominator = 1 + z * z / n
    centre = (share + z * z / (2 * n)) / denominator
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Estimate:
    """``correct`` right guesses of ``n``, and its 95% interval."""

    correct: int
    n: int

    @property
    def accuracy(self) -> float | None:
        return None if self.n == 0 else self.correct / self.n

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.correct, self.n)

    def to_dict(self) -> dict[str, Any]:
        low, high = self.interval
        return {
            "correct": self.correct,
            "n": self.n,
            "accuracy": self.accuracy,
            "low": low if self.n else None,
            "high": high if self.n else None,
        }


def count_right(labels: Any, guesses: Any) -> Estimate:
    """How many of ``guesses`` ``[n]`` match ``labels`` ``[n]`` (class indices)."""
    given = np.asarray(labels, dtype=np.int64)
    guessed = np.asarray(guesses, dtype=np.int64)
    if given.shape != guessed.shape or given.ndim != 1:
        raise ValueError(
            f"labels and guesses must be arrays [n] of the same samples, got {given.shape} and "
            f"{guessed.shape}"
        )
    return Estimate(int(np.sum(given == guessed)), int(given.shape[0]))


def light_classes(
    labels: Any, guesses: Any, *, class_names: Sequence[str], overall: Estimate
) -> list[dict[str, Any]]:
    """Per class (by its given labels): recall, its interval and its light (module docstring),
    as JSON-ready rows in class order."""
    given = np.asarray(labels, dtype=np.int64)
    guessed = np.asarray(guesses, dtype=np.int64)
    rows = []
    for index, name in enumerate(class_names):
        mine = given == index
        recall = count_right(given[mine], guessed[mine])
        rows.append({"name": name, **recall.to_dict(), "light": _get_light(recall, overall)})
    return rows


def _get_light(recall: Estimate, overall: Estimate) -> str:
    if recall.n < MIN_CLASS_LABELS or overall.accuracy is None or recall.accuracy is None:
        return GREY
    if recall.interval[1] < overall.accuracy:
        return RED
    if recall.accuracy < overall.accuracy:
        return AMBER
    return GREEN


def check_audit_share(share: float) -> float:
    """The audit share, checked: ValueError naming the allowed range."""
    return check_number("audit share", share, low=0, high=MAX_AUDIT_SHARE)


def count_audit_picks(query_size: int, share: float) -> int:
    """Audit picks in a batch of ``query_size``: ``share`` of it rounded up, so that a small
    batch still gives one, but never more than half of the batch (none for a batch of one)."""
    if share <= 0:
        return 0
    return min(math.ceil(share * query_size), query_size // 2)


def mix_audit_slice(
    selected: NDArray[np.int64],
    scored: NDArray[np.int64],
    *,
    share: float,
    rng: np.random.Generator,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """``(batch, audit)``: the batch with its last picks replaced by an audit slice drawn at
    random from the ``scored`` images not in ``selected``, spread evenly through it so that
    the audit is labeled at the pace of the rest; ``audit`` in the order drawn."""
    n_audit = count_audit_picks(selected.shape[0], share)
    spare = np.setdiff1d(scored, selected)
    n_audit = min(n_audit, spare.shape[0])
    if n_audit == 0:
        return selected, np.zeros(0, dtype=np.int64)
    audit = rng.choice(spare, size=n_audit, replace=False).astype(np.int64)
    n_batch = selected.shape[0]
    # Where the audit picks go in the batch: evenly spaced, the first one not first.
    positions = ((np.arange(n_audit) + 1) * n_batch) // (n_audit + 1)
    is_audit = np.zeros(n_batch, dtype=bool)
    is_audit[positions] = True
    batch = np.empty(n_batch, dtype=np.int64)
    batch[is_audit] = audit
    batch[~is_audit] = selected[: n_batch - n_audit]
    return batch, audit
