"""The savings target of the guided-labeling benches (``savings``, ``savings_at_scale``): the
best guided strategy needs at most ``TARGET_RATIO`` of random's labels to reach
``TARGET_THRESHOLD`` of full-data accuracy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

TARGET_THRESHOLD = 0.99
TARGET_RATIO = 0.5


@dataclass(frozen=True)
class SavingsVerdict:
    """``holds``: None when random never reached the threshold (undecided); ``best``: the
    guided strategies that needed the fewest labels, ties named together (the budgets are
    steps of a batch, so several often meet); ``why``: the verdict in words."""

    holds: bool | None
    best: str | None
    best_labels: int | None
    random_labels: int | None
    why: str


def judge_savings(labels_to_reach: Mapping[str, int | None]) -> SavingsVerdict:
    """The verdict from each strategy's labels to reach the threshold (None: never within the
    budget); ``random`` is the baseline, every other strategy is guided."""
    random_labels = labels_to_reach["random"]
    reached = sorted(
        (labels, strategy)
        for strategy, labels in labels_to_reach.items()
        if strategy != "random" and labels is not None
    )
    best_labels = reached[0][0] if reached else None
    best = ", ".join(strategy for labels, strategy in reached if labels == best_labels) or None
    if random_labels is None:
        holds, why = None, "random did not reach 99% within the budget"
    elif best_labels is None:
        holds, why = False, "no guided strategy reached 99% within the budget"
    else:
        holds = best_labels <= TARGET_RATIO * random_labels
        why = f"{best} need(s) {best_labels / random_labels:.0%} of random's labels"
    return SavingsVerdict(holds, best, best_labels, random_labels, why)
