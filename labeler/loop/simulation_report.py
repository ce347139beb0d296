"""What a simulation's ``results.json`` says: the savings table and the learning-curve plot.

Everything here is recomputed from ``results.json`` alone, so anyone can check the table.
Curves are averaged over seeds at each label count (every strategy shares the schedule).
"labels to reach X%" is the first label count where the mean curve reaches X% of the mean
full-data accuracy; a strategy that never gets there within the budget is reported as
">budget", never extrapolated.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

THRESHOLDS = (0.95, 0.98, 0.99)
BASELINE = "random"
# A full-data accuracy this close to chance means the model did not learn the problem: the
# learning curves are noise around chance, and so is any "saving" read off them.
NOT_LEARNED_MARGIN = 0.05


@dataclass(frozen=True)
class StrategySummary:
    """One strategy's curve over seeds and the figures of the table.

    ``labels_to_reach[t]`` is None when the mean curve never reached ``t`` x full-data accuracy.
    ``saving[t]``: ``1 - labels / baseline labels``; None when the strategy did not reach ``t``;
    when only the baseline did not, ``saving_lower_bound[t]`` holds ``1 - labels / budget``
    (the baseline needs more than the budget, so the true saving is larger).
    """

    strategy: str
    n_seeds: int
    n_labels: list[int]
    mean_accuracy: list[float]
    std_accuracy: list[float]
    area_under_curve: float
    labels_to_reach: dict[float, int | None]
    saving: dict[float, float | None]
    saving_lower_bound: dict[float, float | None]


@dataclass(frozen=True)
class SimulationSummary:
    """``chance_accuracy``: always guessing the test split's most common class (1 / classes
    for results written before it was recorded)."""

    full_data_accuracy_mean: float
    full_data_accuracy_std: float
    budget: int
    strategies: list[StrategySummary]
    chance_accuracy: float | None = None

    @property
    def is_learned(self) -> bool:
        """False when full-data accuracy is within ``NOT_LEARNED_MARGIN`` of chance."""
        if self.chance_accuracy is None:
            return True
        return self.full_data_accuracy_mean - self.chance_accuracy > NOT_LEARNED_MARGIN


def summarize(results: dict[str, Any]) -> SimulationSummary:
    """The table's figures from a ``results.json`` dict (see ``labeler.loop.simulation``)."""
    full = np.array(list(results["full_data_accuracy"].values()), dtype=np.float64)
    if full.size == 0:
        raise ValueError("results hold no full-data accuracy yet; no run has finished")
    full_mean = float(full.mean())
    budget = int(results["config"]["budget"])
    names = [name for name in results["config"]["strategies"] if _get_runs(results, name)]
    curves = {name: _get_mean_curve(_get_runs(results, name)) for name in names}
    reach = {
        name: {t: get_labels_to_reach(curve[0], curve[1], t * full_mean) for t in THRESHOLDS}
        for name, curve in curves.items()
    }
    summaries = []
    for name in names:
        n_labels, mean, std, n_seeds = curves[name]
        saving: dict[float, float | None] = {}
        lower: dict[float, float | None] = {}
        for t in THRESHOLDS:
            mine = reach[name][t]
            base = reach.get(BASELINE, {}).get(t)
            saving[t] = None if mine is None or base is None else 1.0 - mine / base
            lower[t] = (
                1.0 - mine / budget
                if mine is not None and base is None and BASELINE in reach
                else None
            )
        summaries.append(
            StrategySummary(
                strategy=name,
                n_seeds=n_seeds,
                n_labels=n_labels,
                mean_accuracy=mean,
                std_accuracy=std,
                area_under_curve=_get_area(n_labels, mean),
                labels_to_reach=reach[name],
                saving=saving,
                saving_lower_bound=lower,
            )
        )
    return SimulationSummary(
        full_mean, float(full.std()), budget, summaries, _get_chance_accuracy(results)
    )


def _get_chance_accuracy(results: dict[str, Any]) -> float | None:
    if results.get("chance_accuracy") is not None:
        return float(results["chance_accuracy"])
    dataset = results.get("dataset", {})
    if dataset.get("class_names"):
        return 1.0 / len(dataset["class_names"])
    return None


