"""``labeler status``: labels per class, rounds and their accuracy, the queue."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np

from labeler.commands.table import format_table
from labeler.store.project import Project, open_project


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "status",
        help="show a project's labels per class, rounds, accuracy and queue",
        description=(
            "Show how many pool samples are labeled per class (and, when the source knew "
            "their classes, how many are left), every round with its strategy, label count "
            "and accuracy, and the queue waiting for annotators."
        ),
    )
    parser.add_argument("project", help="project folder")
    parser.add_argument("--json", action="store_true", help="print the status as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with open_project(args.project) as project:
        status = get_status(project)
    print(json.dumps(status, indent=2) if args.json else format_status(status))
    return 0


def get_status(project: Project, *, now: float | None = None) -> dict[str, Any]:
    """The project's state as JSON-ready data (``now``: unix seconds, for leases)."""
    store = project.store
    now = time.time() if now is None else now
    n_classes = len(project.class_names)
    pool_ids = store.get_sample_ids("pool")
    labeled_ids, labels = store.get_current_labels()
    labeled_per_class = np.bincount(labels, minlength=n_classes)
    known_ids, known_labels = store.get_known_labels("pool")
    unlabeled_known = known_labels[~np.isin(known_ids, labeled_ids)]
    unlabeled_per_class = np.bincount(unlabeled_known, minlength=n_classes)
    classes = [
        {
            "name": name,
            "labeled": int(labeled_per_class[index]),
            "unlabeled_known": int(unlabeled_per_class[index]) if known_ids.size else None,
        }
        for index, name in enumerate(project.class_names)
    ]
    rounds = [
        {
            "id": record.id,
            "status": record.status,
            "strategy": record.strategy,
            "query_size": record.query_size,
            "n_labels": record.n_labels,
            "val_accuracy": record.val_accuracy,
            "test_accuracy": record.test_accuracy,
            "started_at": record.started_at,
            "finished_at": record.finished_at,
            "error": record.error,
        }
        for record in store.get_rounds()
    ]
    last = next(
        (r for r in reversed(rounds) if r["status"] == "done" and r["test_accuracy"] is not None),
        None,
    )
    queue = store.get_queue()
    return {
        "project": str(project.path),
        "source": str(project.source),
        "class_names": list(project.class_names),
        "image_size": project.image_size,
        "n_pool": int(pool_ids.shape[0]),
        "n_test": store.n_samples - int(pool_ids.shape[0]),
        "n_labeled": int(labeled_ids.shape[0]),
        "n_unlabeled": int(pool_ids.shape[0] - labeled_ids.shape[0]),
        "classes": classes,
        "rounds": rounds,
        "last_test_accuracy": None if last is None else last["test_accuracy"],
        "last_test_accuracy_round": None if last is None else last["id"],
        "n_queued": len(queue),
        "n_leased": sum(1 for item in queue if item.is_leased(now)),
    }


def format_status(status: dict[str, Any]) -> str:
    lines = [
        f"project {status['project']} ({status['image_size']} px images from {status['source']})",
        f"pool: {status['n_pool']} samples, {status['n_labeled']} labeled, "
        f"{status['n_unlabeled']} unlabeled; test: {status['n_test']} samples",
        "",
    ]
    show_unlabeled = any(row["unlabeled_known"] is not None for row in status["classes"])
    headers = ["class", "labeled"] + (["unlabeled (known class)"] if show_unlabeled else [])
    rows = [
        [row["name"], row["labeled"]] + ([row["unlabeled_known"]] if show_unlabeled else [])
        for row in status["classes"]
    ]
    lines.append(format_table(headers, rows))
    lines.append("")
    if status["rounds"]:
        rows = [
            [
                record["id"],
                record["status"],
                record["strategy"],
                record["query_size"],
                _or_dash(record["n_labels"]),
                _format_accuracy(record["val_accuracy"]),
                _format_accuracy(record["test_accuracy"]),
                time.strftime("%Y-%m-%d %H:%M", time.localtime(record["started_at"])),
                record["error"] or "",
            ]
            for record in status["rounds"]
        ]
        headers = ["round", "status", "strategy", "query size", "labels", "val acc",
                   "test acc", "started", "error"]  # fmt: skip
        lines.append(format_table(headers, rows))
    else:
        lines.append("rounds: none yet (run `labeler round PROJECT`)")
    if status["last_test_accuracy"] is not None:
        lines.append(
            f"last test accuracy: {status['last_test_accuracy']:.3f} "
            f"(round {status['last_test_accuracy_round']})"
        )
    else:
        # Projects without a test split still have the held-out part of their labels.
        trained = [
            r for r in status["rounds"] if r["status"] == "done" and r["val_accuracy"] is not None
        ]
        if trained:
            lines.append(
                f"last validation accuracy: {trained[-1]['val_accuracy']:.3f} "
                f"(round {trained[-1]['id']}; no test split)"
            )
    lines.append(f"queue: {status['n_queued']} waiting, {status['n_leased']} leased")
    return "\n".join(lines)


def _format_accuracy(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _or_dash(value: object) -> object:
    return "-" if value is None else value
