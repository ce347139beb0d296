"""``labeler annotators``: who may use the annotation server (``add`` prints a token once)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from labeler.commands.table import format_table
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
        return 0
    rows = [
        [
            a.name,
            "admin" if a.is_admin else "annotator",
            time.strftime("%Y-%m-%d %H:%M", time.localtime(a.created_at)),
        ]
        for a in annotators
    ]
    print(format_table(["name", "role", "added"], rows))
    return 0


def run_remove(args: argparse.Namespace) -> int:
    with open_project(args.project) as project:
        removed = project.store.remove_annotator(args.name)
    if not removed:
        raise ValueError(f"there is no annotator {args.name!r} (see labeler annotators list)")
    print(f"removed {args.name}; their token no longer works (their labels stay)")
    return 0
