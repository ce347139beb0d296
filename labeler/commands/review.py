"""``labeler review``: send the most suspect labels, and a few at random, to blind review."""

from __future__ import annotations

import argparse
from typing import Any

from generators.checks import check_int
from labeler.api.projects import send_to_review


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "review",
        help="send suspect labels (and a random few) to a second annotator, blind",
        description=(
            "Queue labels for review: the most suspect ones (flagged by `labeler suspects` or "
            "disputed by annotators) and a random sample of the others, which measures "
            "annotators without bias. The annotation server hands each to an annotator who "
            "has not labeled it, without showing the label. An equal answer confirms the "
            "label; another answer becomes the current label (the latest, as always) and "
            "sends the image to a third annotator, whose answer then stands."
        ),
    )
    parser.add_argument("project", help="project folder")
    parser.add_argument(
        "--suspects", type=int, default=20, help="suspect labels to review (default 20)"
    )
    parser.add_argument(
        "--calibration",
        type=int,
        default=5,
        help="other labels drawn at random to review (default 5)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the random draw")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    n_suspects = check_int("--suspects", args.suspects, low=0)
    n_calibration = check_int("--calibration", args.calibration, low=0)
    summary = send_to_review(
        args.project, suspects=n_suspects, calibration=n_calibration, seed=args.seed
    )
    print(
        f"sent {summary['suspects']} suspect and {summary['calibration']} random labels to "
        f"review; {summary['open']} reviews open"
    )
    return 0
