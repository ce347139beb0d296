"""The accuracy estimate against the truth: does its interval hold the model's real accuracy?

For each dataset and seed, a project is made on a generated folder (its test split gives the
truth), and real rounds run (``labeler.api.run_round``: strategy auto, a linear head on the
joint embedding, a tenth of each batch as the audit slice) with the known labels given to
every queued image, as an annotator who never errs would. After each batch is labeled, status
gives the estimate (``labeler.loop.accuracy_audit``):
- the audit (the last 3 rounds' labeled slices pooled) against the mean test accuracy of those
  rounds' models;
- the cross-validation on the labels against the same round's test accuracy.

Reported per dataset: how often the 95% interval holds the truth, the mean error (estimate
minus truth) and the mean width of the interval.

    .venv/bin/python bench/accuracy_estimate.py                 # about 15 minutes on 2 cores
    .venv/bin/python bench/accuracy_estimate.py --datasets orientation --seeds 1 --budget 200
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
from labeler import api
from labeler.selection.accuracy_estimate import DEFAULT_AUDIT_SHARE

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="orientation,svrt-04,counting,fonts")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--initial", type=int, default=20)
    parser.add_argument("--query-size", type=int, default=50)
    parser.add_argument("--budget", type=int, default=520)
    parser.add_argument("--audit-share", type=float, default=DEFAULT_AUDIT_SHARE)
    parser.add_argument("--work", type=Path, default=Path("/tmp/accuracy-estimate"))
    parser.add_argument("--out", type=Path, default=RESULTS / "accuracy_estimate")
    add_markdown_only_flag(parser)
    args = parser.parse_args()
    if args.markdown_only:
        rewrite_saved_report(args.out, format_report)
        return
    started = time.perf_counter()
    runs = []
    for name in args.datasets.split(","):
        folder = get_dataset(name, args.work)
        for seed in range(args.seeds):
            steps = run_project(folder, args.work / "projects" / f"{name}-{seed}", seed, args)
            runs.append({"dataset": name, "seed": seed, "steps": steps})
            print(format_dataset(name, [runs[-1]]), flush=True)
    report = {
        "machine": describe_machine(),
        "config": {**vars(args), "work": str(args.work), "out": str(args.out)},
        "learner": LEARNER,
        "runs": runs,
        "seconds": time.perf_counter() - started,
    }
    save_report(args.out, report, format_report)


def run_project(folder: Path, path: Path, seed: int, args: argparse.Namespace) -> list[dict]:
    """Rounds until the budget, each batch labeled with the truth; after each, the estimate
    and the truth it is measured against."""
    shutil.rmtree(path, ignore_errors=True)
    api.create_project(path, folder)
    options: dict[str, Any] = {
        "model": LEARNER,
        "query_size": args.query_size,
        "audit_share": args.audit_share,
        "seed": seed,
        "threads": 2,
    }
    api.run_round(path, initial=args.initial, **{**options, "query_size": args.initial})
    label_queue(path)
    steps = []
    while True:
        status = api.get_status(path)
        if status["n_labeled"] + args.query_size > args.budget:
            break
        api.run_round(path, **options)
        label_queue(path)
        status = api.get_status(path)
        steps.append(measure(status))
    return steps


def label_queue(path: Path) -> None:
    """Every queued image gets its known label, as an annotator who never errs would give."""
    queued = api.get_queue(path)
    api.add_labels(path, {item["sample"]: item["known_label"] for item in queued})


def measure(status: dict[str, Any]) -> dict[str, Any]:
    """The estimate after the last batch is labeled, with the truth for each part."""
    estimate = status["accuracy_estimate"]
    test_by_round = {r["id"]: r["test_accuracy"] for r in status["rounds"] if r["status"] == "done"}
    audit = estimate["audit"]
    cross_validation = estimate["cross_validation"] or {}
    return {
        "n_labels": status["n_labeled"],
        "audit": {key: audit[key] for key in ("correct", "n", "accuracy", "low", "high", "rounds")},
        "audit_truth": float(np.mean([test_by_round[r] for r in audit["rounds"]]))
        if audit["rounds"]
        else None,
        "cross_validation": {
            key: cross_validation.get(key) for key in ("n", "accuracy", "low", "high", "round")
        },
        "cross_validation_truth": test_by_round.get(cross_validation.get("round")),
        "red_classes": [
            row["name"] for row in cross_validation.get("classes", []) if row["light"] == "red"
        ],
    }


def summarize(steps: list[dict[str, Any]], part: str) -> dict[str, Any]:
    """Coverage, mean error and mean width of one part's interval over ``steps``."""
    measured = [
        (step[part], step[f"{part}_truth"])
        for step in steps
        if step[part]["accuracy"] is not None and step[f"{part}_truth"] is not None
    ]
    if not measured:
        return {"n": 0}
    return {
        "n": len(measured),
        "covered": sum(found["low"] <= truth <= found["high"] for found, truth in measured),
        "mean_error": float(np.mean([found["accuracy"] - truth for found, truth in measured])),
        "mean_width": float(np.mean([found["high"] - found["low"] for found, _ in measured])),
        "mean_n": float(np.mean([found["n"] for found, _ in measured])),
    }


