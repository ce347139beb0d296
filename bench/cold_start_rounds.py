"""Cold start with the rounds' own learner: do first labels picked from an embedding help the CNN?

``bench/cold_start.py`` ranked the cold starts with a logistic regression on the embedding.
A round trains the default CNN (``DEFAULT_MODEL_CONFIG`` at the dataset's image size, by
``train_model``) on the images instead, so this runs ``labeler.loop.simulation.run_simulation``
as ``labeler simulate`` does, once per initial strategy (random, typiclust, max_herding, on the
``pixels`` embedding), with margin sampling after the first labels. Schedule in labels per
class (x classes in all): 2 picked by the initial strategy, then 2 more per round by margin,
up to 8, so test accuracy at 2, 4, 6 and 8 labels per class; the initial picks need not cover
every class, and with a class missing no model is trained (the simulation's rule: the point is
the commonest labeled class's test share, and the next picks are random).

Seeds: a simulation seed fixes the initial picks and every training seed, the same for every
initial strategy, so the strategies differ only in which images they labeled. The data stay the
same across seeds. The full-data accuracy (the whole pool labeled) does not depend on the
initial strategy: it is trained once per seed, by the first strategy's simulation, and handed
to the others through the simulation's resume file (``results.json`` with their config).

Datasets:
- ``digits``: scikit-learn's 8x8 scans (10 classes), ink dark on white (255 - 255 v / 16),
  70/30 split per class from seed 0; 8 px, no augmentation (flips change digits);
- ``orientation`` (hv, 2 classes, 1,000 train / 500 test) and ``counting`` (shapes, 6 classes,
  1,200 / 600): the dataset folders ``labeler generate --seed 0`` writes (the same job, through
  ``labeler.data.recipes``), loaded by ``load_labeled_data`` at ``choose_image_size`` (64 px)
  with their own label-preserving augmentation (``choose_augmentation``), as ``simulate`` does.

One torch thread throughout (the machine is shared). Simulation files go to a temporary
folder unless ``--work`` names one (then an interrupted run continues there).

    python bench/cold_start_rounds.py                       # about 8 minutes on one thread
    python bench/cold_start_rounds.py --datasets digits --seeds 1   # a smoke run, 20 s
    python bench/cold_start_rounds.py --report-only         # rewrite the .md from the .json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as is

import numpy as np
import torch

from bench.generated_folder import write_generated
from bench.machine import describe_machine
from labeler.data.augmentation import choose_augmentation
from labeler.data.image_arrays import get_channels
from labeler.data.input_size import choose_image_size
from labeler.data.labeled_data import LabeledData, load_labeled_data
from labeler.learning.embedding_kinds import get_embedding_kind
from labeler.learning.models import DEFAULT_MODEL_CONFIG
from labeler.learning.training import TrainConfig
from labeler.loop.simulation import RESULTS_FILE, SimulationConfig, run_simulation
from labeler.selection.cold_start import get_cold_start
from labeler.selection.strategies import SelectionConfig

RESULTS = Path(__file__).resolve().parent / "results"
INITIAL_STRATEGIES = ("random", "typiclust", "max_herding")
# name -> (family, problem, train images, test images)
GENERATED = {
    "orientation": ("orientation", "hv", 1000, 500),
    "counting": ("counting", "shapes", 1200, 600),
}
DATASETS = ("digits", *GENERATED)
DIGITS_TEST_FRACTION = 0.3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--initial-strategies", default=",".join(INITIAL_STRATEGIES))
    parser.add_argument("--embedding", default="pixels")
    parser.add_argument("--strategy", default="margin", help="acquisition after the first labels")
    parser.add_argument("--initial-per-class", type=int, default=2)
    parser.add_argument("--query-per-class", type=int, default=2)
    parser.add_argument("--budget-per-class", type=int, default=8)
    parser.add_argument("--pool-size", type=int, default=None, help="default: the whole pool")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--work", type=Path, default=None, help="keep datasets and runs here")
    parser.add_argument("--out", type=Path, default=RESULTS / "cold_start_rounds")
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite the .md from the saved .json"
    )
    args = parser.parse_args()
    if args.report_only:
        report = json.loads(args.out.with_suffix(".json").read_text())
        args.out.with_suffix(".md").write_text(format_report(report) + "\n")
        print(format_report(report))
        return
    unknown = [name for name in args.datasets.split(",") if name not in DATASETS]
    if unknown:
        raise SystemExit(f"unknown dataset(s) {unknown}; valid ones: {', '.join(DATASETS)}")
    torch.set_num_threads(args.threads)  # evaluation and scoring too, not only training
    for name in ("labeler.learning.training", "labeler.learning.scoring", "labeler.loop"):
        logging.getLogger(name).setLevel(logging.WARNING)
    if args.work is None:
        with tempfile.TemporaryDirectory(prefix="cold_start_rounds_") as work:
            report = run(args, Path(work))
    else:
        report = run(args, args.work)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(format_report(report) + "\n")
    print(format_report(report))


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    started = time.perf_counter()
    report: dict[str, Any] = {
        "command": " ".join(["python", "bench/cold_start_rounds.py", *sys.argv[1:]]),
        "machine": describe_machine(),
        "config": {
            key: (str(value) if isinstance(value, Path) else value)
            for key, value in vars(args).items()
        },
        "results": {},
    }
    initial_strategies = args.initial_strategies.split(",")
    for name in args.datasets.split(","):
        dataset_started = time.perf_counter()
        data, augment = load_dataset(name, work / "datasets")
        n_classes = len(data.class_names)
        image_size = int(data.train_images.shape[1])
        model_config = dataclasses.replace(
            DEFAULT_MODEL_CONFIG, image_size=image_size, in_channels=get_channels(data.train_images)
        )
        train_config = TrainConfig(augment=augment, device="cpu", n_threads=args.threads)
        print(
            f"== {name}: {data.train_labels.shape[0]} pool, {data.test_labels.shape[0]} test, "
            f"{n_classes} classes, {image_size} px, augment {','.join(augment) or 'none'}",
            flush=True,
        )
        result: dict[str, Any] = {
            "n_classes": n_classes,
            "n_pool": int(data.train_labels.shape[0]),
            "n_test": int(data.test_labels.shape[0]),
            "image_size": image_size,
            "augment": list(augment),
            "model_config": dataclasses.asdict(model_config),
            "train_config": dataclasses.asdict(train_config),
            "accuracy": {},
            "initial_coverage": {},
            "seconds": {},
        }
        first_results: dict[str, Any] | None = None
        for initial_strategy in initial_strategies:
            config = SimulationConfig(
                strategies=(args.strategy,),
                n_seeds=args.seeds,
                initial=args.initial_per_class * n_classes,
                budget=args.budget_per_class * n_classes,
                selection=SelectionConfig(
                    strategy=args.strategy, query_size=args.query_per_class * n_classes
                ),
                pool_size=args.pool_size,
                initial_strategy=initial_strategy,
                embedding=args.embedding,
            )
            out = work / "runs" / name / initial_strategy
            if first_results is not None:
                hand_over_full_data(first_results, out, config)
            tick = time.perf_counter()
            results = run_simulation(
                data,
                out,
                config=config,
                model_config=model_config,
                train_config=train_config,
                progress=False,
                on_point=make_printer(initial_strategy),
            )
            result["seconds"][initial_strategy] = time.perf_counter() - tick
            first_results = first_results or results
            by_budget: dict[str, list[float]] = {}
            for seed_run in sorted(results["runs"], key=lambda item: item["seed"]):
                for n_labels, accuracy in zip(
                    seed_run["n_labels"], seed_run["test_accuracy"], strict=True
                ):
                    by_budget.setdefault(str(n_labels // n_classes), []).append(accuracy)
            result["accuracy"][initial_strategy] = by_budget
            result["initial_coverage"][initial_strategy] = get_initial_coverage(
                data, config, n_threads=args.threads
            )
        assert first_results is not None
        result["full_data_accuracy"] = [
            first_results["full_data_accuracy"][str(seed)] for seed in range(args.seeds)
        ]
        result["chance_accuracy"] = first_results["chance_accuracy"]
        result["dataset_seconds"] = time.perf_counter() - dataset_started
        report["results"][name] = result
        print(f"{name}: {result['dataset_seconds']:.0f} s", flush=True)
    report["seconds"] = time.perf_counter() - started
    report["load_average_end"] = list(describe_machine()["load_average"])
    return report


def make_printer(initial_strategy: str) -> Callable[[str, int, int, float], None]:
    """An ``on_point`` for ``run_simulation`` that prints each point under ``initial_strategy``."""

    def print_point(strategy: str, seed: int, n_labels: int, accuracy: float) -> None:
        print(
            f"  {initial_strategy} seed {seed}: {n_labels} labels, acc {accuracy:.3f}", flush=True
        )

    return print_point


def load_dataset(name: str, folder: Path) -> tuple[LabeledData, tuple[str, ...]]:
    """``(data, augmentation)`` of a bench dataset (module docstring)."""
    if name == "digits":
        return load_digits(), ()
    family, problem, n_train, n_test = GENERATED[name]
    out = write_generated(folder / name, family, problem, n_train=n_train, n_test=n_test)
    image_size = choose_image_size(out)
    data = load_labeled_data(out, image_size=image_size, progress=False)
    return data, choose_augmentation(out)


def load_digits() -> LabeledData:
    """scikit-learn's digits as uint8 ``[n, 8, 8]`` images, white 255 background and dark ink,
    with a per-class test split of ``DIGITS_TEST_FRACTION`` drawn from seed 0."""
    from sklearn.datasets import load_digits as load
    from sklearn.model_selection import train_test_split

    digits = load()
    # Values 0..16 are ink; the project's images are ink dark on white.
    images = np.round(255.0 - digits.images * (255.0 / 16.0)).astype(np.uint8)
    labels = digits.target.astype(np.int64)
    train, test = train_test_split(
        np.arange(labels.shape[0]), test_size=DIGITS_TEST_FRACTION, stratify=labels, random_state=0
    )
    return LabeledData(
        class_names=tuple(str(digit) for digit in range(10)),
        train_images=images[np.sort(train)],
        train_labels=labels[np.sort(train)],
        test_images=images[np.sort(test)],
        test_labels=labels[np.sort(test)],
        source="sklearn.datasets.load_digits, inverted, 30% test per class (seed 0)",
    )


def hand_over_full_data(first: dict[str, Any], out: Path, config: SimulationConfig) -> None:
    """Start ``out``'s simulation from the full-data accuracies of ``first`` (the same data,
    model, training and seeds; only the initial strategy differs, which full-data training
    does not read), through the resume file: it holds them and no runs yet."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / RESULTS_FILE
    if path.exists():  # a run of --work being continued
        return
    handed = {**first, "config": config.to_dict(), "runs": []}
    path.write_text(json.dumps(handed, indent=2) + "\n")


