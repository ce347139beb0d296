"""``labeler gold``: mix test samples of known class into the annotators' images, to measure
them."""

from __future__ import annotations

import argparse
from typing import Any

from labeler.store.gold import MAX_GOLD_RATE
from labeler.store.project import open_project


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "gold",
        help="serve gold items (test samples of known class) among the images, to measure "
        "annotators",
        description=(
            "Set the share of images the annotation server serves as gold items: test samples "
            "whose class the source knew, served like any other image (the page cannot tell, "
            "and never sees their class). Their answers are kept apart from the labels: no "
            "round trains on them, and each annotator's accuracy on them shows in "
            "`labeler annotators list --quality` and on the dashboard. Without --rate, print "
            "the current rate."
        ),
    )
    parser.add_argument("project", help="project folder")
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help=f"share of served images that are gold, 0-{MAX_GOLD_RATE} (0 turns it off)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with open_project(args.project) as project:
        store = project.store
        if args.rate is not None:
            store.set_gold_rate(args.rate)
        rate = store.get_gold_rate()
        n_items = store.count_gold_items()
        n_answers = len(store.get_gold_answers())
    state = f"about 1 image in {round(1 / rate)} is gold" if rate else "off"
    print(f"gold rate {rate:g} ({state}); {n_items} gold items, {n_answers} answers so far")
    return 0