def format_table(summary: SimulationSummary, *, n_budget_columns: int = 6) -> str:
    """A Markdown table: accuracy at budgets, area under the curve, labels to reach 95/98/99%
    of full-data accuracy and the saving against random."""
    if not summary.strategies:
        return "(no finished runs)"
    all_counts = summary.strategies[0].n_labels
    columns = _pick_columns(all_counts, n_budget_columns)
    header = (
        ["strategy", "seeds"]
        + [f"acc@{n}" for n in columns]
        + ["AULC"]
        + [f"labels to {t:.0%}" for t in THRESHOLDS]
        + [f"saving at {t:.0%}" for t in THRESHOLDS]
    )
    lines = [
        f"Full-data accuracy: {summary.full_data_accuracy_mean:.4f} "
        f"± {summary.full_data_accuracy_std:.4f}; budget {summary.budget} labels.",
        "",
    ]
    if not summary.is_learned:
        lines += [
            f"**Not learned:** full-data accuracy {summary.full_data_accuracy_mean:.3f} is within "
            f"{NOT_LEARNED_MARGIN:.2f} of chance ({summary.chance_accuracy:.3f}), so the model "
            "did not learn this problem and the savings below are noise.",
            "",
        ]
    lines += [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for item in summary.strategies:
        by_count = dict(
            zip(item.n_labels, zip(item.mean_accuracy, item.std_accuracy, strict=True), strict=True)
        )
        cells = [item.strategy, str(item.n_seeds)]
        for n in columns:
            mean, std = by_count.get(n, (float("nan"), float("nan")))
            cells.append(f"{mean:.3f} ± {std:.3f}")
        cells.append(f"{item.area_under_curve:.4f}")
        for t in THRESHOLDS:
            labels = item.labels_to_reach[t]
            cells.append(str(labels) if labels is not None else f">{summary.budget}")
        for t in THRESHOLDS:
            cells.append(_format_saving(item, t))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def save_learning_curves(
    results: dict[str, Any], summary: SimulationSummary, path: str | Path, *, title: str = ""
) -> None:
    """Plot mean ± std test accuracy against labels, one line per strategy, with the
    full-data accuracy and its 99% line; write a PNG at ``path`` (atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from labeler.store.atomic_files import atomic_path

    figure, axes = plt.subplots(figsize=(7.5, 4.8), dpi=120)
    for item in summary.strategies:
        counts = np.array(item.n_labels)
        mean = np.array(item.mean_accuracy)
        std = np.array(item.std_accuracy)
        (line,) = axes.plot(counts, mean, marker="o", markersize=3, label=item.strategy)
        axes.fill_between(counts, mean - std, mean + std, color=line.get_color(), alpha=0.2)
    full = summary.full_data_accuracy_mean
    axes.axhline(full, color="black", linewidth=1, label=f"all labels ({full:.3f})")
    axes.axhline(0.99 * full, color="gray", linestyle="--", linewidth=1, label="99% of that")
    axes.set_xlabel("labels")
    axes.set_ylabel("test accuracy")
    n_seeds = max((item.n_seeds for item in summary.strategies), default=0)
    axes.set_title(title or f"learning curves (mean ± std over {n_seeds} seeds)")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    figure.tight_layout()
    with atomic_path(path) as temp:
        figure.savefig(temp, format="png")
    plt.close(figure)


def _get_runs(results: dict[str, Any], strategy: str) -> list[dict[str, Any]]:
    return [run for run in results["runs"] if run["strategy"] == strategy]


def _get_mean_curve(
    runs: list[dict[str, Any]],
) -> tuple[list[int], list[float], list[float], int]:
    counts = runs[0]["n_labels"]
    for run in runs:
        if run["n_labels"] != counts:
            raise ValueError(
                f"runs of {run['strategy']!r} have different label schedules; "
                "they cannot be averaged"
            )
    accuracy = np.array([run["test_accuracy"] for run in runs], dtype=np.float64)
    return list(counts), accuracy.mean(axis=0).tolist(), accuracy.std(axis=0).tolist(), len(runs)


def get_labels_to_reach(counts: list[int], accuracy: list[float], target: float) -> int | None:
    """The first label count whose accuracy is at least ``target`` (None: never)."""
    for n, value in zip(counts, accuracy, strict=True):
        if value >= target:
            return int(n)
    return None


def _get_area(counts: list[int], accuracy: list[float]) -> float:
    """Area under the mean curve divided by its label range: the mean accuracy over the run
    (1.0 = perfect from the first label)."""
    if len(counts) < 2:
        return float(accuracy[0])
    x = np.array(counts, dtype=np.float64)
    y = np.array(accuracy, dtype=np.float64)
    return float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2.0 / (x[-1] - x[0]))


def _pick_columns(counts: list[int], n_columns: int) -> list[int]:
    if len(counts) <= n_columns:
        return list(counts)
    positions = np.linspace(0, len(counts) - 1, n_columns).round().astype(int)
    return [counts[p] for p in sorted(set(positions.tolist()))]


def _format_saving(item: StrategySummary, threshold: float) -> str:
    if item.strategy == BASELINE:
        return "—"
    saving = item.saving[threshold]
    if saving is not None:
        return f"{saving:.0%}"
    lower = item.saving_lower_bound[threshold]
    if lower is not None:
        return f">{lower:.0%} (random >budget)"
    if item.labels_to_reach[threshold] is None:
        return "not reached"
    return "n/a (no random run)"
