"""``labeler simulate``: how many labels guided labeling saves, with the true labels as oracle."""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path
from typing import Any

from labeler.commands.engine_options import add_engine_arguments, make_engine_from_args
from labeler.commands.model_options import (
    add_cold_start_arguments,
    add_model_arguments,
    add_selection_arguments,
    describe_strategies,
    get_learner,
    get_model_config,
    get_selection_config,
    get_train_config,
)
from labeler.data.augmentation import choose_augmentation
from labeler.data.image_arrays import COLOUR_MODES, get_channels
from labeler.data.input_size import choose_image_size
from labeler.data.labeled_data import load_labeled_data
from labeler.loop.simulation import SimulationConfig, run_simulation
from labeler.loop.simulation_report import format_table, save_learning_curves, summarize
from labeler.store.atomic_files import write_json_atomic, write_text_atomic

logger = logging.getLogger(__name__)

CURVE_FILE = "learning_curves.png"
TABLE_FILE = "table.md"
SUMMARY_FILE = "summary.json"


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="measure the labels each strategy needs, with the true labels as the oracle",
        description=(
            "Run the guided-labeling loop on a labeled dataset (a generated dataset folder or "
            "an ImageFolder tree with class subfolders), answering queries with the true "
            "labels, for every strategy under the same seeds and schedule. Writes "
            "results.json, a learning-curve PNG and a savings table into --out. Rerunning "
            "with the same settings continues an interrupted simulation."
        ),
    )
    parser.add_argument("dataset", help="dataset folder or labeled ImageFolder tree")
    parser.add_argument("--out", required=True, help="folder for results")
    parser.add_argument(
        "--strategies",
        default="auto,margin,random",
        help=f"comma-separated, from: {describe_strategies()} (default auto,margin,random; "
        "bald and variation_ratio need a network: --model resnet)",
    )
    parser.add_argument("--seeds", type=int, default=3, help="seeds per strategy (default 3)")
    parser.add_argument("--first-seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument(
        "--initial", type=int, default=50, help="labels to start with (--initial-strategy)"
    )
    parser.add_argument("--query-size", type=int, default=50, help="labels added per round")
    parser.add_argument("--budget", type=int, default=1000, help="labels at the end")
    parser.add_argument(
        "--pool-size",
        type=int,
        default=None,
        help="draw the pool from this many training images (default: all)",
    )
    parser.add_argument(
        "--test-fraction",
        type=float,
        default=None,
        help="for an ImageFolder tree without train/ and test/: share held out to test",
    )
    parser.add_argument(
        "--colour",
        choices=COLOUR_MODES,
        default="auto",
        help="auto: colour when most images of a folder are colour; rgb or gray: convert all",
    )
    add_cold_start_arguments(parser)
    add_selection_arguments(parser)
    add_model_arguments(parser)
    add_engine_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    strategies = tuple(name.strip() for name in args.strategies.split(",") if name.strip())
    config = SimulationConfig(
        strategies=strategies,
        n_seeds=args.seeds,
        first_seed=args.first_seed,
        initial=args.initial,
        budget=args.budget,
        # Checked for each strategy; the first stands in until then.
        selection=get_selection_config(args, strategy=(*strategies, "random")[0]),
        pool_size=args.pool_size,
        initial_strategy=args.initial_strategy,
        embedding=args.embedding,
        score_subset=args.score_subset,
        learner=get_learner(args),
    )
    image_size = choose_image_size(args.dataset, args.image_size)
    train_config = get_train_config(args, augment=choose_augmentation(args.dataset, args.augment))
    data = load_labeled_data(
        args.dataset,
        image_size=image_size,
        colour=args.colour,
        test_fraction=args.test_fraction,
        seed=args.first_seed,
    )
    model_config = get_model_config(
        args, image_size=image_size, in_channels=get_channels(data.train_images)
    )
    if data.skipped:
        print(f"skipped {len(data.skipped)} unreadable images, e.g. {data.skipped[0][0]}")
    print(
        f"simulating {', '.join(strategies)} on {args.dataset}: {data.train_labels.shape[0]} "
        f"train, {data.test_labels.shape[0]} test images, {len(data.class_names)} classes, "
        f"{config.n_seeds} seeds, {config.initial} -> {config.budget} labels by "
        f"{config.query_size}"
    )
    out = Path(args.out)
    if not args.verbose:
        # One line per trained model would bury the progress bar: hundreds of models are trained.
        for name in ("labeler.learning.training", "labeler.learning.scoring"):
            logging.getLogger(name).setLevel(logging.WARNING)
    with make_engine_from_args(args) as engine:
        results = run_simulation(
            data,
            out,
            config=config,
            model_config=model_config,
            train_config=train_config,
            engine=engine,
        )
    write_report(results, out)
    return 0


def write_report(results: dict[str, Any], out: Path, *, title: str = "") -> str:
    """Write the table, the summary JSON and the learning-curve PNG into ``out``; print and
    return the table."""
    summary = summarize(results)
    table = format_table(summary)
    write_text_atomic(out / TABLE_FILE, table + "\n")
    write_json_atomic(out / SUMMARY_FILE, _summary_to_json(summary))
    save_learning_curves(results, summary, out / CURVE_FILE, title=title)
    print(table)
    print(f"wrote {out / 'results.json'}, {out / TABLE_FILE}, {out / CURVE_FILE}")
    return table


def _summary_to_json(summary: Any) -> dict[str, Any]:
    raw = dataclasses.asdict(summary)
    for item in raw["strategies"]:
        for key in ("labels_to_reach", "saving", "saving_lower_bound"):
            item[key] = {f"{threshold:.2f}": value for threshold, value in item[key].items()}
    return raw