def get_initial_coverage(
    data: LabeledData, config: SimulationConfig, *, n_threads: int
) -> list[dict[str, int]]:
    """Per seed, the classes present among the initial picks and the fewest picks of a class:
    the picks recomputed as ``run_simulation`` makes them (same embedding and generator)."""
    if config.pool_size is not None:
        return []  # the pool is a subset; not recomputed here
    n_classes = len(data.class_names)
    embedding = None
    if config.initial_strategy != "random":
        embedding = get_embedding_kind(config.embedding).embed(
            data.train_images, device=torch.device("cpu"), n_threads=n_threads, progress=False
        )
    coverage = []
    for seed in config.seeds:
        rng = np.random.default_rng([seed, 0])
        if embedding is None:
            picks = rng.choice(data.train_labels.shape[0], size=config.initial, replace=False)
        else:
            picks = get_cold_start(config.initial_strategy)(embedding, config.initial, seed=rng)
        counts = np.bincount(data.train_labels[picks], minlength=n_classes)
        coverage.append({"classes": int(np.count_nonzero(counts)), "fewest": int(counts.min())})
    return coverage


def _mean_std(values: list[float]) -> str:
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def format_report(report: dict[str, Any]) -> str:
    config = report["config"]
    machine = report["machine"]
    strategies = config["initial_strategies"].split(",")
    lines = [
        "# Cold start with the rounds' CNN: the first labels from the pixels embedding",
        "",
        f"`{report['command']}`, {machine['date']}, torch {machine.get('torch', '?')}, "
        f"{machine['cpu_count']} cores, load average {_load(machine['load_average'])} at the "
        f"start and {_load(report['load_average_end'])} at the end (a shared machine), "
        f"{config['threads']} torch thread. Ran in {report['seconds']:.0f} s.",
        "",
        f"`run_simulation` with the default CNN at each dataset's image size, "
        f"{config['initial_per_class']} labels per class picked by the initial strategy on the "
        f"`{config['embedding']}` embedding, then {config['query_per_class']} per class per round "
        f"by `{config['strategy']}`, up to {config['budget_per_class']}. Columns: labels per "
        f"class (x classes in all). Test accuracy, mean ± std (population) over "
        f"{config['seeds']} seeds; best mean in bold. Δ rows: a strategy's mean minus random's, in "
        "points, with the paired differences (same seed: same training seeds) in brackets; "
        "best: the strategy with the best mean. Classes in first picks: per seed, the classes "
        "among the initial labels; with one missing no model is trained (the point is the "
        "commonest labeled class's share of the test split) and the next picks are random, as "
        "a project's next `round` would need `--initial` again.",
    ]
    summary: dict[str, list[list[float]]] = {strategy: [] for strategy in strategies}
    budgets: list[str] = []
    for name, result in report["results"].items():
        budgets = list(result["accuracy"][strategies[0]])
        lines += [
            "",
            f"## {name}",
            "",
            f"{result['n_classes']} classes, pool {result['n_pool']}, test {result['n_test']}, "
            f"{result['image_size']} px, augmentation "
            f"{', '.join(result['augment']) or 'none'}; chance (commonest test class) "
            f"{result['chance_accuracy']:.3f}; the whole pool labeled "
            f"{_mean_std(result['full_data_accuracy'])}. "
            f"{result['dataset_seconds']:.0f} s.",
            "",
            "| initial strategy | " + " | ".join(budgets) + " | classes in first picks |",
            "|---" * (len(budgets) + 2) + "|",
        ]
        means = {
            strategy: [float(np.mean(result["accuracy"][strategy][b])) for b in budgets]
            for strategy in strategies
        }
        for strategy in strategies:
            cells = []
            for i, budget in enumerate(budgets):
                cell = _mean_std(result["accuracy"][strategy][budget])
                best = max(means[other][i] for other in strategies)
                cells.append(f"**{cell}**" if means[strategy][i] == best else cell)
            coverage = result["initial_coverage"].get(strategy, [])
            covered = ", ".join(str(item["classes"]) for item in coverage) or "-"
            lines.append(
                f"| {strategy} | {' | '.join(cells)} | {covered} of {result['n_classes']} |"
            )
            summary[strategy].append(means[strategy])
        if "random" in strategies:
            for strategy in [*(s for s in strategies if s != "random"), ""]:
                cells = []
                for i, budget in enumerate(budgets):
                    # "": the best strategy at this budget.
                    chosen = strategy or max(strategies, key=lambda other: means[other][i])
                    paired = np.subtract(
                        result["accuracy"][chosen][budget], result["accuracy"]["random"][budget]
                    )
                    delta = 100 * (means[chosen][i] - means["random"][i])
                    spread = ", ".join(f"{100 * value:+.1f}" for value in paired)
                    cell = f"{delta:+.1f} ({spread})"
                    cells.append(cell if strategy else f"{chosen} {cell}")
                label = f"Δ {strategy} - random" if strategy else "best, Δ vs random"
                lines.append(f"| {label} | {' | '.join(cells)} | |")
    if len(report["results"]) > 1:
        lines += [
            "",
            "## Mean over the datasets",
            "",
            "| initial strategy | " + " | ".join(budgets) + " |",
            "|---" * (len(budgets) + 1) + "|",
        ]
        overall = {strategy: np.mean(summary[strategy], axis=0) for strategy in strategies}
        for strategy in strategies:
            cells = []
            for i, value in enumerate(overall[strategy]):
                best = max(overall[other][i] for other in strategies)
                cells.append(f"**{value:.3f}**" if value == best else f"{value:.3f}")
            lines.append(f"| {strategy} | {' | '.join(cells)} |")
    return "\n".join(lines)


def _load(values: list[float]) -> str:
    return " / ".join(f"{value:.2f}" for value in values)


if __name__ == "__main__":
    main()
