"""Which input size and model learn SVRT at full data, and what a 1,000-label round costs.

For each SVRT problem (``--problems``) it generates (in memory, at the native 128 px)
``--n-train`` labeled images and ``--n-test`` test images. Every configuration (``--configs``)
is trained once per problem with ``labeler.learning.training.train_model`` on all ``--n-train``
images (80% train, 20% validation for early stopping; images shrunk by area averaging to the
input size), and its test accuracy is measured. Then one round per configuration: train from
scratch on ``--round-labels`` labels of the first problem and score a pool of ``--n-pool``
images with ``labeler.learning.scoring.score_pool``, with ``--threads`` torch threads.

A configuration is ``name:width:depth:stem_stride@size/size``, optionally followed by
``+field=value`` TrainConfig overrides (e.g. ``resnet:8:1:2@64+max_epochs=60+lr=0.001``);
``name`` may be a variant of ``bench/model_variants.py``. Each result is saved as it completes,
and a rerun skips those already in ``--out``/input_size.json, so the run can be resumed.

    OMP_NUM_THREADS=1 python bench/input_size.py
    OMP_NUM_THREADS=1 python bench/input_size.py --problems 23 --configs resnet:8:1:2@64
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as is

import bench.model_variants  # noqa: F401  (registers the variants)
from bench.machine import describe_machine
from bench.training import make_data, parse_configs
from labeler.learning.models import ModelConfig, count_parameters, make_model
from labeler.learning.scoring import score_pool
from labeler.learning.training import TrainConfig, evaluate_accuracy, train_model

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_CONFIGS = (
    "resnet:8:1:1@24/32,resnet:8:1:2@32/64/128,resnet:16:1:2@64,resnet:8:2:2@64,"
    "resnet-maxpool:8:1:2@64"
)
Candidate = tuple[ModelConfig, dict[str, Any]]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--problems", default="23,2,4,11,1,5", help="SVRT problems, comma-separated"
    )
    parser.add_argument("--configs", default=DEFAULT_CONFIGS, help="see the module docstring")
    parser.add_argument("--n-train", type=int, default=4000, help="labeled images per problem")
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--round-labels", type=int, default=1000)
    parser.add_argument("--n-pool", type=int, default=10000, help="images scored in a round")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--seed", type=int, default=0, help="training seed")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--retime",
        type=int,
        default=0,
        help="only time the rounds of --configs again, this many times each (best is kept)",
    )
    parser.add_argument(
        "--markdown-only", action="store_true", help="rewrite the .md from the saved .json"
    )
    args = parser.parse_args(argv)
    json_path, md_path = args.out / "input_size.json", args.out / "input_size.md"
    if args.markdown_only:
        md_path.write_text(make_markdown(json.loads(json_path.read_text())))
        return 0

    torch.set_num_threads(args.threads)
    problems = args.problems.split(",")
    candidates = parse_candidates(args.configs)
    results = load_results(json_path, args)
    if args.retime:
        retime_rounds(results, candidates, args, problem=problems[0])
        results["machine"] = describe_machine()
        save(results, json_path, md_path)
        return 0
    done = {(row["label"], row["problem"]) for row in results["rows"]}
    timed = {row["label"] for row in results["rounds"]}
    for problem in problems:
        todo = [c for c in candidates if (describe(*c), problem) not in done]
        if not todo:
            continue
        (train_x, train_y), (test_x, test_y) = make_data(problem, args.n_train, args.n_test)
        for model_config, overrides in todo:
            row = run_full_data(
                problem,
                (train_x, train_y),
                (test_x, test_y),
                model_config,
                overrides,
                seed=args.seed,
                n_threads=args.threads,
            )
            results["rows"].append(row)
            save(results, json_path, md_path)
    round_data = make_data(problems[0], args.round_labels, 1)[0]
    for model_config, overrides in candidates:
        if describe(model_config, overrides) in timed:
            continue
        results["rounds"].append(
            measure_round(
                round_data,
                model_config,
                overrides,
                n_pool=args.n_pool,
                n_threads=args.threads,
                problem=problems[0],
            )
        )
        save(results, json_path, md_path)
    results["machine"] = describe_machine()
    save(results, json_path, md_path)
    print(f"wrote {json_path} and {md_path}")
    return 0


def parse_candidates(text: str) -> list[Candidate]:
    """``name:width:depth:stem@sizes[+field=value...]`` entries, comma-separated."""
    candidates = []
    for spec in text.split(","):
        model_spec, *override_specs = spec.split("+")
        overrides: dict[str, Any] = {}
        for item in override_specs:
            field, _, value = item.partition("=")
            if field not in {f.name for f in dataclasses.fields(TrainConfig)}:
                raise SystemExit(f"bad override {item!r} in {spec!r}: not a TrainConfig field")
            overrides[field] = parse_value(value)
        candidates += [(config, overrides) for config in parse_configs(model_spec)]
    return candidates


def parse_value(text: str) -> Any:
    if text.lower() == "none":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def describe(config: ModelConfig, overrides: dict[str, Any] | None = None) -> str:
    """``resnet w8 d1 s2 64px`` (`` xy`` after it with coordinate channels), then any
    TrainConfig overrides."""
    label = f"{config.name} w{config.width} d{config.depth} s{config.stem_stride} "
    label += f"{config.image_size}px" + (" xy" if config.coordinates else "")
    return label + "".join(f" {key}={value}" for key, value in (overrides or {}).items())


def run_full_data(
    problem: str,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    model_config: ModelConfig,
    overrides: dict[str, Any],
    *,
    seed: int,
    n_threads: int,
) -> dict[str, Any]:
    """Train ``model_config`` on all of ``train`` (uint8 ``[n, 128, 128]``, labels ``[n]``) and
    return its steps, wall seconds, validation and test accuracy (on ``test``)."""
    train_config = TrainConfig(seed=seed, n_threads=n_threads, **overrides)
    result = train_model(
        train[0],
        train[1],
        n_classes=2,
        model_config=model_config,
        train_config=train_config,
        progress=False,
    )
    torch.set_num_threads(n_threads)
    test_accuracy = evaluate_accuracy(result.model, test[0], test[1], device="cpu")
    row = {
        "label": describe(model_config, overrides),
        "problem": problem,
        "config": model_config.to_dict(),
        "train_config": train_config.to_dict(),
        "n_parameters": count_parameters(result.model),
        "n_train": result.n_train,
        "n_val": result.n_val,
        "n_test": len(test[1]),
        "n_steps": result.n_steps,
        "n_epochs": result.n_epochs,
        "train_seconds": result.seconds,
        "val_accuracy": result.val_accuracy,
        "test_accuracy": test_accuracy,
    }
    print(
        f"svrt {problem:>2s} {row['label']:34s} {result.n_steps:4d} steps "
        f"{result.seconds:6.1f} s, val {result.val_accuracy:.3f} test {test_accuracy:.3f}",
        flush=True,
    )
    return row


def measure_round(
    labeled: tuple[np.ndarray, np.ndarray],
    model_config: ModelConfig,
    overrides: dict[str, Any],
    *,
    n_pool: int,
    n_threads: int,
    problem: str,
) -> dict[str, Any]:
    """One round: train from scratch on ``labeled`` (uint8 ``[n, 128, 128]``, labels ``[n]``)
    and score a pool of ``n_pool`` images drawn from those images (rows repeat)."""
    train_x, train_y = labeled
    train_config = TrainConfig(n_threads=n_threads, **overrides)
    result = train_model(
        train_x,
        train_y,
        n_classes=2,
        model_config=model_config,
        train_config=train_config,
        progress=False,
    )
    pool_rows = np.sort(np.arange(n_pool) % len(train_x))
    scored = score_pool(
        result.model, train_x, indices=pool_rows, n_threads=n_threads, progress=False
    )
    row = {
        "label": describe(model_config, overrides),
        "problem": problem,
        "n_labels": len(train_y),
        "n_pool": n_pool,
        "n_threads": n_threads,
        "n_steps": result.n_steps,
        "train_seconds": result.seconds,
        "score_seconds": scored.seconds,
        "round_seconds": result.seconds + scored.seconds,
        "n_parameters": count_parameters(make_model(model_config, n_classes=2)),
    }
    print(
        f"round {row['label']:34s} {len(train_y)} labels: train {result.seconds:5.1f} s "
        f"({result.n_steps} steps) + score {n_pool} in {scored.seconds:4.1f} s "
        f"= {row['round_seconds']:5.1f} s with {n_threads} thread(s)",
        flush=True,
    )
    return row


def retime_rounds(
    results: dict[str, Any], candidates: list[Candidate], args: argparse.Namespace, *, problem: str
) -> None:
    """Time the round of each candidate ``args.retime`` times, interleaved over the candidates
    (so that a busy machine disturbs them alike); keep every time in ``results["retimed"]``."""
    round_data = make_data(problem, args.round_labels, 1)[0]
    runs: dict[str, list[dict[str, Any]]] = {describe(*c): [] for c in candidates}
    for _ in range(args.retime):
        for model_config, overrides in candidates:
            runs[describe(model_config, overrides)].append(
                measure_round(
                    round_data,
                    model_config,
                    overrides,
                    n_pool=args.n_pool,
                    n_threads=args.threads,
                    problem=problem,
                )
            )
    retimed = {row["label"]: row for row in results.get("retimed", [])}
    for label, mine in runs.items():
        best = min(mine, key=lambda row: row["round_seconds"])
        retimed[label] = dict(best, all_round_seconds=[row["round_seconds"] for row in mine])
    results["retimed"] = list(retimed.values())


def load_results(path: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The saved results to resume, if made with the same data sizes; else a fresh record."""
    settings = {
        "n_train": args.n_train,
        "n_test": args.n_test,
        "round_labels": args.round_labels,
        "n_pool": args.n_pool,
        "threads": args.threads,
        "seed": args.seed,
    }
    if path.exists():
        saved: dict[str, Any] = json.loads(path.read_text())
        if saved["settings"] == settings:
            saved["commands"].append(" ".join(sys.argv))
            return saved
        raise SystemExit(f"{path} was made with {saved['settings']}, not {settings}: move it")
    return {
        "settings": settings,
        "commands": [" ".join(sys.argv)],
        "machine": describe_machine(),
        "rows": [],
        "rounds": [],
    }


