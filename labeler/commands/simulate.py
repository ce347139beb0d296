"""``labeler simulate``: how many labels guided labeling saves, with the true labels as oracle."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from labeler.api.options import SIMULATION_DEFAULTS
from labeler.api.simulations import CURVE_FILE, RESULTS_FILE, TABLE_FILE, simulate
from labeler.commands.engine_options import add_engine_arguments, make_engine_from_args
from labeler.commands.model_options import (
    add_cold_start_arguments,
    add_model_arguments,
    add_selection_arguments,
    describe_strategies,
)
from labeler.data.image_arrays import COLOUR_MODES
from labeler.data.label_noise import NOISE_KINDS

logger = logging.getLogger(__name__)


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
    parser.add_argument(
        "--label-noise",
        type=float,
        default=0.0,
        help="share of the oracle's answers made wrong, in [0, 0.5) (default 0): the same "
        "wrong answers for every strategy of a seed",
    )
    parser.add_argument(
        "--label-noise-kind",
        choices=NOISE_KINDS,
        default="uniform",
        help="uniform: any other class; confusion: each class always mistaken for one other "
        "(default uniform)",
    )
    add_cold_start_arguments(parser)
    add_selection_arguments(parser)
    add_model_arguments(parser)
    add_engine_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    strategies = [name.strip() for name in args.strategies.split(",") if name.strip()]
    options = {name: getattr(args, name) for name in SIMULATION_DEFAULTS if name != "strategies"}
    if not args.verbose:
        # One line per trained model would bury the progress bar: hundreds of models are trained.
        for name in ("labeler.learning.training", "labeler.learning.scoring"):
            logging.getLogger(name).setLevel(logging.WARNING)
    with make_engine_from_args(args) as engine:
        outcome = simulate(args.dataset, args.out, strategies=strategies, engine=engine, **options)
    print(outcome.table)
    out = outcome.out
    print(f"wrote {out / RESULTS_FILE}, {out / TABLE_FILE}, {out / CURVE_FILE}")
    return 0
