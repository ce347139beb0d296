"""The rounds' CNN trained from scratch for at least 200 steps (the old default), 400 or 800.

A round's network is planned at least ``TrainConfig.min_steps`` optimizer steps, or
``max_epochs`` epochs when those are more, and early stopping may act once ``min_steps`` are
done. With a few hundred labels 30 epochs are only some 200 steps of 64 images, so
``min_steps`` decides how long a round trains.

For each dataset and seed, random label sets of each ``--budgets`` size are drawn from the pool
(every class gets its share, the rest at random; seeded), and the CNN a round trains
(``DEFAULT_MODEL_CONFIG`` at the size and with the augmentation ``labeler simulate`` chooses for
the data; none for scikit-learn's digits, held in memory) is trained once per ``--min-steps``
setting on the same labels, with one torch thread, the settings in turn in the same process.
Reported: test accuracy, steps run and seconds. Two processes share the two cores
(``--processes``), one dataset and seed each; the first tasks of the saved run shared the
machine with a test run too, so their seconds are high.

    .venv/bin/python bench/training_steps.py        # about 35 minutes on the 2-core machine
    .venv/bin/python bench/training_steps.py --datasets counting --seeds 1 --budgets 300
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as is

from bench.first_labels import load_dataset
from bench.machine import describe_machine
from bench.saved_results import add_markdown_only_flag, rewrite_saved_report, save_report
from labeler.data.augmentation import choose_augmentation
from labeler.data.image_arrays import get_channels
from labeler.learning.models import DEFAULT_MODEL_CONFIG
from labeler.learning.training import TrainConfig, evaluate_accuracy, train_model

RESULTS = Path(__file__).resolve().parent / "results"
DATASETS = "counting,svrt-04,svrt-11,orientation,colour,fonts,digits"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default=DATASETS)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--budgets", default="100,300,1000")
    parser.add_argument(
        "--min-steps", default="200,400,800", help="the settings compared, the first the baseline"
    )
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("/tmp/training-steps"))
    parser.add_argument("--out", type=Path, default=RESULTS / "training_steps")
    add_markdown_only_flag(parser)
    args = parser.parse_args()
    if args.markdown_only:
        rewrite_saved_report(args.out, format_report)
        return
    started = time.perf_counter()
    budgets = [int(text) for text in args.budgets.split(",")]
    settings = [int(text) for text in args.min_steps.split(",")]
    tasks = [
        (name, seed, budgets, settings, args.work)
        for name in args.datasets.split(",")
        for seed in range(args.seeds)
    ]
    for name in args.datasets.split(","):
        load_dataset(name, args.work)  # written once here, not by two processes at once
    found: list[dict[str, Any]] = []
    with ProcessPoolExecutor(max_workers=args.processes) as pool:
        for future in as_completed([pool.submit(run_task, *task) for task in tasks]):
            found += future.result()
            report = {
                "machine": describe_machine(),
                "config": {**vars(args), "work": str(args.work), "out": str(args.out)},
                "rows": sorted(found, key=get_row_order),
                "seconds": time.perf_counter() - started,
            }
            save_report(args.out, report, format_report)  # after each task: none is lost


def get_row_order(row: dict[str, Any]) -> tuple[str, int, int, int]:
    return row["dataset"], row["n_labels"], row["seed"], row["min_steps"]


def run_task(
    name: str, seed: int, budgets: list[int], settings: list[int], work: Path
) -> list[dict[str, Any]]:
    """Every budget and setting on one dataset and seed."""
    data = load_dataset(name, work)
    source = Path(data.source)
    augment = choose_augmentation(source) if source.is_dir() else ()
    n_classes = len(data.class_names)
    model_config = dataclasses.replace(
        DEFAULT_MODEL_CONFIG,
        image_size=int(data.train_images.shape[1]),
        in_channels=get_channels(data.train_images),
    )
    # One step first: torch's first steps in a process are slow, and would be the first setting's.
    warm_up = np.concatenate(
        [np.flatnonzero(data.train_labels == label)[:2] for label in range(n_classes)]
    )
    train_model(
        data.train_images[warm_up],
        data.train_labels[warm_up],
        n_classes=n_classes,
        model_config=model_config,
        train_config=TrainConfig(min_steps=1, max_epochs=1, max_steps=1, n_threads=1),
        progress=False,
    )
    rows = []
    for budget in budgets:
        if budget > data.train_labels.shape[0]:
            continue
        rows_of_budget = draw_labels(data.train_labels, budget, n_classes, seed)
        for min_steps in settings:
            config = TrainConfig(min_steps=min_steps, seed=seed, n_threads=1, augment=augment)
            tick = time.perf_counter()
            result = train_model(
                data.train_images[rows_of_budget],
                data.train_labels[rows_of_budget],
                n_classes=n_classes,
                model_config=model_config,
                train_config=config,
                progress=False,
            )
            seconds = time.perf_counter() - tick
            accuracy = evaluate_accuracy(
                result.model, data.test_images, data.test_labels, device="cpu"
            )
            rows.append(
                {
                    "dataset": name,
                    "seed": seed,
                    "n_labels": budget,
                    "min_steps": min_steps,
                    "test_accuracy": accuracy,
                    "n_steps": result.n_steps,
                    "seconds": seconds,
                }
            )
            print(
                f"{name} seed {seed} {budget} labels, min_steps {min_steps}: {accuracy:.3f} "
                f"({result.n_steps} steps, {seconds:.0f} s)",
                flush=True,
            )
    return rows


def draw_labels(
    labels: NDArray[np.int64], budget: int, n_classes: int, seed: int
) -> NDArray[np.int64]:
    """``budget`` pool rows: ``budget // n_classes`` of each class (all of a smaller one), the
    rest at random."""
    rng = np.random.default_rng(seed)
    share = budget // n_classes
    chosen = [
        rng.permutation(np.flatnonzero(labels == label))[:share] for label in range(n_classes)
    ]
    taken = np.concatenate(chosen)
    rest = np.setdiff1d(np.arange(labels.shape[0]), taken)
    extra = rng.permutation(rest)[: budget - taken.shape[0]]
    return np.sort(np.concatenate([taken, extra]))


def format_report(report: dict[str, Any]) -> str:
    rows = report["rows"]
    config = report["config"]
    settings = [int(text) for text in config["min_steps"].split(",")]
    lines = [
        "# The rounds' CNN trained for at least "
        + ", ".join(str(steps) for steps in settings[:-1])
        + f" or {settings[-1]} steps",
        "",
        f"Written by `bench/training_steps.py` (its docstring says how): random labels "
        f"(every class its share), the default CNN from scratch, {config['seeds']} seeds, "
        f"one torch thread per process, {config['processes']} processes. Machine: "
        f"{report['machine']['cpu_count']} cores, {report['machine']['date']}. Total "
        f"{report['seconds'] / 60:.1f} min.",
        "",
        "Mean test accuracy over the seeds (steps run, seconds of training, per setting):",
        "",
        "| dataset | labels | "
        + " | ".join(f"at least {steps} steps" for steps in settings)
        + " | gain | time ratio |",
        "|---|---:|" + "---:|" * len(settings) + "---:|---:|",
    ]
    cells: dict[tuple[str, int], dict[int, list[dict[str, Any]]]] = {}
    for row in rows:
        by_setting = cells.setdefault((row["dataset"], row["n_labels"]), {})
        by_setting.setdefault(row["min_steps"], []).append(row)
    gains = []
    for (dataset, n_labels), by_setting in cells.items():
        means = {
            steps: statistics.mean(row["test_accuracy"] for row in found)
            for steps, found in by_setting.items()
        }
        seconds = {
            steps: statistics.mean(row["seconds"] for row in found)
            for steps, found in by_setting.items()
        }
        shown = []
        for steps in settings:
            found = by_setting.get(steps, [])
            if not found:
                shown.append("—")
                continue
            n_steps = statistics.mean(row["n_steps"] for row in found)
            shown.append(f"{means[steps]:.3f} ({n_steps:.0f}, {seconds[steps]:.0f} s)")
        first, last = settings[0], settings[-1]
        gain = means.get(last, float("nan")) - means.get(first, float("nan"))
        gains.append(gain)
        ratio = seconds.get(last, float("nan")) / max(seconds.get(first, float("nan")), 1e-9)
        lines.append(
            f"| {dataset} | {n_labels} | " + " | ".join(shown) + f" | {gain:+.3f} | {ratio:.1f}x |"
        )
    if gains:
        lines += [
            "",
            f"Gain of at least {settings[-1]} steps over {settings[0]}: "
            f"mean {np.mean(gains):+.3f}, "
            f"smallest {min(gains):+.3f}, largest {max(gains):+.3f}, over {len(gains)} cells.",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
