"""Warm-started rounds against rounds trained from scratch: accuracy at each budget, and time.

For each dataset, ``labeler simulate`` runs margin sampling with the CNN (``--model resnet``,
every round a network) under several seeds, once training every round from scratch and once
with ``--warm-start`` (training carried on from the last round's weights, or shrunk and
perturbed as ``labeler.learning.warm_start``'s constants say, for a share of the steps), in the
same process one after the other.

Targets (issue 20): the same accuracy at each budget within the seeds' spread (here: the warm
mean is not below the scratch mean by more than the larger of the two standard deviations
across seeds; a warm mean above it by more is counted apart, as better), and the simulation at
least 3x faster.

    .venv/bin/python bench/warm_start.py                 # about an hour on one core
    .venv/bin/python bench/warm_start.py --datasets orientation --seeds 1 --budget 200
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
from bench.stop_meter import get_dataset
from labeler.api.simulations import simulate
from labeler.learning.warm_start import PERTURB, SCRATCH_NEW_SHARE, SHRINK, WARM_STEP_SHARE

RESULTS = Path(__file__).resolve().parent / "results"
MODES = {"scratch": False, "warm": True}
TARGET_SPEED_UP = 3.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="svrt-04,orientation,counting")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--initial", type=int, default=50)
    parser.add_argument("--query-size", type=int, default=50)
    parser.add_argument("--budget", type=int, default=500)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads (1: two runs share two cores)"
    )
    parser.add_argument("--work", type=Path, default=Path("/tmp/warm-start"))
    parser.add_argument("--out", type=Path, default=RESULTS / "warm_start")
    add_markdown_only_flag(parser)
    args = parser.parse_args()
    if args.markdown_only:
        rewrite_saved_report(args.out, format_report)
        return
    started = time.perf_counter()
    datasets: dict[str, dict[str, Any]] = {}
    for name in args.datasets.split(","):
        folder = get_dataset(name, args.work)
        datasets[name] = {}
        for mode, warm in MODES.items():
            out = args.work / "runs" / name / mode
            shutil.rmtree(out, ignore_errors=True)  # a rerun measures again, never continues
            outcome = simulate(
                folder,
                out,
                strategies=["margin"],
                model="resnet",
                seeds=args.seeds,
                initial=args.initial,
                query_size=args.query_size,
                budget=args.budget,
                warm_start=warm,
                threads=args.threads,
                progress=False,
            )
            runs = outcome.results["runs"]
            datasets[name][mode] = {
                "n_labels": runs[0]["n_labels"],
                "accuracy": [run["test_accuracy"] for run in runs],
                "seconds": [run["seconds"] for run in runs],
                "full_data_accuracy": outcome.results["full_data_accuracy"],
            }
            print(f"{name} {mode}: {sum(datasets[name][mode]['seconds']):.0f} s", flush=True)
        print(format_dataset(name, datasets[name]), flush=True)
    report = {
        "machine": describe_machine(),
        "config": {**vars(args), "work": str(args.work), "out": str(args.out)},
        "warm": {
            "shrink": SHRINK,
            "perturb": PERTURB,
            "step_share": WARM_STEP_SHARE,
            "scratch_new_share": SCRATCH_NEW_SHARE,
        },
        "datasets": datasets,
        "seconds": time.perf_counter() - started,
    }
    save_report(args.out, report, format_report)


def compare(found: dict[str, Any]) -> dict[str, Any]:
    """Per budget the two means and spreads, whether they agree, and the speed-up."""
    scratch = np.asarray(found["scratch"]["accuracy"])
    warm = np.asarray(found["warm"]["accuracy"])
    spread = np.maximum(scratch.std(axis=0), warm.std(axis=0))
    gap = warm.mean(axis=0) - scratch.mean(axis=0)
    return {
        "scratch_mean": scratch.mean(axis=0).tolist(),
        "warm_mean": warm.mean(axis=0).tolist(),
        "spread": spread.tolist(),
        "gap": gap.tolist(),
        "not_worse": (gap >= -spread - 1e-12).tolist(),
        "better": (gap > spread + 1e-12).tolist(),
        "speed_up": sum(found["scratch"]["seconds"]) / max(sum(found["warm"]["seconds"]), 1e-9),
    }


def format_dataset(name: str, found: dict[str, Any]) -> str:
    compared = compare(found)
    n_not_worse = sum(compared["not_worse"])
    n_better = sum(compared["better"])
    n_budgets = len(compared["not_worse"])
    lines = [
        f"## {name}",
        "",
        f"Simulation time: {sum(found['scratch']['seconds']):.0f} s from scratch, "
        f"{sum(found['warm']['seconds']):.0f} s warm: **{compared['speed_up']:.2f}x** (target "
        f"{TARGET_SPEED_UP:g}x: {'met' if compared['speed_up'] >= TARGET_SPEED_UP else 'not met'})"
        f". Warm accuracy not below scratch beyond the seeds' spread at {n_not_worse} of "
        f"{n_budgets} budgets (above it beyond the spread at {n_better}).",
        "",
        "| labels | from scratch | warm | gap | spread | not worse | better |",
        "|---:|---:|---:|---:|---:|---|---|",
    ]
    for index, n_labels in enumerate(found["scratch"]["n_labels"]):
        lines.append(
            f"| {n_labels} | {compared['scratch_mean'][index]:.3f} | "
            f"{compared['warm_mean'][index]:.3f} | {compared['gap'][index]:+.3f} | "
            f"{compared['spread'][index]:.3f} | "
            f"{'yes' if compared['not_worse'][index] else 'no'} | "
            f"{'yes' if compared['better'][index] else ''} |"
        )
    return "\n".join(lines) + "\n"


def format_report(report: dict[str, Any]) -> str:
    config = report["config"]
    # Reports saved before the settings were recorded ran with these.
    warm = report.get("warm", {"shrink": 0.4, "perturb": 0.1, "step_share": 1 / 3})
    lines = [
        "# Warm-started rounds against rounds from scratch",
        "",
        f"Machine: {report['machine']['cpu_count']} cores, {report['machine']['date']}. "
        f"Command: `python bench/warm_start.py --datasets {config['datasets']} --seeds "
        f"{config['seeds']} --initial {config['initial']} --query-size {config['query_size']} "
        f"--budget {config['budget']}`; margin sampling, `--model resnet` (a network every "
        f"round), mean test accuracy over the seeds; {report['seconds'] / 60:.1f} min in all.",
        "",
        f"Warm: {describe_warm(warm)}. Not worse: the warm mean is not below "
        "the scratch mean by more than the larger standard deviation across seeds; better: above "
        "it by more. Times are the runs' own (the full-data training each simulation also does "
        "is left out).",
        "",
    ]
    if "note" in report:
        lines += [report["note"], ""]
    for name, found in report["datasets"].items():
        lines.append(format_dataset(name, found))
    return "\n".join(lines)


def describe_warm(warm: dict[str, float]) -> str:
    """How the warm rounds started and how long they trained (a report saved before
    ``scratch_new_share`` existed warm-started from the second round on)."""
    share = f"{warm['step_share']:.0%} of the steps"
    if warm["shrink"] == 1.0 and warm["perturb"] == 0.0:
        described = f"training carried on from the last round's weights, for {share}"
    else:
        described = (
            f"the last round's weights shrunk by {warm['shrink']:g} and perturbed by "
            f"{warm['perturb']:g} of a fresh initialization, trained for {share}"
        )
    if "scratch_new_share" not in warm:
        return described + ", from the second round on"
    return (
        f"{described}; from scratch while {warm['scratch_new_share']:.0%} or more of the labels "
        "are new since the last network (the second round)"
    )


if __name__ == "__main__":
    main()
