"""Plots of the pruning reports (PNG, written atomically): bundle entropy per layer and over
epochs, accuracy against lesioned blocks, and accuracy against removed blocks per rule."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from labeler.pruning.analysis import Analysis
from labeler.pruning.lesion import LESION_GROUPS, LesionPoint
from labeler.store.atomic_files import atomic_path


@contextmanager
def _figure(path: str | Path, *, n_rows: int = 1, height: float = 4.2) -> Iterator[Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(n_rows, 1, figsize=(8.5, height * n_rows), dpi=110)
    try:
        yield axes
        figure.tight_layout()
        with atomic_path(path) as temp:
            figure.savefig(temp, format="png")
    finally:
        plt.close(figure)


def plot_entropy_per_layer(analysis: Analysis, path: str | Path, *, title: str) -> None:
    """Bundle entropy (nats) and bundle count of every layer of the final model."""
    names = list(analysis.layers)
    with _figure(path, n_rows=2, height=3.4) as (top, bottom):
        positions = range(len(names))
        top.bar(positions, [analysis.layers[name].entropy for name in names], color="tab:red")
        top.set_ylabel("bundle entropy (nats)")
        top.set_title(title)
        bottom.bar(positions, [analysis.layers[name].n_bundles for name in names])
        bottom.axhline(analysis.n_samples, color="gray", linestyle="--", linewidth=1)
        bottom.set_ylabel(f"bundles (of {analysis.n_samples} samples)")
        for axes in (top, bottom):
            axes.set_xticks(list(positions), names, rotation=70, fontsize=7)
            axes.grid(alpha=0.3, axis="y")


def plot_entropy_over_epochs(analysis: Analysis, path: str | Path, *, title: str) -> None:
    """The last layer's bundle entropy after each epoch, with the validation accuracy."""
    last = list(analysis.layers)[-1]
    epochs = [record.epoch for record in analysis.epochs]
    with _figure(path) as axes:
        axes.plot(epochs, [r.layers[last].entropy for r in analysis.epochs], marker="o",
                  color="tab:red", label=f"bundle entropy of {last}")  # fmt: skip
        axes.set_xlabel("epoch")
        axes.set_ylabel("bundle entropy (nats)")
        axes.set_title(title)
        axes.grid(alpha=0.3)
        accuracy = axes.twinx()
        accuracy.plot(epochs, [r.val_accuracy for r in analysis.epochs], color="tab:blue",
                      marker=".", label="validation accuracy")  # fmt: skip
        accuracy.set_ylabel("validation accuracy")
        lines = axes.get_legend_handles_labels()
        more = accuracy.get_legend_handles_labels()
        axes.legend(lines[0] + more[0], lines[1] + more[1], loc="center right")


def plot_lesions(intact: float, points: list[LesionPoint], path: str | Path, *, title: str) -> None:
    """Mean ± std test accuracy against the number of lesioned blocks, per group."""
    with _figure(path) as axes:
        for group in LESION_GROUPS:
            rows = [point for point in points if point.group == group]
            if not rows:
                continue
            ks = [0] + [point.k for point in rows]
            mean = [intact] + [point.mean_accuracy for point in rows]
            std = [0.0] + [point.std_accuracy for point in rows]
            axes.errorbar(ks, mean, yerr=std, marker="o", capsize=3, label=group.replace("_", "-"))
        axes.set_xlabel("blocks lesioned")
        axes.set_ylabel("test accuracy")
        axes.set_title(title)
        axes.grid(alpha=0.3)
        axes.legend()


def plot_greedy(report: dict[str, Any], path: str | Path, *, title: str) -> None:
    """Selection accuracy along the greedy removals, and every rule's test accuracy at the
    number of blocks greedy removed."""
    steps = report["greedy"]["steps"]
    with _figure(path, n_rows=2, height=3.6) as (top, bottom):
        counts = list(range(len(steps) + 1))
        accuracy = [report["greedy"]["baseline_selection_accuracy"]] + [
            step["selection_accuracy"] for step in steps
        ]
        top.plot(counts, accuracy, marker="o")
        top.set_xlabel("blocks removed by greedy pruning")
        top.set_ylabel("selection accuracy")
        top.set_title(title)
        top.grid(alpha=0.3)
        rules = report["comparison"]
        names = [row["rule"] for row in rules]
        bottom.bar(range(len(rules)), [row["test_accuracy"] for row in rules])
        bottom.axhline(report["unpruned_test_accuracy"], color="black", linewidth=1,
                       label="unpruned")  # fmt: skip
        bottom.set_xticks(range(len(rules)), names)
        low = min([row["test_accuracy"] for row in rules] + [report["unpruned_test_accuracy"]])
        bottom.set_ylim(max(0.0, low - 0.05), 1.0)
        bottom.set_ylabel(f"test accuracy, {report['greedy']['n_removed']} blocks removed")
        bottom.grid(alpha=0.3, axis="y")
        bottom.legend()
