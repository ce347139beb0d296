"""Shortcut audit of every SVRT problem, faithful vs balanced mode, at the issue's sample size.

For each problem and mode it generates ``--n-per-class`` images per class for fitting and as
many for scoring (in memory, the same images ``labeler generate`` would write), and reports the
held-out accuracy of the four one-number probes of ``labeler audit``. Balanced mode must bring
the ink-count probes (ink count and |ink - median|) to at most ``--limit`` on every problem.
Results go to ``bench/results/audit.json`` and ``audit.md``.

    python bench/audit.py                          # 4,000 images per class, both modes
    python bench/audit.py --n-per-class 500 --problems 1,15   # a smoke run
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as is

from generators.registry import get_family
from labeler.data.audit import FEATURE_NAMES, audit_arrays

RESULTS = Path(__file__).resolve().parent / "results"
INK_PROBES = ("ink_count", "ink_deviation")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-per-class", type=int, default=4000)
    parser.add_argument("--problems", help="comma-separated (default: all 23)")
    parser.add_argument("--modes", default="faithful,balanced")
    parser.add_argument("--limit", type=float, default=0.53, help="balanced ink-probe ceiling")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    family = get_family("svrt")
    problems = args.problems.split(",") if args.problems else family.list_problems()
    jobs = [(p, mode, args.n_per_class) for mode in args.modes.split(",") for p in problems]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(args.workers) as pool:
        rows = []
        for row in pool.imap(_audit_problem, jobs):
            rows.append(row)
            probes = "  ".join(f"{name} {row['probes'][name]:.3f}" for name in FEATURE_NAMES)
            print(f"problem {row['problem']:>2s} {row['mode']:9s} {probes}", flush=True)
    balanced = [row for row in rows if row["mode"] == "balanced"]
    worst = (
        max((max(row["probes"][name] for name in INK_PROBES), row["problem"]) for row in balanced)
        if balanced
        else None
    )
    results = {
        "n_per_class": args.n_per_class,
        "seconds": time.perf_counter() - started,
        "limit": args.limit,
        "rows": rows,
        "balanced_worst_ink_probe": None
        if worst is None
        else {"accuracy": worst[0], "problem": worst[1]},
        "balanced_within_limit": None if worst is None else worst[0] <= args.limit,
    }
    markdown = format_markdown(results)
    print()
    print(markdown)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "audit.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "audit.md").write_text(markdown + "\n")
    return 0


def _audit_problem(job: tuple[str, str, int]) -> dict[str, Any]:
    problem, mode, n_per_class = job
    family = get_family("svrt")
    params = family.make_params(problem, mode=mode)
    n_images = 2 * n_per_class
    train = family.generate(
        problem, params, split="train", seed=0, start=0, count=n_images, with_metadata=False
    )
    test = family.generate(
        problem, params, split="test", seed=0, start=0, count=n_images, with_metadata=False
    )
    result = audit_arrays(
        train.images, train.labels, test.images, test.labels, n_classes=2, name=problem
    )
    return {
        "problem": problem,
        "mode": mode,
        "probes": {probe.feature: probe.test_accuracy for probe in result.probes},
    }


def format_markdown(results: dict[str, Any]) -> str:
    lines = [
        f"# Shortcut audit: held-out accuracy of one-number probes "
        f"({results['n_per_class']} images per class to fit, as many to score)",
        "",
        "| problem | mode | " + " | ".join(FEATURE_NAMES) + " |",
        "|---:|---|" + "---:|" * len(FEATURE_NAMES),
    ]
    for row in results["rows"]:
        cells = " | ".join(f"{row['probes'][name]:.3f}" for name in FEATURE_NAMES)
        lines.append(f"| {row['problem']} | {row['mode']} | {cells} |")
    worst = results["balanced_worst_ink_probe"]
    if worst is not None:
        verdict = "within" if results["balanced_within_limit"] else "ABOVE"
        lines += [
            "",
            f"Balanced mode, ink probes ({', '.join(INK_PROBES)}): worst {worst['accuracy']:.3f} "
            f"on problem {worst['problem']}, {verdict} the limit {results['limit']}.",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
