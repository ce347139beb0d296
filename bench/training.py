"""Training speed and accuracy of one round, per architecture and input size, on SVRT problems.

For each problem it generates (in memory) ``--n-labels`` training images and ``--n-test`` test
images at 128 px. Then:

1. throughput: training images/s of every configuration (forward + backward + AdamW step on
   batches of 64), with each of ``--throughput-threads`` torch thread counts, best of
   ``--repeats`` runs interleaved over the configurations, so that a busy machine disturbs them
   alike;
2. rounds: for every configuration, problem and seed, one round from scratch with
   ``labeler.learning.training.train_model`` (default ``TrainConfig``; images shrunk by area
   averaging): steps, wall time and test accuracy; and a round with ``--n-small`` labels (the
   label-savings simulation retrains from scratch every round). Round times are also estimated
   as steps / throughput, the time on an otherwise idle machine;
3. the chosen configuration, at its size and at 64 px, trains one ``--n-labels`` round with
   every core and with one thread, best of ``--repeats`` (wall time).

The default model (``labeler.learning.models.DEFAULT_MODEL_CONFIG``) is chosen from these
figures: the fastest configuration (by estimated round time) whose mean test accuracy on every
problem is within ``--tolerance`` of the best on that problem. Results go to
``bench/results/training.json`` and ``.md``.

    python bench/training.py
    python bench/training.py --problems 4 --configs resnet:8:1:2@32 --seeds 0 --repeats 1
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as is

from bench.machine import describe_machine
from bench.saved_results import add_markdown_only_flag, rewrite_markdown
from generators.registry import get_family
from labeler.learning.devices import count_cores
from labeler.learning.models import (
    DEFAULT_MODEL_CONFIG,
    ModelConfig,
    count_parameters,
    make_model,
    make_model_input,
)
from labeler.learning.training import TrainConfig, evaluate_accuracy, train_model

RESULTS = Path(__file__).resolve().parent / "results"
# name:width:depth:stem_stride@sizes (sizes separated by "/"; resnet18 takes only @sizes).
DEFAULT_CONFIGS = (
    "resnet:8:1:2@32/64,resnet:16:1:2@64,resnet:8:1:1@16/24/32,resnet:16:1:1@24/32,"
    "resnet:4:1:1@24,resnet:8:2:1@24,plain:16:1:1@24,resnet18@24"
)
BATCH_SIZE = TrainConfig().batch_size


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default="4,11", help="SVRT problems, comma-separated")
    parser.add_argument(
        "--configs", default=DEFAULT_CONFIGS, help="name:width:depth:stem_stride@size/size,..."
    )
    parser.add_argument("--n-labels", type=int, default=1000)
    parser.add_argument("--n-small", type=int, default=300, help="labels of the small round")
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--seeds", default="0,1,2", help="training seeds, comma-separated")
    parser.add_argument("--tolerance", type=float, default=0.02)
    parser.add_argument("--throughput-steps", type=int, default=10, help="timed steps per run")
    parser.add_argument("--throughput-threads", default="1,0", help="thread counts (0: all)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved timing runs")
    parser.add_argument("--threads", type=int, default=0, help="threads of the rounds (0: all)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    add_markdown_only_flag(parser)
    args = parser.parse_args(argv)
    if args.markdown_only:
        return rewrite_markdown(args.out, "training", make_markdown)

    n_cores = count_cores()
    problems = args.problems.split(",")
    seeds = [int(seed) for seed in args.seeds.split(",")]
    configs = parse_configs(args.configs)
    thread_counts = [int(n) or n_cores for n in args.throughput_threads.split(",")]
    round_threads = args.threads or n_cores

    data = {problem: make_data(problem, args.n_labels, args.n_test) for problem in problems}
    throughput = {
        str(n_threads): measure_throughput(
            configs,
            data[problems[0]][0][0],
            n_threads=n_threads,
            n_steps=args.throughput_steps,
            repeats=args.repeats,
        )
        for n_threads in dict.fromkeys(thread_counts)
    }
    best_rate = {
        describe(config): max(rates[describe(config)] for rates in throughput.values())
        for config in configs
    }
    rows = []
    for config in configs:
        rate = best_rate[describe(config)]
        for problem in problems:
            (train_x, train_y), (test_x, test_y) = data[problem]
            for seed in seeds:
                train_config = TrainConfig(seed=seed, n_threads=round_threads)
                result = train_model(
                    train_x,
                    train_y,
                    n_classes=2,
                    model_config=config,
                    train_config=train_config,
                    progress=False,
                )
                torch.set_num_threads(round_threads)
                test_accuracy = evaluate_accuracy(result.model, test_x, test_y, device="cpu")
                small = train_model(
                    train_x[: args.n_small],
                    train_y[: args.n_small],
                    n_classes=2,
                    model_config=config,
                    train_config=train_config,
                    progress=False,
                )
                row = {
                    "config": config.to_dict(),
                    "label": describe(config),
                    "problem": problem,
                    "seed": seed,
                    "n_steps": result.n_steps,
                    "n_epochs": result.n_epochs,
                    "wall_seconds": result.seconds,
                    "estimated_seconds": result.n_steps * BATCH_SIZE / rate,
                    "val_accuracy": result.val_accuracy,
                    "test_accuracy": test_accuracy,
                    "small_n_steps": small.n_steps,
                    "small_wall_seconds": small.seconds,
                    "small_estimated_seconds": small.n_steps
                    * min(BATCH_SIZE, small.n_train)
                    / rate,
                }
                rows.append(row)
                print(
                    f"{row['label']:24s} svrt {problem:>2s} seed {seed}: "
                    f"{result.n_steps:3d} steps {result.seconds:5.1f} s wall "
                    f"(~{row['estimated_seconds']:4.1f} s idle), test {test_accuracy:.3f}; "
                    f"{args.n_small} labels: {small.n_steps} steps "
                    f"~{row['small_estimated_seconds']:.1f} s",
                    flush=True,
                )
    summary = summarize(rows, configs, throughput, best_rate, tolerance=args.tolerance)
    chosen = next(entry for entry in summary["table"] if entry["label"] == summary["chosen"])
    chosen_config = ModelConfig(**chosen["config"])
    checks = [
        measure_round(data[problems[0]][0], config, n_threads=n_threads, repeats=args.repeats)
        for config in dict.fromkeys(
            [chosen_config, dataclasses.replace(chosen_config, image_size=64)]
        )
        for n_threads in dict.fromkeys([n_cores, 1])
    ]
    results = {
        "machine": describe_machine(),
        "n_labels": args.n_labels,
        "n_small": args.n_small,
        "n_test": args.n_test,
        "problems": problems,
        "seeds": seeds,
        "train_config": TrainConfig().to_dict(),
        "tolerance": args.tolerance,
        "throughput_steps": args.throughput_steps,
        "repeats": args.repeats,
        "round_threads": round_threads,
        "train_images_per_second": throughput,
        "round_checks": checks,
        "current_default": DEFAULT_MODEL_CONFIG.to_dict(),
        "summary": summary,
        "rows": rows,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "training.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "training.md").write_text(make_markdown(results))
    print(f"chosen: {summary['chosen']} (current default: {describe(DEFAULT_MODEL_CONFIG)})")
    print(f"wrote {args.out / 'training.json'} and {args.out / 'training.md'}")
    return 0


def parse_configs(text: str) -> list[ModelConfig]:
    """``name:width:depth:stem_stride@size/size`` entries, comma-separated, in that order."""
    configs = []
    for spec in text.split(","):
        fields, _, sizes = spec.partition("@")
        parts = fields.split(":")
        values: dict[str, Any] = {"name": parts[0]}
        if len(parts) == 4:
            values.update(width=int(parts[1]), depth=int(parts[2]), stem_stride=int(parts[3]))
        elif len(parts) != 1:
            raise SystemExit(f"bad config {spec!r}: expected name:width:depth:stem_stride@sizes")
        for size in (sizes or str(DEFAULT_MODEL_CONFIG.image_size)).split("/"):
            configs.append(ModelConfig(**values, image_size=int(size)))
    return configs


def make_data(
    problem: str, n_train: int, n_test: int
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """(train images, labels), (test images, labels) of an SVRT problem at 128 px."""
    family = get_family("svrt")
    params = family.make_params(problem)
    out = []
    for split, count in (("train", n_train), ("test", n_test)):
        batch = family.generate(
            problem, params, split=split, seed=0, start=0, count=count, with_metadata=False
        )
        out.append((np.asarray(batch.images), np.asarray(batch.labels)))
    return out[0], out[1]


def measure_throughput(
    configs: list[ModelConfig], images: np.ndarray, *, n_threads: int, n_steps: int, repeats: int
) -> dict[str, float]:
    """Training images/s of each config with ``n_threads`` threads (batch 64, forward + backward
    + AdamW step, channels_last), best of ``repeats`` runs interleaved over the configs, each
    after 3 warm-up steps."""
    torch.set_num_threads(n_threads)
    pixels = torch.from_numpy(np.array(images[:BATCH_SIZE]))
    targets = torch.arange(len(pixels)) % 2
    best = {describe(config): float("inf") for config in configs}
    for _ in range(repeats):
        for config in configs:
            torch.manual_seed(0)
            model = make_model(config, n_classes=2).to(memory_format=torch.channels_last).train()
            optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
            x = make_model_input(pixels, image_size=config.image_size)
            started = time.perf_counter()
            for step in range(3 + n_steps):
                if step == 3:
                    started = time.perf_counter()
                loss = torch.nn.functional.cross_entropy(model(x), targets)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            seconds = (time.perf_counter() - started) / n_steps
            best[describe(config)] = min(best[describe(config)], seconds)
    rates = {label: len(pixels) / seconds for label, seconds in best.items()}
    for label, rate in rates.items():
        print(f"{label:24s} {rate:7.0f} train img/s with {n_threads} thread(s)", flush=True)
    return rates


def measure_round(
    data: tuple[np.ndarray, np.ndarray], config: ModelConfig, *, n_threads: int, repeats: int
) -> dict[str, Any]:
    """Wall time of one round of ``config`` with the default TrainConfig, best of ``repeats``."""
    images, labels = data
    runs = [
        train_model(
            images,
            labels,
            n_classes=2,
            model_config=config,
            train_config=TrainConfig(n_threads=n_threads),
            progress=False,
        )
        for _ in range(repeats)
    ]
    best = min(runs, key=lambda run: run.seconds)
    print(
        f"round of {describe(config)} with {len(labels)} labels on {n_threads} thread(s): "
        f"best {best.seconds:.1f} s of {[round(run.seconds, 1) for run in runs]}",
        flush=True,
    )
    return {
        "config": config.to_dict(),
        "label": describe(config),
        "n_labels": len(labels),
        "n_threads": n_threads,
        "best_seconds": best.seconds,
        "all_seconds": [run.seconds for run in runs],
        "n_steps": best.n_steps,
    }


def describe(config: ModelConfig) -> str:
    if config.name == "resnet18":
        return f"resnet18 {config.image_size}px"
    return (
        f"{config.name} w{config.width} d{config.depth} s{config.stem_stride} {config.image_size}px"
    )


def summarize(
    rows: list[dict[str, Any]],
    configs: list[ModelConfig],
    throughput: dict[str, dict[str, float]],
    best_rate: dict[str, float],
    *,
    tolerance: float,
) -> dict[str, Any]:
    """Per configuration: throughput, mean round times, mean test accuracy; and the choice."""
    table = []
    for config in configs:
        label = describe(config)
        mine = [row for row in rows if row["label"] == label]
        table.append(
            {
                "label": label,
                "config": config.to_dict(),
                "n_parameters": count_parameters(make_model(config, n_classes=2)),
                "train_images_per_second": {
                    threads: rates[label] for threads, rates in throughput.items()
                },
                "best_train_images_per_second": best_rate[label],
                "n_steps": statistics.mean(row["n_steps"] for row in mine),
                "estimated_seconds": statistics.mean(row["estimated_seconds"] for row in mine),
                "wall_seconds": statistics.mean(row["wall_seconds"] for row in mine),
                "small_estimated_seconds": statistics.mean(
                    row["small_estimated_seconds"] for row in mine
                ),
                "test_accuracy": statistics.mean(row["test_accuracy"] for row in mine),
                "test_accuracy_by_problem": {
                    problem: statistics.mean(
                        row["test_accuracy"] for row in mine if row["problem"] == problem
                    )
                    for problem in dict.fromkeys(row["problem"] for row in mine)
                },
            }
        )
    problems = list(table[0]["test_accuracy_by_problem"])
    best = {
        problem: max(entry["test_accuracy_by_problem"][problem] for entry in table)
        for problem in problems
    }
    good = [
        entry
        for entry in table
        if all(
            entry["test_accuracy_by_problem"][problem] >= best[problem] - tolerance
            for problem in problems
        )
    ]
    chosen = min(good, key=lambda entry: entry["estimated_seconds"])
    return {"table": table, "best_test_accuracy_by_problem": best, "chosen": chosen["label"]}


def make_markdown(results: dict[str, Any]) -> str:
    machine = results["machine"]
    summary = results["summary"]
    problems = results["problems"]
    threads = list(results["train_images_per_second"])
    lines = [
        f"# Training speed and accuracy ({machine['date']}, {machine['cpu_count']} CPUs, "
        f"torch {machine['torch']})",
        "",
        f"One round from scratch with {results['n_labels']} labels (80% train, 20% validation) "
        f"of SVRT problems {', '.join(problems)}, generated at 128 px and shrunk by area "
        f"averaging to the input size; test accuracy on {results['n_test']} test images; seeds "
        f"{results['seeds']}; default TrainConfig (batch 64, at least "
        f"{results['train_config']['min_steps']} steps, early stopping).",
        "",
        "Train img/s: forward + backward + AdamW step on batches of 64 with 1 or every torch "
        f"thread, best of {results['repeats']} runs of {results['throughput_steps']} steps "
        "interleaved over the configurations, so that on a busy machine the ratios stay fair. "
        "Round (s) = the round's steps / the better rate, the time on an otherwise idle machine; "
        f"wall (s) is what the round took here with {results['round_threads']} thread(s) "
        "(0: every core). Small round = "
        f"{results['n_small']} labels, estimated the same way.",
        "",
        "| model | params | "
        + " | ".join(f"img/s {t} thr" for t in threads)
        + " | steps | round (s) | wall (s) | small round (s) | mean test acc | "
        + " | ".join(f"svrt {p}" for p in problems)
        + " |",
        "|---|---:|"
        + "---:|" * len(threads)
        + "---:|---:|---:|---:|---:|"
        + "---:|" * len(problems),
    ]
    for entry in summary["table"]:
        marker = " **(chosen)**" if entry["label"] == summary["chosen"] else ""
        rates = " | ".join(f"{entry['train_images_per_second'][t]:.0f}" for t in threads)
        by_problem = " | ".join(
            f"{entry['test_accuracy_by_problem'].get(p, float('nan')):.3f}" for p in problems
        )
        lines.append(
            f"| {entry['label']}{marker} | {entry['n_parameters']:,} | {rates} | "
            f"{entry['n_steps']:.0f} | {entry['estimated_seconds']:.1f} | "
            f"{entry['wall_seconds']:.1f} | {entry['small_estimated_seconds']:.1f} | "
            f"{entry['test_accuracy']:.3f} | {by_problem} |"
        )
    best = ", ".join(
        f"svrt {p} {a:.3f}" for p, a in summary["best_test_accuracy_by_problem"].items()
    )
    lines += [
        "",
        "Chosen: the fastest configuration (by estimated round time) whose mean test accuracy "
        f"on every problem is within {results['tolerance']:.2f} of the best on that problem "
        f"({best}): **{summary['chosen']}**.",
        "",
        "Load average at the end of this run: "
        f"{machine['load_average'][0]:.1f}. With 2 threads every torch op waits for both; when "
        "other processes hold the cores those waits stretch many times over (2-thread rates "
        "below the 1-thread ones are the sign). Give `TrainConfig(n_threads=1)` to each of "
        "several processes that share the cores.",
        "",
        "Rounds of the chosen configuration, and of the same at 64 px, with "
        f"{results['n_labels']} labels of SVRT problem {problems[0]}; wall time on the shared "
        f"machine, best of {results['repeats']}:",
        "",
        "| model | threads | steps | best (s) | all (s) |",
        "|---|---:|---:|---:|---|",
    ]
    for check in results["round_checks"]:
        seconds = ", ".join(f"{s:.1f}" for s in check["all_seconds"])
        lines.append(
            f"| {check['label']} | {check['n_threads']} | {check['n_steps']} | "
            f"{check['best_seconds']:.1f} | {seconds} |"
        )
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