def format_dataset(name: str, runs: list[dict[str, Any]]) -> str:
    steps = [step for run in runs if run["dataset"] == name for step in run["steps"]]
    lines = [
        f"## {name}",
        "",
        "| estimate | rounds measured | interval holds the truth | mean error | mean width | "
        "mean images or labels |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for part, label in (("audit", "audit slice"), ("cross_validation", "cross-validation")):
        found = summarize(steps, part)
        if not found["n"]:
            lines.append(f"| {label} | 0 | - | - | - | - |")
            continue
        lines.append(
            f"| {label} | {found['n']} | {found['covered']} ({found['covered'] / found['n']:.0%}) "
            f"| {found['mean_error']:+.3f} | {found['mean_width']:.3f} | {found['mean_n']:.0f} |"
        )
    lines += [
        "",
        "| seed | labels | audit (images) | truth | cross-validation (labels) | truth | red |",
        "|---:|---:|---|---:|---|---:|---|",
    ]
    for run in runs:
        if run["dataset"] != name:
            continue
        for step in run["steps"]:
            lines.append(
                f"| {run['seed']} | {step['n_labels']} | {_interval(step['audit'])} | "
                f"{_number(step['audit_truth'])} | {_interval(step['cross_validation'])} | "
                f"{_number(step['cross_validation_truth'])} | "
                f"{', '.join(step['red_classes']) or '-'} |"
            )
    return "\n".join(lines) + "\n"


def _interval(found: dict[str, Any]) -> str:
    if found.get("accuracy") is None:
        return "-"
    return f"{found['accuracy']:.3f} ({found['low']:.3f}-{found['high']:.3f}; {found['n']})"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def format_report(report: dict[str, Any]) -> str:
    config = report["config"]
    runs = report["runs"]
    steps = [step for run in runs for step in run["steps"]]
    audit, cross_validation = summarize(steps, "audit"), summarize(steps, "cross_validation")
    lines = [
        "# The accuracy estimate against the test split",
        "",
        f"Machine: {report['machine']['cpu_count']} cores, {report['machine']['date']}. "
        f"Command: `python bench/accuracy_estimate.py --datasets {config['datasets']} --seeds "
        f"{config['seeds']} --initial {config['initial']} --query-size {config['query_size']} "
        f"--budget {config['budget']} --audit-share {config['audit_share']}`; real rounds "
        f"(strategy auto, learner {report['learner']}), every queued image labeled with its "
        f"known class; {report['seconds'] / 60:.1f} min.",
        "",
        "After each batch is labeled: the audit estimate (the labeled audit slices of the last "
        "3 rounds, pooled) against the mean test accuracy of those rounds' models, and the "
        "cross-validated accuracy on the labels against that round's test accuracy. A 95% "
        "interval should hold the truth about 95% of the time.",
        "",
    ]
    for label, found in (("Audit slice", audit), ("Cross-validation", cross_validation)):
        if found["n"]:
            lines.append(
                f"- {label}: the interval holds the truth in {found['covered']} of {found['n']} "
                f"rounds ({found['covered'] / found['n']:.0%}); mean error "
                f"{found['mean_error']:+.3f}, mean width {found['mean_width']:.3f}."
            )
    lines.append("")
    for name in dict.fromkeys(run["dataset"] for run in runs):
        lines.append(format_dataset(name, runs))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
