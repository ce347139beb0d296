"""Batches at mid budgets: top-k, top-k with k-center diversity, stochastic power sampling and
BADGE, against random.

For each dataset, ``labeler simulate`` runs margin sampling three ways (``--diversity none``,
``kcenter`` and ``power``), BADGE and random, with a linear head on the joint embedding
(``linear@efficientnet_lite0+pixels``, what ``--model auto`` picks on most of these sets) from
``--initial`` labels in batches of ``--query-size`` to ``--budget``, under several seeds.
Reported: mean test accuracy at each budget, its mean over the budgets (the area under the
learning curve, per label), and how often each method is the best at a budget.

    .venv/bin/python bench/batch_methods.py                 # about 15 minutes on 2 cores
    .venv/bin/python bench/batch_methods.py --datasets svrt-04 --seeds 1 --budget 220
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as is

from bench.machine import describe_machine
from bench.saved_results import add_markdown_only_flag, rewrite_saved_report, save_report
from bench.stop_meter import LEARNER, get_dataset
from labeler.api.simulations import simulate

RESULTS = Path(__file__).resolve().parent / "results"
# Method name -> (strategies of one simulate call, its diversity); each call's strategies are
# renamed to the method names below.
CALLS: dict[str, tuple[dict[str, str], str]] = {
    "none": ({"margin": "margin top-k", "badge": "badge", "random": "random"}, "none"),
    "kcenter": ({"margin": "margin + k-center"}, "kcenter"),
    "power": ({"margin": "margin + power"}, "power"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="svrt-04,counting,fonts")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--initial", type=int, default=20)
    parser.add_argument("--query-size", type=int, default=50)
    parser.add_argument("--budget", type=int, default=420)
    parser.add_argument("--work", type=Path, default=Path("/tmp/batch-methods"))
    parser.add_argument("--out", type=Path, default=RESULTS / "batch_methods")
    add_markdown_only_flag(parser)
    args = parser.parse_args()
    if args.markdown_only:
        rewrite_saved_report(args.out, format_report)
        return
    started = time.perf_counter()
    datasets: dict[str, dict[str, Any]] = {}
    for name in args.datasets.split(","):
        folder = get_dataset(name, args.work)
        curves: dict[str, Any] = {}
        for call, (names, diversity) in CALLS.items():
            out = args.work / "runs" / name / call
            shutil.rmtree(out, ignore_errors=True)
            outcome = simulate(
                folder,
                out,
                strategies=list(names),
                model=LEARNER,
                seeds=args.seeds,
                initial=args.initial,
                query_size=args.query_size,
                budget=args.budget,
                diversity=diversity,
                progress=False,
            )
            for strategy, method in names.items():
                runs = [run for run in outcome.results["runs"] if run["strategy"] == strategy]
                curves[method] = {
                    "n_labels": runs[0]["n_labels"],
                    "accuracy": [run["test_accuracy"] for run in runs],
                }
        datasets[name] = curves
        print(format_dataset(name, curves), flush=True)
    report = {
        "machine": describe_machine(),
        "config": {**vars(args), "work": str(args.work), "out": str(args.out)},
        "learner": LEARNER,
        "datasets": datasets,
        "seconds": time.perf_counter() - started,
    }
    save_report(args.out, report, format_report)


def format_dataset(name: str, curves: dict[str, Any]) -> str:
    methods = list(curves)
    n_labels = curves[methods[0]]["n_labels"]
    means = {method: np.mean(curves[method]["accuracy"], axis=0) for method in methods}
    best = np.max([means[method] for method in methods], axis=0)
    lines = [
        f"## {name}",
        "",
        "| method | " + " | ".join(str(n) for n in n_labels) + " | mean | best at |",
        "|---|" + "---:|" * (len(n_labels) + 2),
    ]
    for method in methods:
        n_best = int(np.sum(np.isclose(means[method], best)))
        cells = " | ".join(f"{value:.3f}" for value in means[method])
        lines.append(f"| {method} | {cells} | {means[method].mean():.3f} | {n_best} |")
    return "\n".join(lines) + "\n"


def format_report(report: dict[str, Any]) -> str:
    config = report["config"]
    overall: dict[str, list[float]] = {}
    for curves in report["datasets"].values():
        for method, found in curves.items():
            overall.setdefault(method, []).append(float(np.mean(found["accuracy"])))
    lines = [
        "# Batches at mid budgets: top-k, k-center, power sampling, BADGE",
        "",
        f"Machine: {report['machine']['cpu_count']} cores, {report['machine']['date']}. "
        f"Command: `python bench/batch_methods.py --datasets {config['datasets']} --seeds "
        f"{config['seeds']} --initial {config['initial']} --query-size {config['query_size']} "
        f"--budget {config['budget']}`; learner {report['learner']}; mean test accuracy over "
        f"the seeds at each label count; {report['seconds'] / 60:.1f} min.",
        "",
        "Mean accuracy over every budget and dataset: "
        + ", ".join(
            f"{method} {np.mean(values):.3f}"
            for method, values in sorted(overall.items(), key=lambda item: -np.mean(item[1]))
        )
        + ".",
        "",
    ]
    for name, curves in report["datasets"].items():
        lines.append(format_dataset(name, curves))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
