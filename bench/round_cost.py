"""The cost of one default round at scale: 1,000 labels on a 10,000-image pool, 2 cores.

Generates a counting dataset (6 classes, ``--n-pool`` pool and ``--n-test`` test images at its
64 px; the same pure function ``labeler generate`` writes), makes a project of it, records the
known labels of ``--n-labels`` random pool images (seed 0) as annotators' labels, and times
``labeler round`` as a user runs it: the defaults (``--model auto``, ``--strategy auto``), every
core. The first round also computes the embeddings it reads (the ``pixels`` PCA;
``efficientnet_lite0`` is left out of ``auto`` above 5,000 images unless cached), so a second
round on the same labels is timed too: the cost of every later round. Each round's report
gives the seconds spent training the CNN and the learner chosen.

    .venv/bin/python bench/round_cost.py          # about 5 minutes on the 2-core machine
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as is

import numpy as np

from bench.generated_folder import write_generated
from bench.machine import describe_machine
from labeler.cli import main as labeler
from labeler.store.project import open_project

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_SECONDS = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-pool", type=int, default=10_002, help="a multiple of 6 classes")
    parser.add_argument("--n-test", type=int, default=996)
    parser.add_argument("--n-labels", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=RESULTS / "round_cost")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        report = run(args, Path(work))
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n")
    text = format_report(report)
    args.out.with_suffix(".md").write_text(text)
    print(text)


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    data = write_generated(
        work / "counting", "counting", "shapes", n_train=args.n_pool, n_test=args.n_test
    )
    project = work / "project"
    assert labeler(["init", str(project), "--images", str(data)]) == 0
    with open_project(project) as opened:
        ids, known = opened.store.get_known_labels("pool")
        names = opened.class_names
        picked = np.random.default_rng(0).choice(len(ids), size=args.n_labels, replace=False)
        opened.store.add_labels(
            [(int(ids[row]), names[int(known[row])]) for row in picked],
            annotator="bench",
            source="bench",
        )
    rounds = []
    for name in ("first round (computes the embeddings)", "next round (embeddings cached)"):
        started = time.perf_counter()
        assert labeler(["round", str(project), "--query-size", "50"]) == 0
        seconds = time.perf_counter() - started
        with open_project(project) as opened:
            last = opened.store.get_last_done_round()
            assert last is not None and last.folder
            round_report = json.loads((project / last.folder / "report.json").read_text())
        rounds.append(
            {
                "name": name,
                "seconds": seconds,
                "learner": round_report["learner"],
                "train_seconds": round_report["train_seconds"],
                "n_scored": round_report["n_scored"],
                "test_accuracy": round_report["test_accuracy"],
            }
        )
    return {
        "machine": describe_machine(),
        "n_pool": args.n_pool,
        "n_test": args.n_test,
        "n_labels": args.n_labels,
        "rounds": rounds,
    }


def format_report(report: dict[str, Any]) -> str:
    lines = [
        "# One default round at scale",
        "",
        f"Written by `bench/round_cost.py`: counting (6 classes), {report['n_pool']:,} pool and "
        f"{report['n_test']:,} test images at 64 px, {report['n_labels']:,} labels, `labeler "
        "round PROJECT --query-size 50` with the defaults (`--model auto`, `--strategy auto`) "
        f"on every core. Target: under {TARGET_SECONDS:.0f} s.",
        "",
        f"Machine: {report['machine']}.",
        "",
        "| round | seconds | target met | learner chosen | CNN training s | test accuracy |",
        "|---|---:|---|---|---:|---:|",
    ]
    for entry in report["rounds"]:
        train = entry["train_seconds"]
        lines.append(
            f"| {entry['name']} | {entry['seconds']:.1f} | "
            f"{'yes' if entry['seconds'] < TARGET_SECONDS else 'no'} | "
            f"{entry['learner']['chosen']} | {'-' if train is None else f'{train:.1f}'} | "
            f"{entry['test_accuracy']:.3f} |"
        )
    lines += ["", "Candidates of the last round:", ""]
    for candidate in report["rounds"][-1]["learner"]["candidates"]:
        accuracy = candidate["accuracy"]
        shown = "-" if accuracy is None else f"{accuracy:.3f}"
        lines.append(f"- {candidate['name']}: {shown} ({candidate['method']})")
    skipped = report["rounds"][-1]["learner"].get("skipped") or []
    lines += [f"- {note}" for note in skipped]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
