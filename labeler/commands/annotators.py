"""``labeler annotators``: who may use the annotation server (``add`` prints a token once)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from labeler.api.projects import get_annotator_quality
from labeler.commands.table import format_table
from labeler.loop.annotator_quality import MIN_SHARED_FOR_KAPPA, AnnotatorQuality
from labeler.store.project import open_project
from labeler.store.tokens import hash_token, make_token


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "annotators",
        help="add, list or remove the annotators of the annotation server",
        description=(
            "Manage who may use `labeler serve`. `add` prints a new random token once (only "
            "its hash is stored); give it to the annotator, who logs in with it."
        ),
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add an annotator and print their token")
    add.add_argument("project", help="project folder")
    add.add_argument("name", help="annotator name (shown in the label log)")
    add.add_argument("--admin", action="store_true", help="may start rounds and see annotators")
    add.add_argument(
        "--url",
        default=None,
        help="the server's address (e.g. http://127.0.0.1:8000): also print a login link",
    )
    add.set_defaults(run=run_add)
    listing = actions.add_parser("list", help="list the annotators")
    listing.add_argument("project", help="project folder")
    listing.add_argument(
        "--quality",
        action="store_true",
        help="also measure each annotator: agreement with the others, Cohen's kappa per pair "
        f"(from {MIN_SHARED_FOR_KAPPA} shared samples), agreement with the model that did "
        "not see the label, accuracy where the source knew the class",
    )
    listing.set_defaults(run=run_list)
    remove = actions.add_parser("remove", help="revoke an annotator's token (labels stay)")
    remove.add_argument("project", help="project folder")
    remove.add_argument("name", help="annotator name")
    remove.set_defaults(run=run_remove)


def run_add(args: argparse.Namespace) -> int:
    token = make_token()
    with open_project(args.project) as project:
        project.store.add_annotator(args.name, token_hash=hash_token(token), is_admin=args.admin)
    role = "admin" if args.admin else "annotator"
    print(f"added {role} {args.name}; their token (shown only now): {token}")
    if args.url:
        print(f"login link: {args.url.rstrip('/')}/login#token={token}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    with open_project(args.project) as project:
        annotators = project.store.get_annotators()
    if not annotators:
        print("no annotators yet; add one with: labeler annotators add PROJECT NAME [--admin]")
    else:
        rows = [
            [
                a.name,
                "admin" if a.is_admin else "annotator",
                time.strftime("%Y-%m-%d %H:%M", time.localtime(a.created_at)),
            ]
            for a in annotators
        ]
        print(format_table(["name", "role", "added"], rows))
    if args.quality:
        print()
        print(format_quality(get_annotator_quality(args.project)))
    return 0


def format_quality(quality: AnnotatorQuality) -> str:
    """Per annotator, then per pair (labels in the log count, whether or not the annotator
    still has a token)."""
    if not quality.annotators:
        return "quality: no labels yet"
    rows = [
        [
            item["name"],
            item["n_labels"],
            item["n_shared"],
            _share(item["agreement"]),
            f"{_share(item['review_agreement'])} of {item['n_reviewed']}",
            f"{_share(item['gold_accuracy'])} of {item['n_gold']}",
            f"{_share(item['model_agreement'])} of {item['n_model_checked']}",
            f"{_share(item['known_accuracy'])} of {item['n_known']}",
        ]
        for item in quality.annotators
    ]
    model = (
        f"round {quality.round_id}'s out-of-fold model"
        if quality.round_id is not None
        else "no round's out-of-fold model yet"
    )
    headers = ["annotator", "labels", "shared", "agreement", "reviews confirm", "gold accuracy",
               f"model agrees ({model})",
               "accuracy on known classes"]  # fmt: skip
    lines = [format_table(headers, rows), ""]
    if quality.pairs:
        pair_rows = [
            [
                f"{p['first']} / {p['second']}",
                p["n_shared"],
                _share(p["agreement"]),
                "-" if p["kappa"] is None else f"{p['kappa']:.3f}",
            ]
            for p in quality.pairs
        ]
        lines.append(format_table(["pair", "shared", "agreement", "Cohen's kappa"], pair_rows))
    else:
        lines.append("pairs: no two annotators labeled the same sample")
    return "\n".join(lines)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def run_remove(args: argparse.Namespace) -> int:
    with open_project(args.project) as project:
        removed = project.store.remove_annotator(args.name)
    if not removed:
        raise ValueError(f"there is no annotator {args.name!r} (see labeler annotators list)")
    print(f"removed {args.name}; their token no longer works (their labels stay)")
    return 0
