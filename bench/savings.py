"""Label savings of guided labeling against random, on generated problems (``labeler simulate``).

For each problem it generates a train pool and a test split in memory (the same images
``labeler generate`` writes), runs the simulation for every strategy under the same seeds and
schedule, and saves ``results.json``, the table and the learning curves under
``bench/results/savings/<problem>/``. The summary (``bench/results/savings.md`` and ``.json``)
checks the target: the best guided strategy needs at most half the labels random needs to reach
99% of full-data accuracy (mean over seeds). A problem where random does not reach it within the
budget is reported as such. Interrupted runs continue where they stopped.

    python bench/savings.py                                   # the default problems
    python bench/savings.py --problems orientation --seeds 1  # a smoke run
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as is

import numpy as np

from bench.savings_target import TARGET_THRESHOLD, judge_savings
from generators.registry import get_family
from labeler.api.simulations import write_report
from labeler.data.image_folder import resize_images
from labeler.data.labeled_data import LabeledData
from labeler.learning.models import DEFAULT_MODEL_CONFIG, ModelConfig
from labeler.learning.training import TrainConfig
from labeler.loop.simulation import RESULTS_FILE, SimulationConfig, load_results, run_simulation
from labeler.loop.simulation_report import summarize
from labeler.selection.strategies import SelectionConfig

RESULTS = Path(__file__).resolve().parent / "results"
# name -> (family, problem); SVRT 2, 4 and 11 are spatial relations (inside/outside, touching).
PROBLEMS = {
    "orientation": ("orientation", "hv"),
    "svrt-02": ("svrt", "2"),
    "svrt-04": ("svrt", "4"),
    "svrt-11": ("svrt", "11"),
}
# (initial, query size, budget): orientation is learned from a few dozen labels, so its steps
# must be small for the curves to differ at all.
DEFAULT_SCHEDULE = (50, 50, 800)
PROBLEM_SCHEDULES = {"orientation": (10, 10, 200)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default=",".join(PROBLEMS))
    parser.add_argument("--strategies", default="margin,random")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-pool", type=int, default=2000, help="train images (the pool)")
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument(
        "--initial", type=int, default=None, help="default: per problem (PROBLEM_SCHEDULES)"
    )
    parser.add_argument("--query-size", type=int, default=None, help="default: per problem")
    parser.add_argument("--budget", type=int, default=None, help="default: per problem")
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--width", type=int, default=DEFAULT_MODEL_CONFIG.width)
    # Fewer steps than a round's default: the simulation trains hundreds of models.
    parser.add_argument("--min-steps", type=int, default=150)
    parser.add_argument("--max-epochs", type=int, default=10)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads per process (default 1)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "savings")
    parser.add_argument(
        "--summary-only",
        action="store_true",
        help="rebuild the tables and the summary from the saved results.json, training nothing",
    )
    args = parser.parse_args(argv)
    if args.summary_only:
        rows = []
        for name in args.problems.split(","):
            results = load_results(args.out / name / RESULTS_FILE)
            write_report(results, args.out / name, title=f"{name}: test accuracy against labels")
            seconds = sum(run["seconds"] for run in results["runs"])
            rows.append(_check_target(name, results, seconds))
        _save_summary(args.out, rows, args)
        return 0

    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)  # evaluation too, not only training and scoring
    model_config = ModelConfig(image_size=args.image_size, width=args.width)
    train_config = TrainConfig(
        min_steps=args.min_steps, max_epochs=args.max_epochs, n_threads=args.threads
    )
    rows = []
    for name in args.problems.split(","):
        if name not in PROBLEMS:
            raise SystemExit(f"unknown problem {name!r}; valid ones: {', '.join(PROBLEMS)}")
        initial, query_size, budget = PROBLEM_SCHEDULES.get(name, DEFAULT_SCHEDULE)
        config = SimulationConfig(
            strategies=tuple(args.strategies.split(",")),
            n_seeds=args.seeds,
            initial=args.initial or initial,
            selection=SelectionConfig(query_size=args.query_size or query_size),
            budget=args.budget or budget,
        )
        started = time.perf_counter()
        data = _make_data(name, n_pool=args.n_pool, n_test=args.n_test, size=args.image_size)
        out = args.out / name
        print(f"== {name}: pool {args.n_pool}, test {args.n_test}, {args.image_size} px")
        results = run_simulation(
            data, out, config=config, model_config=model_config, train_config=train_config
        )
        write_report(results, out, title=f"{name}: test accuracy against labels")
        rows.append(_check_target(name, results, time.perf_counter() - started))
    _save_summary(args.out, rows, args)
    return 0


def _make_data(name: str, *, n_pool: int, n_test: int, size: int) -> LabeledData:
    family_name, problem = PROBLEMS[name]
    family = get_family(family_name)
    params = family.make_params(problem)
    splits = {}
    for split, count in (("train", n_pool), ("test", n_test)):
        batch = family.generate(
            problem, params, split=split, seed=0, start=0, count=count, with_metadata=False
        )
        splits[split] = (resize_images(batch.images, size), batch.labels.astype(np.int64))
    return LabeledData(
        class_names=tuple(family.class_names),
        train_images=splits["train"][0],
        train_labels=splits["train"][1],
        test_images=splits["test"][0],
        test_labels=splits["test"][1],
        source=f"{family_name} problem {problem}, seed 0, generated in memory",
    )


def _check_target(name: str, results: dict[str, Any], seconds: float) -> dict[str, Any]:
    summary = summarize(results)
    verdict = judge_savings(
        {item.strategy: item.labels_to_reach[TARGET_THRESHOLD] for item in summary.strategies}
    )
    config = results["config"]
    return {
        "problem": name,
        "schedule": (
            f"{config['initial']} + {config['query_size']}/round to {config['budget']} "
            f"of {results['n_pool']}, {config['n_seeds']} seeds"
        ),
        "full_data_accuracy": summary.full_data_accuracy_mean,
        "random_labels_to_99": verdict.random_labels,
        "best_strategy": verdict.best,
        "best_labels_to_99": verdict.best_labels,
        "target_holds": verdict.holds,
        "verdict": verdict.why,
        "seconds": seconds,
    }


def _save_summary(out: Path, rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    """Write savings.md/.json beside ``out``, keeping rows of problems not run this time."""
    summary_json = out.parent / "savings.json"
    if summary_json.exists():
        previous = json.loads(summary_json.read_text()).get("problems", [])
        done = {row["problem"] for row in rows}
        rows = [row for row in previous if row["problem"] not in done] + rows
    lines = [
        "# Label savings: labels to reach 99% of full-data accuracy (mean over seeds)",
        "",
        f"`python bench/savings.py {' '.join(sys.argv[1:])}`".replace(" `", "`"),
        "",
        "| problem | labels (pool) | full-data acc | random | best guided | labels | target "
        "(<= 50%) | minutes (loaded machine) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        random_labels = row["random_labels_to_99"]
        lines.append(
            f"| {row['problem']} | {row['schedule']} | {row['full_data_accuracy']:.3f} | "
            f"{random_labels if random_labels is not None else '>budget'} | "
            f"{row['best_strategy'] or '-'} | {row['best_labels_to_99'] or '>budget'} | "
            f"{ {True: 'holds', False: 'fails', None: 'n/a'}[row['target_holds']] }: "
            f"{row['verdict']} | {row['seconds'] / 60:.1f} |"
        )
    out.mkdir(parents=True, exist_ok=True)
    (out.parent / "savings.md").write_text("\n".join(lines) + "\n")
    summary_json.write_text(
        json.dumps({"args": vars(args) | {"out": str(args.out)}, "problems": rows}, indent=2)
    )
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
