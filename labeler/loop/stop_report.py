"""Where the stop meter would have stopped each simulated run, against the oracle's point.

For each run of ``results.json`` (``labeler.loop.simulation``): the labels at the meter's stop
(the first label count where ``labeler.selection.stop_meter`` says stop), the labels at the
oracle-optimal point (the first label count whose test accuracy reaches 99% of that seed's
full-data accuracy) and the accuracy at the stop. A stop is **on time** within +-20% of the
oracle point, and **safe** at 98% of full-data accuracy or more. A run where neither happened
within the budget is **undecided** (the meter rightly said "keep labeling" throughout, but the
run says nothing about when it would stop), and is counted apart; a run that never stopped is
safe. Runs written before the meter was measured (no ``stop_kappas``) are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from labeler.selection.stop_meter import (
    DEFAULT_STOP_THRESHOLD,
    DEFAULT_STOP_WINDOW,
    read_stop_meter,
)

ORACLE_SHARE = 0.99
SAFE_SHARE = 0.98
ON_TIME = 0.20


@dataclass(frozen=True)
class StopPoint:
    """One run: ``stop_labels`` None when the meter never said stop within the budget,
    ``oracle_labels`` None when accuracy never reached 99% of full-data accuracy."""

    strategy: str
    seed: int
    stop_labels: int | None
    oracle_labels: int | None
    stop_accuracy: float | None
    full_accuracy: float

    @property
    def on_time(self) -> bool:
        if self.stop_labels is None or self.oracle_labels is None:
            return False
        return abs(self.stop_labels - self.oracle_labels) <= ON_TIME * self.oracle_labels

    @property
    def undecided(self) -> bool:
        return self.stop_labels is None and self.oracle_labels is None

    @property
    def safe(self) -> bool:
        """It did not stop below 98% of full-data accuracy (a run that never stopped is safe)."""
        return self.stop_accuracy is None or self.stop_accuracy >= SAFE_SHARE * self.full_accuracy


def get_stop_points(
    results: dict[str, Any],
    *,
    threshold: float = DEFAULT_STOP_THRESHOLD,
    window: int = DEFAULT_STOP_WINDOW,
) -> list[StopPoint]:
    points = []
    for run in results["runs"]:
        kappas = run.get("stop_kappas")
        full = results["full_data_accuracy"].get(str(run["seed"]))
        if not kappas or full is None:
            continue
        counts, accuracy = run["n_labels"], run["test_accuracy"]
        stop = next(
            (
                index
                for index in range(len(kappas))
                if read_stop_meter(
                    kappas[: index + 1], threshold=threshold, window=window
                ).should_stop
            ),
            None,
        )
        oracle = next(
            (n for n, value in zip(counts, accuracy, strict=True) if value >= ORACLE_SHARE * full),
            None,
        )
        points.append(
            StopPoint(
                run["strategy"],
                int(run["seed"]),
                None if stop is None else int(counts[stop]),
                None if oracle is None else int(oracle),
                None if stop is None else float(accuracy[stop]),
                float(full),
            )
        )
    return points


def format_stop_table(points: list[StopPoint], *, threshold: float, window: int) -> str:
    """A Markdown table of every run's stop, and the shares on time and safe."""
    if not points:
        return "Stop meter: no run measured it."
    lines = [
        f"Stop meter (kappa >= {threshold:g} for {window} rounds): labels at the stop against "
        f"the oracle point (first count at {ORACLE_SHARE:.0%} of full-data accuracy).",
        "",
        "| strategy | seed | labels at stop | oracle point | accuracy at stop | share of full | "
        "on time (+-20%) | safe (>= 98%) |",
        "|---|---:|---:|---:|---:|---:|:---:|:---:|",
    ]
    for point in points:
        share = (
            "—"
            if point.stop_accuracy is None
            else f"{point.stop_accuracy / point.full_accuracy:.3f}"
        )
        lines.append(
            f"| {point.strategy} | {point.seed} | {_or_never(point.stop_labels)} | "
            f"{_or_never(point.oracle_labels)} | "
            f"{'—' if point.stop_accuracy is None else f'{point.stop_accuracy:.3f}'} | {share} | "
            f"{'yes' if point.on_time else 'no'} | {'yes' if point.safe else 'no'} |"
        )
    lines += ["", summarize_stops(points)]
    return "\n".join(lines)


def summarize_stops(points: list[StopPoint]) -> str:
    """How many decided runs stopped on time (undecided ones apart), and how many were safe."""
    decided = [point for point in points if not point.undecided]
    n_on_time = sum(point.on_time for point in decided)
    n_safe = sum(point.safe for point in points)
    undecided = len(points) - len(decided)
    note = (
        f" ({undecided} undecided: neither the stop nor the oracle point within the budget)"
        if undecided
        else ""
    )
    return (
        f"On time in {n_on_time} of {len(decided)} decided runs{note}; safe in {n_safe} of "
        f"{len(points)}."
    )


def _or_never(value: int | None) -> str:
    return "never" if value is None else str(value)
