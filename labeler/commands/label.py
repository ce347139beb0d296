"""``labeler label``: record one label from the command line."""

from __future__ import annotations

import argparse
import getpass
from typing import Any

from labeler.store.project import open_project

SOURCE = "cli"


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "label",
        help="record one label",
        description="Record LABEL for one pool sample (its id, or its path as `export` shows).",
    )
    parser.add_argument("project", help="project folder")
    parser.add_argument("sample", help="sample id or path")
    parser.add_argument("label", help="class name")
    parser.add_argument(
        "--annotator", default=None, help="who gives the label (default: the user name)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    annotator = args.annotator if args.annotator is not None else get_default_annotator()
    with open_project(args.project) as project:
        store = project.store
        sample = store.find_sample(args.sample)
        history = store.get_label_history(sample.id)
        event = store.add_label(sample.id, args.label, annotator=annotator, source=SOURCE)
    was = f" (was {history[-1].label_name})" if history else ""
    print(f"sample {sample.id} ({sample.path}): {event.label_name}{was}, by {annotator}")
    return 0


def get_default_annotator() -> str:
    """The user's login name, or "cli" when the system cannot tell."""
    try:
        return getpass.getuser() or SOURCE
    except (OSError, KeyError):
        return SOURCE
