"""``labeler serve``: the annotation server of one project (added to the ``labeler`` command
through the ``guided_labeler.commands`` entry point, so the engine never imports Flask)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from server.app import close_app, create_app
from server.state import get_state
from server.wsgi import DEFAULT_THREADS, serve_app


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve the labeling page, dashboard and JSON API of a project",
        description=(
            "Start the annotation server: annotators log in with a token from `labeler "
            "annotators add` and label the queue in the browser; admins start rounds from "
            "the dashboard. Stop it with Ctrl-C."
        ),
    )
    parser.add_argument("project", help="project folder")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any free)")
    parser.add_argument(
        "--threads",
        type=int,
        default=DEFAULT_THREADS,
        help=f"worker threads (default {DEFAULT_THREADS})",
    )
    parser.add_argument(
        "--lease-seconds",
        type=float,
        default=None,
        help="how long an image stays leased to one annotator (default 300)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise ValueError(f"--port must be between 0 and 65535, got {args.port}")
    if args.threads < 1:
        raise ValueError(f"--threads must be at least 1, got {args.threads}")
    config: dict[str, Any] = {"PROJECT": args.project}
    if args.lease_seconds is not None:
        config["LEASE_SECONDS"] = args.lease_seconds
    app = create_app(config)
    try:
        with app.app_context():
            store = get_state().store
            n_annotators = len(store.get_annotators())
            waiting, leased = store.count_queue()

        def announce(url: str) -> None:
            print(f"serving {args.project} at {url} (Ctrl-C stops it)")
            print(f"queue: {waiting} waiting, {leased} leased")
            if n_annotators == 0:
                print(
                    "no annotators yet: add one with `labeler annotators add "
                    f"{args.project} NAME --admin --url {url}`"
                )
            sys.stdout.flush()

        serve_app(app, host=args.host, port=args.port, threads=args.threads, on_ready=announce)
    finally:
        close_app(app)
    print("server stopped")
    return 0
