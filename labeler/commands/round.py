"""``labeler round``: train on all labels, score the unlabeled pool, queue the next batch."""

from __future__ import annotations

import argparse
import math
from typing import Any

from labeler.api.options import ROUND_DEFAULTS
from labeler.api.rounds import run_round
from labeler.commands.engine_options import add_engine_arguments, make_engine_from_args
from labeler.commands.model_options import (
    add_backbone_arguments,
    add_cold_start_arguments,
    add_model_arguments,
    add_selection_arguments,
    describe_strategies,
)
from labeler.loop.initial_round import is_initial_strategy
from labeler.pruning.trimmed_model import SCORING_MODELS
from labeler.selection.accuracy_estimate import DEFAULT_AUDIT_SHARE, MAX_AUDIT_SHARE
from labeler.selection.strategies import AUTO


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "round",
        help="train on the labels, score the pool and queue the most informative batch",
        description=(
            "One round of guided labeling: train on every label so far (by default the "
            "learner that cross-validates best on them: a linear head on an embedding, or "
            "a CNN), score the unlabeled images, select a batch and queue it for "
            "annotators (replacing the unlabeled part of the previous queue). With too few "
            "labels to train on, --initial N queues N images picked by --initial-strategy instead."
        ),
    )
    parser.add_argument("project", help="project folder")
    parser.add_argument(
        "--strategy",
        default=AUTO,
        help=f"one of: {describe_strategies()} (default {AUTO}: coverage of the pool while "
        "some class has few labels, then margin with k-center diversity)",
    )
    parser.add_argument("--query-size", type=int, default=50, help="images to queue (default 50)")
    parser.add_argument(
        "--initial",
        type=int,
        default=0,
        help="with too few labels to train, queue this many images instead",
    )
    add_cold_start_arguments(parser)
    parser.add_argument("--seed", type=int, default=0, help="seed of selection (default 0)")
    parser.add_argument(
        "--audit-share",
        type=float,
        default=DEFAULT_AUDIT_SHARE,
        help=f"share of each batch drawn at random instead, so that its labels measure the "
        f"model's accuracy on the pool without a test split (default {DEFAULT_AUDIT_SHARE:g}; "
        f"0 to {MAX_AUDIT_SHARE:g}; 0: none)",
    )
    parser.add_argument(
        "--scoring-model",
        default="full",
        choices=SCORING_MODELS,
        help="full: score with the trained model (default); pruned: cut the blocks that "
        "`labeler prune apply` chose from it, fine-tune briefly, score with that (faster on "
        "big pools)",
    )
    add_selection_arguments(parser)
    add_model_arguments(parser)
    add_backbone_arguments(parser)
    add_engine_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    options = {name: getattr(args, name) for name in ROUND_DEFAULTS}
    with make_engine_from_args(args) as engine:
        summary = run_round(args.project, engine=engine, **options)
    if is_initial_strategy(summary.strategy):
        print(
            f"round {summary.round_id}: too few labels to train on; queued "
            f"{summary.n_queued} images to label first, picked by {summary.batch_by}"
        )
        return 0
    accuracy = (
        f"{summary.validation}: accuracy {summary.val_accuracy:.3f}"
        if summary.val_accuracy is not None and math.isfinite(summary.val_accuracy)
        else summary.validation
    )
    if summary.test_accuracy is not None:
        accuracy += f"; test accuracy {summary.test_accuracy:.3f}"
    if len(summary.candidates) > 1:  # chosen among several: say why, before the summary
        print(f"learner: {summary.learner_reason}")
        for candidate in summary.candidates:
            measured = "-" if candidate["accuracy"] is None else f"{candidate['accuracy']:.3f}"
            print(f"    {candidate['name']}: {measured} ({candidate['method']})")
    if summary.warm_start:
        print(f"network trained {summary.warm_start}")
    if args.score_subset is not None and args.score_subset > summary.n_scored:
        print(
            f"note: --score-subset {args.score_subset} is more than the {summary.n_scored} "
            "images there were to score: the round scored them all"
        )
    # Last: the round runner of the dashboard shows the last line.
    print(
        f"round {summary.round_id}: {summary.learner} learned from {summary.n_labels} labels "
        f"({accuracy}); scored {summary.n_scored} unlabeled images, queued {summary.n_queued} "
        f"by {summary.batch_by}; files in {args.project}/{summary.folder} "
        f"({summary.seconds:.1f} s)"
    )
    return 0