def save(results: dict[str, Any], json_path: Path, md_path: Path) -> None:
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    md_path.write_text(make_markdown(results))


def make_markdown(results: dict[str, Any]) -> str:
    settings, machine = results["settings"], results["machine"]
    rows = results["rows"]
    problems = list(dict.fromkeys(row["problem"] for row in rows))
    labels = list(dict.fromkeys(row["label"] for row in rows + results["rounds"]))
    accuracy = {(row["label"], row["problem"]): row for row in rows}
    rounds = {row["label"]: row for row in results["rounds"]}
    n_fit = rows[0]["n_train"] if rows else 0
    lines = [
        f"# SVRT at full data: input size and model ({machine['date']}, "
        f"{machine['cpu_count']} CPUs, torch {machine.get('torch', '?')})",
        "",
        f"Each configuration trained once (seed {settings['seed']}) on {settings['n_train']} "
        f"generated images per problem ({n_fit} to fit, the rest for early stopping), generated "
        "at 128 px and shrunk by area averaging to the input size; test accuracy on "
        f"{settings['n_test']} test images. {settings['threads']} torch thread(s), one process. "
        "Default TrainConfig unless the label names an override.",
        "",
        f"Round = train from scratch on {settings['round_labels']} labels + score a pool of "
        f"{settings['n_pool']} images (128 px array, shrunk per batch), {settings['threads']} "
        "thread(s), one run each on the machine as shared (load average "
        f"{machine['load_average'][0]:.1f} at the end); rounds timed again, if any, are below.",
        "",
        "Test accuracy (steps of the full-data training in brackets):",
        "",
        "| model | params | round (s) | train (s) | score (s) | "
        + " | ".join(f"svrt {p}" for p in problems)
        + " |",
        "|---|---:|---:|---:|---:|" + "---:|" * len(problems),
    ]
    for label in labels:
        timing = rounds.get(label)
        cells = []
        for problem in problems:
            row = accuracy.get((label, problem))
            cells.append(f"{row['test_accuracy']:.3f} ({row['n_steps']})" if row else "")
        params = next(
            (r["n_parameters"] for r in rows + results["rounds"] if r["label"] == label), 0
        )
        timing_cells = (
            f"{timing['round_seconds']:.1f} | {timing['train_seconds']:.1f} | "
            f"{timing['score_seconds']:.1f}"
            if timing
            else " | | "
        )
        lines.append(f"| {label} | {params:,} | {timing_cells} | " + " | ".join(cells) + " |")
    if results.get("retimed"):
        lines += [
            "",
            "Rounds timed again, interleaved over the configurations, best of the runs (train "
            "+ score, seconds, 1,000 labels, pool as above):",
            "",
            "| model | threads | steps | best round (s) | train (s) | score (s) | all rounds (s) |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        for row in results["retimed"]:
            times = ", ".join(f"{t:.1f}" for t in row["all_round_seconds"])
            lines.append(
                f"| {row['label']} | {row['n_threads']} | {row['n_steps']} | "
                f"{row['round_seconds']:.1f} | {row['train_seconds']:.1f} | "
                f"{row['score_seconds']:.1f} | {times} |"
            )
    lines += ["", "Commands (a rerun resumes):", ""]
    lines += [
        f"    OMP_NUM_THREADS={settings['threads']} python {command}"
        for command in results["commands"]
    ]
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
