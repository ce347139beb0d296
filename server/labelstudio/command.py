"""``labeler ls connect|push|pull|sync``: the Label Studio bridge on the command line (added to
``labeler`` through the ``guided_labeler.commands`` entry point, like ``serve``).

Errors (Label Studio down, a refused token, a deleted project, bad flags) end with one line
on stderr and exit code 2; ``labeler.cli`` prints them.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import logging
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from labeler.store.project import Project, open_project
from labeler.store.project_files import get_label_studio_lock
from labeler.store.remote import is_refused_answer
from server.labelstudio.defaults import DEFAULT_ATTEMPTS, DEFAULT_BATCH_SIZE, TOKEN_ENV
from server.labelstudio.link import ML_USER, load_link, normalize_url
from server.labelstudio.webhook import PullResult

# label-studio-sdk (and so the modules that call Label Studio) is imported only when an `ls`
# action runs: importing it costs every `labeler` command a second or more.
if TYPE_CHECKING:
    from server.labelstudio.client import LabelStudioClient
    from server.labelstudio.push import PushResult


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ls",
        help="send the queue to a Label Studio project and bring its labels back",
        description=(
            "The Label Studio bridge: `connect` links the project to a Label Studio project "
            "(made on first use), `push` imports the queue as tasks, `pull` brings the "
            "annotations back into the label log, `sync` does a pull and then a push (safe "
            f"to run from cron). The token comes from --token or ${TOKEN_ENV}."
        ),
    )
    commands = parser.add_subparsers(title="bridge commands", metavar="ACTION")
    for name, help_text, run in (
        ("connect", "make or find the Label Studio project and its webhook", run_connect),
        ("push", "import the current queue as Label Studio tasks", run_push),
        ("pull", "bring Label Studio's annotations into the label log", run_pull),
        ("sync", "pull, then push", run_sync),
    ):
        command = commands.add_parser(name, help=help_text, description=help_text)
        command.add_argument("project", help="project folder")
        command.add_argument(
            "--token",
            default=None,
            help=f"Label Studio token: a personal access token or a legacy token "
            f"(default ${TOKEN_ENV})",
        )
        command.add_argument(
            "--attempts",
            type=int,
            default=DEFAULT_ATTEMPTS,
            help=f"tries per call while Label Studio is unreachable (default {DEFAULT_ATTEMPTS};"
            " the wait doubles from 0.5 s)",
        )
        if name == "connect":
            command.add_argument("--url", required=True, help="Label Studio's URL")
            command.add_argument(
                "--server-url",
                default=None,
                help="where Label Studio and its users reach this project's `labeler serve` "
                "(webhook, images, model; default the one given before, else "
                "http://127.0.0.1:8000)",
            )
            command.add_argument("--title", default=None, help="title of a new project")
            command.add_argument(
                "--force",
                action="store_true",
                help="rebuild the link: a new project if ours was deleted, our labeling "
                "config back if it was changed",
            )
        else:
            command.add_argument(
                "--url", default=None, help="Label Studio's URL (default the connected one)"
            )
        if name in ("push", "sync"):
            command.add_argument(
                "--batch-size",
                type=int,
                default=DEFAULT_BATCH_SIZE,
                help=f"tasks per import request (default {DEFAULT_BATCH_SIZE})",
            )
        command.set_defaults(run=run)
    parser.set_defaults(run=lambda args: _print_help(parser))


def run_connect(args: argparse.Namespace) -> int:
    server_url = None
    if args.server_url is not None:
        server_url = normalize_url(args.server_url, what="--server-url")
    url = normalize_url(args.url, what="--url")
    from server.labelstudio.connect import connect

    with _open(args) as project:
        client = _make_client(args, url)
        result = connect(project, client, server_url=server_url, title=args.title, force=args.force)
        link = result.link
        verb = "made" if result.created else "found"
        print(f"{verb} Label Studio project {link.project_id} at {client.url}")
        for repair in result.repairs:
            print(f"  {repair}")
        print(f"images and webhook go through {link.server_url} (keep `labeler serve` there)")
        print(
            f"to add the model in Label Studio (Settings > Model): URL {link.ml_backend_url}, "
            f"basic auth user {ML_USER!r}, password {link.secret}"
        )
    return 0


def run_push(args: argparse.Namespace) -> int:
    from server.labelstudio.push import push

    with _open(args) as project:
        client = _make_client(args, _get_url(args, project))
        _print_push(push(project, client, batch_size=args.batch_size), project)
    return 0


def run_pull(args: argparse.Namespace) -> int:
    from server.labelstudio.pull import pull

    with _open(args) as project:
        _print_pull(pull(project, _make_client(args, _get_url(args, project))))
    return 0


def run_sync(args: argparse.Namespace) -> int:
    from server.labelstudio.pull import pull
    from server.labelstudio.push import push

    with _open(args) as project:
        client = _make_client(args, _get_url(args, project))
        _print_pull(pull(project, client))
        _print_push(push(project, client, batch_size=args.batch_size), project)
    return 0


@contextlib.contextmanager
def _open(args: argparse.Namespace) -> Iterator[Project]:
    """The project, held by this run alone: two runs at once (cron overlapping a manual one)
    could both import the same missing tasks."""
    if getattr(args, "attempts", 1) < 1:
        raise ValueError(f"--attempts must be at least 1, got {args.attempts}")
    if getattr(args, "batch_size", 1) < 1:
        raise ValueError(f"--batch-size must be at least 1, got {args.batch_size}")
    with open_project(args.project) as project:
        lock_path = get_label_studio_lock(project.path)
        lock_path.parent.mkdir(exist_ok=True)
        with open(lock_path, "ab") as lock:
            try:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ValueError(
                    f"another `labeler ls` run is working on {project.path}; try again later"
                ) from None
            yield project


def _make_client(args: argparse.Namespace, url: str) -> LabelStudioClient:
    from server.labelstudio.client import LabelStudioClient

    if not args.verbose:
        # The SDK's HTTP client logs every request at INFO; our own lines say what happened.
        logging.getLogger("httpx").setLevel(logging.WARNING)
    token = args.token if args.token is not None else os.environ.get(TOKEN_ENV, "")
    return LabelStudioClient(url, token, attempts=args.attempts)


def _get_url(args: argparse.Namespace, project: Project) -> str:
    if args.url is not None:
        return normalize_url(args.url, what="--url")
    link = load_link(project.store)
    if link is None:
        raise ValueError(
            f"{project.path} is not connected to Label Studio; run `labeler ls connect "
            f"{project.path} --url URL` first"
        )
    return link.url


def _print_push(result: PushResult, project: Project) -> None:
    """The push's counts, then why the project's model version was left, if it was: Label
    Studio refuses a version that no prediction carries, which is every version of a round
    without a model."""
    version = result.model_version or "none"
    set_now = " (set now)" if result.model_version_set else ""
    print(
        f"push: {result.n_queued} queued; {result.n_created} tasks imported, "
        f"{result.n_adopted} found already there, {result.n_predicted} new predictions, "
        f"{result.n_removed} removed and {result.n_marked} marked (out of the queue), "
        f"{result.n_reopened} back in the queue; model version {version}{set_now}"
    )
    if result.n_reviews or result.n_review_tasks_removed:
        print(
            f"  reviews: {result.n_reviews} open; {result.n_review_tasks_created} review tasks "
            f"imported (blind: no prediction, no earlier label), "
            f"{result.n_review_tasks_removed} removed (their review closed)"
        )
    if result.round_id is None:
        print(
            f"  no round yet, so nothing to send: `labeler round {project.path} --initial N` "
            "queues the first images"
        )
        return
    if result.n_round_predictions == 0 and result.model_version != result.round_version:
        why = (
            f"round {result.round_id} has no model (it picked its images at random)"
            if result.n_guesses == 0
            else f"round {result.round_id} guessed none of the queued images"
        )
        print(
            f"  model version left as {version}, not {result.round_version}: {why}, and "
            "Label Studio accepts only a model version that predictions carry"
        )
    if result.n_without_prediction and result.n_guesses:
        print(f"  {result.n_without_prediction} tasks have no prediction (no guess this round)")


def _print_pull(result: PullResult) -> None:
    changes = result.changes
    print(
        f"pull: {result.n_tasks} tasks; {len(changes.labeled)} new labels, "
        f"{len(changes.updated)} changed, {len(changes.deleted)} deleted, "
        f"{len(changes.skipped)} skips, {changes.n_unchanged} as before"
    )
    refused = {i: v for i, v in result.rejected.items() if is_refused_answer(v)}
    rejected = {i: v for i, v in result.rejected.items() if i not in refused}
    if rejected:
        listed = ", ".join(f"annotation {i}: {v!r}" for i, v in sorted(rejected.items()))
        print(
            f"labeler: warning: not stored, not one of our classes: {listed} (fix them in "
            "Label Studio; the next pull takes the fix)",
            file=sys.stderr,
        )
    if refused:
        listed = "; ".join(f"annotation {i}: {v}" for i, v in sorted(refused.items()))
        print(
            f"labeler: warning: review answers not stored: {listed} (the next push sends "
            "each open review out again)",
            file=sys.stderr,
        )
    if result.ignored:
        print(f"  ignored {len(result.ignored)} annotations on tasks that are not ours")


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2
