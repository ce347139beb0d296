"""SVRT learnability: full-data test accuracy on every SVRT problem, next to published ranges.

For each problem (``--problems``, default all 23) it generates ``--n-train`` labeled images and
``--n-test`` test images at the native 128 px, trains the model ``--model`` at input size
``--size`` once with ``labeler.learning.training.train_model`` (80% to fit, 20% for early
stopping), and measures test accuracy; ``--compare`` (another configuration, e.g. today's
default) is trained the same way on ``--compare-problems``. Each accuracy sits next to the
published range of its problem's group (``docs/svrt.md``: small CNNs trained from
scratch on large generated sets score 0.56-0.76 on same/different (SD) problems and 0.865-1.00 on
spatial-relation (SR) ones; problem 8 mixes both and is held to the SD range), and problems below
their range are flagged. Each result is saved as it completes (``--out``/svrt_learnability.json
and .md); a rerun skips those already saved.

    OMP_NUM_THREADS=1 python bench/svrt_learnability.py
    OMP_NUM_THREADS=1 python bench/svrt_learnability.py --problems 23,1 --n-train 4000 --size 64
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as is

from bench.input_size import Candidate, describe, parse_candidates, run_full_data
from bench.machine import describe_machine
from bench.training import make_data

RESULTS = Path(__file__).resolve().parent / "results"
N_PROBLEMS = 23
SAME_DIFFERENT = frozenset({1, 5, 7, 8, 15, 16, 19, 20, 21, 22})
# Published small-CNN test accuracy per group (low, high), from docs/svrt.md.
PUBLISHED_RANGES = {"SR": (0.865, 1.00), "SD": (0.56, 0.76)}
TODAY_DEFAULT = "resnet:8:1:1@24"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default=",".join(str(p) for p in range(1, N_PROBLEMS + 1)))
    parser.add_argument("--n-train", type=int, default=4000, help="labeled images per problem")
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--model", default="resnet:8:2:2", help="name:width:depth:stem")
    parser.add_argument("--size", type=int, default=64, help="input size of --model (px)")
    parser.add_argument(
        "--compare", default=TODAY_DEFAULT, help="name:width:depth:stem@size, or 'none'"
    )
    parser.add_argument("--compare-problems", default="", help="default: --problems")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--seed", type=int, default=0, help="training seed")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--reuse",
        type=Path,
        default=RESULTS / "input_size.json",
        help="take results of the same runs from this bench/input_size.py output (if present)",
    )
    parser.add_argument(
        "--markdown-only", action="store_true", help="rewrite the .md from the saved .json"
    )
    args = parser.parse_args(argv)
    json_path, md_path = args.out / "svrt_learnability.json", args.out / "svrt_learnability.md"
    if args.markdown_only:
        md_path.write_text(make_markdown(json.loads(json_path.read_text())))
        return 0

    torch.set_num_threads(args.threads)
    problems = [check_problem(p) for p in args.problems.split(",")]
    compare_problems = (
        [check_problem(p) for p in args.compare_problems.split(",")]
        if args.compare_problems
        else problems
    )
    chosen = parse_candidates(f"{args.model}@{args.size}")[0]
    compare = [] if args.compare == "none" else parse_candidates(args.compare)[:1]
    results = load_results(json_path, n_train=args.n_train, n_test=args.n_test, seed=args.seed)
    results["chosen"] = describe(*chosen)
    results["compare"] = describe(*compare[0]) if compare else None
    reusable = load_reusable(args.reuse, args)
    started = time.perf_counter()
    # The chosen model on every problem first, then the comparison: a cut-short run keeps the
    # figures that matter most.
    passes: list[tuple[Candidate, list[str]]] = [(chosen, problems)]
    passes += [(candidate, compare_problems) for candidate in compare]
    for (model_config, overrides), wanted in passes:
        label = describe(model_config, overrides)
        for index, problem in enumerate(wanted, start=1):
            if any(r["label"] == label and r["problem"] == problem for r in results["rows"]):
                continue
            row = reusable.get((label, problem))
            if row is None:
                train, test = make_data(problem, args.n_train, args.n_test)
                row = run_full_data(
                    problem,
                    train,
                    test,
                    model_config,
                    overrides,
                    seed=args.seed,
                    n_threads=args.threads,
                )
            group = get_group(problem)
            low, high = PUBLISHED_RANGES[group]
            row |= {"group": group, "published_low": low, "published_high": high}
            results["rows"].append(row)
            save(results, json_path, md_path)
            flag = "BELOW range" if row["test_accuracy"] < low else "in range"
            print(
                f"[{index}/{len(wanted)}] svrt {problem} ({group}) {label}: test "
                f"{row['test_accuracy']:.3f} vs {low:g}-{high:.2f} {flag}; "
                f"{time.perf_counter() - started:.0f} s so far",
                flush=True,
            )
    results["machine"] = describe_machine()
    save(results, json_path, md_path)
    print(f"wrote {json_path} and {md_path}")
    return 0


def check_problem(text: str) -> str:
    if not text.isdigit() or not 1 <= int(text) <= N_PROBLEMS:
        raise SystemExit(f"unknown SVRT problem {text!r}; valid ones: 1..{N_PROBLEMS}")
    return str(int(text))


def get_group(problem: str) -> str:
    """ "SD" (same/different, including problem 8) or "SR" (spatial relation)."""
    return "SD" if int(problem) in SAME_DIFFERENT else "SR"


def load_results(path: Path, *, n_train: int, n_test: int, seed: int) -> dict[str, Any]:
    """The saved results to resume, if made with the same data sizes; else a fresh record."""
    settings = {"n_train": n_train, "n_test": n_test, "seed": seed}
    if path.exists():
        saved: dict[str, Any] = json.loads(path.read_text())
        if saved["settings"] != settings:
            raise SystemExit(f"{path} was made with {saved['settings']}, not {settings}: move it")
        saved["commands"].append(" ".join(sys.argv))
        return saved
    return {
        "settings": settings,
        "commands": [" ".join(sys.argv)],
        "machine": describe_machine(),
        "rows": [],
    }


def load_reusable(path: Path, args: argparse.Namespace) -> dict[tuple[str, str], dict[str, Any]]:
    """Rows of a bench/input_size.py run with the same data, seed and threads, by (label,
    problem): the same training, so it is not run twice. Each is marked with its source."""
    if not path.exists():
        return {}
    saved = json.loads(path.read_text())
    settings = saved["settings"]
    same = (settings["n_train"], settings["n_test"], settings["seed"], settings["threads"]) == (
        args.n_train,
        args.n_test,
        args.seed,
        args.threads,
    )
    if not same:
        return {}
    return {(row["label"], row["problem"]): dict(row, source=path.name) for row in saved["rows"]}


def save(results: dict[str, Any], json_path: Path, md_path: Path) -> None:
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    md_path.write_text(make_markdown(results))


def make_markdown(results: dict[str, Any]) -> str:
    settings, machine, rows = results["settings"], results["machine"], results["rows"]
    labels = list(dict.fromkeys(row["label"] for row in rows))
    problems = sorted({row["problem"] for row in rows}, key=int)
    by_key = {(row["label"], row["problem"]): row for row in rows}
    n_fit = rows[0]["n_train"] if rows else 0
    threads = rows[0]["train_config"]["n_threads"] if rows else "?"
    lines = [
        f"# SVRT learnability at full data ({machine['date']}, {machine['cpu_count']} CPUs, "
        f"torch {machine.get('torch', '?')})",
        "",
        f"Per problem: {settings['n_train']} generated training images ({n_fit} to fit, the "
        f"rest for early stopping), test accuracy on {settings['n_test']} test images; generated "
        f"at 128 px and shrunk by area averaging; one training run (seed {settings['seed']}), "
        f"default TrainConfig, {threads} torch thread(s). Published ranges (small CNNs from "
        "scratch, large generated sets): SR 0.865-1.00, SD 0.56-0.76 (problem 8, SD+SR, held "
        "to SD). **below** = under the low end of the range. Rows marked * were trained by "
        "bench/input_size.py with the same data, seed and threads (see input_size.md).",
        "",
        "| problem | group | published | "
        + " | ".join(f"{label} | steps | s" for label in labels)
        + " |",
        "|---:|---|---|" + "---:|---:|---:|" * len(labels),
    ]
    for problem in problems:
        group = next(row["group"] for row in rows if row["problem"] == problem)
        low, high = PUBLISHED_RANGES[group]
        cells = []
        for label in labels:
            row = by_key.get((label, problem))
            if row is None:
                cells.append(" | | ")
                continue
            mark = " **below**" if row["test_accuracy"] < low else ""
            mark += " *" if "source" in row else ""
            cells.append(
                f"{row['test_accuracy']:.3f}{mark} | {row['n_steps']} | {row['train_seconds']:.0f}"
            )
        lines.append(f"| {problem} | {group} | {low:g}-{high:.2f} | " + " | ".join(cells) + " |")
    lines.append("")
    for label in labels:
        mine = [row for row in rows if row["label"] == label]
        below = [row["problem"] for row in mine if row["test_accuracy"] < row["published_low"]]
        lines.append(
            f"- {label}: {len(mine)} problem(s), {len(below)} below their range"
            + (f" ({', '.join(below)})" if below else "")
            + f"; {sum(row['train_seconds'] for row in mine) / 60:.0f} min of training."
        )
    lines += ["", "Commands (a rerun resumes):", ""]
    lines += [f"    OMP_NUM_THREADS={threads} python {command}" for command in results["commands"]]
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
