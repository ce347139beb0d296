"""``labeler status``: labels per class, rounds and their accuracy, the last round's scores,
the queue, the cached embeddings."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from labeler.api.projects import get_status
from labeler.commands.table import format_table
from labeler.selection.accuracy_estimate import AMBER, GREEN, GREY, RED
from labeler.selection.stop_meter import DEFAULT_STOP_THRESHOLD, DEFAULT_STOP_WINDOW


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
    parser.add_argument(
        "--stop-threshold",
        type=float,
        default=DEFAULT_STOP_THRESHOLD,
        help="the stop meter's kappa threshold, in (0, 1] (default %(default)s)",
    )
    parser.add_argument(
        "--stop-window",
        type=int,
        default=DEFAULT_STOP_WINDOW,
        help="rounds in a row at or above it before the meter says stop (default %(default)s)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    status = get_status(
        args.project, stop_threshold=args.stop_threshold, stop_window=args.stop_window
    )
    print(json.dumps(status, indent=2) if args.json else format_status(status))
    return 0


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
                record.get("learner") or "",
                record["query_size"],
                _or_dash(record["n_labels"]),
                _format_accuracy(record["val_accuracy"]),
                _format_accuracy(record["test_accuracy"]),
                _describe_scoring(record["scoring_model"]),
                time.strftime("%Y-%m-%d %H:%M", time.localtime(record["started_at"])),
                record["error"] or "",
            ]
            for record in status["rounds"]
        ]
        headers = ["round", "status", "strategy", "learner", "query size", "labels", "val acc",
                   "test acc", "scored by", "started", "error"]  # fmt: skip
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
    scored = [r for r in status["rounds"] if r["status"] == "done" and r["scoring_model"]]
    if scored:
        lines.append(
            f"round {scored[-1]['id']} scored the pool with the "
            f"{_describe_scoring(scored[-1]['scoring_model'])} model"
        )
    if status.get("last_learner") is not None:
        lines.append(_describe_learner(status["last_learner"]))
    if status["last_scores"] is not None:
        lines.append(_describe_scores(status["last_scores"]))
    lines.append(f"queue: {status['n_queued']} waiting, {status['n_leased']} leased")
    if status.get("stop_meter") is not None:
        lines.append(_describe_stop_meter(status["stop_meter"]))
    if status.get("accuracy_estimate") is not None:
        lines.extend(_describe_accuracy_estimate(status["accuracy_estimate"]))
    lines.append(_describe_embeddings(status.get("embeddings", [])))
    return "\n".join(lines)


def _describe_stop_meter(meter: dict[str, Any]) -> str:
    """ "stop meter: keep labeling: ...; kappa by round 0.91, 0.97" and the stop set's size."""
    line = f"stop meter: {meter['message']}"
    kappas = [kappa for kappa in meter["kappas"] if kappa is not None]
    if kappas:
        line += "; kappa by round " + ", ".join(f"{kappa:.3f}" for kappa in kappas[-6:])
    if meter["n_stop_set"]:
        line += f" (stop set: {meter['n_stop_set']} images, never queued)"
    return line


def _describe_accuracy_estimate(estimate: dict[str, Any]) -> list[str]:
    """ "accuracy estimate: ..." and, when the last cross-validation gave them, the classes by
    light: "classes: red cat (0.42, 12 labels); amber ...; green ..."."""
    lines = [f"accuracy estimate: {estimate['message']}"]
    cross_validation = estimate.get("cross_validation")
    if cross_validation is None:
        return lines
    parts = []
    for light in (RED, AMBER, GREEN, GREY):
        named = [
            f"{row['name']} ({_format_accuracy(row['accuracy'])}, {row['n']} labels)"
            for row in cross_validation["classes"]
            if row["light"] == light
        ]
        if named:
            parts.append(f"{light}: " + ", ".join(named))
    lines.append("class recall, cross-validated: " + "; ".join(parts))
    return lines


def _describe_learner(learner: dict[str, Any]) -> str:
    """ "round 4 learned with linear@pixels: <reason>; candidates: linear@pixels 0.889 (...)"."""
    line = f"round {learner['round']} learned with {learner['reason']}"
    candidates = learner.get("candidates") or []
    if len(candidates) > 1:
        line += "; candidates: " + ", ".join(
            f"{candidate['name']} {_format_accuracy(candidate['accuracy'])}"
            for candidate in candidates
        )
    return line


def _describe_embeddings(embeddings: list[dict[str, Any]]) -> str:
    """ "embeddings: pixels 60 x 60 (0.2 s), ..." or how to compute one."""
    if not embeddings:
        return "embeddings: none cached (`labeler embed PROJECT --kind K` computes one)"
    parts = []
    for embedding in embeddings:
        shape = embedding["shape"]
        size = "unreadable" if shape is None else " x ".join(str(side) for side in shape)
        seconds = "" if embedding["seconds"] is None else f" ({embedding['seconds']:.1f} s)"
        parts.append(f"{embedding['kind']} {size}{seconds}")
    return "embeddings: " + ", ".join(parts)


def _describe_scores(scores: dict[str, Any]) -> str:
    """The last round's acquisition scores as quantiles, all scored images and the selected
    batch: a batch whose scores sit far above the pool's is one the model is unsure about."""
    names = "/".join(_format_quantile(q) for q in scores["quantiles"])
    parts = [
        f"{label} {' '.join(f'{value:.3g}' for value in scores[key])}"
        for label, key in (("pool", "scored"), ("selected", "selected"))
        if scores[key] is not None
    ]
    return f"last round's scores ({scores['n_scored']} images scored; {names}): " + "; ".join(parts)


def _format_quantile(quantile: float) -> str:
    return {0.0: "min", 0.5: "median", 1.0: "max"}.get(quantile, f"p{round(quantile * 100)}")


def _describe_scoring(scoring: dict[str, Any] | None) -> str:
    """ "full" or "pruned 7/15 blocks": which model scored a round's pool."""
    if not scoring:
        return "-"
    kind = str(scoring.get("kind", "full"))
    if kind == "pruned" and scoring.get("n_blocks") is not None:
        return f"pruned {scoring['n_blocks']}/{scoring.get('n_blocks_unpruned', '?')} blocks"
    return kind


def _format_accuracy(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _or_dash(value: object) -> object:
    return "-" if value is None else value
