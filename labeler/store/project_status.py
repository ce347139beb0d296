"""A project's state at a glance, as JSON-ready data: labels per class, rounds, the queue, the
cached embeddings."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from labeler.store.project import Project
from labeler.store.project_files import RoundFolder, list_embedding_files

# Quantiles of the last round's acquisition scores that status shows.
SCORE_QUANTILES = (0.0, 0.25, 0.5, 0.75, 0.9, 1.0)


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
    reports = {record.id: _read_report(project, record.folder) for record in store.get_rounds()}
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
            "scoring_model": _get_scoring_model(reports[record.id]),
            "learner": _get_learner(reports[record.id]),
            "stop_set": _get_stop_set(reports[record.id]),
            "accuracy_estimate": _get_accuracy_estimate(reports[record.id]),
        }
        for record in store.get_rounds()
    ]
    last = next(
        (r for r in reversed(rounds) if r["status"] == "done" and r["test_accuracy"] is not None),
        None,
    )
    n_waiting, n_leased = store.count_queue(now=now)
    last_done = store.get_last_done_round()
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
        "n_queued": n_waiting + n_leased,
        "n_leased": n_leased,
        "last_scores": None if last_done is None else _get_scores(project, last_done.folder),
        "last_learner": _get_learner_choice(reports, last_done),
        "embeddings": _get_embeddings(project),
    }


def _get_embeddings(project: Project) -> list[dict[str, Any]]:
    """The cached embeddings: kind, file name, ``[n_samples, dim]`` (None when unreadable) and
    the seconds they took to compute (None when not recorded)."""
    embeddings = []
    for file in list_embedding_files(project.path):
        vectors = file.read()
        info = file.read_info() or {}
        seconds = info.get("seconds")
        embeddings.append(
            {
                "kind": file.kind,
                "file": file.path.name,
                "shape": None if vectors is None else [int(side) for side in vectors.shape],
                "seconds": float(seconds) if isinstance(seconds, int | float) else None,
            }
        )
    return embeddings


def _read_report(project: Project, folder: str | None) -> dict[str, Any] | None:
    """A round's report, or None for a round without one (initial, failed or unreadable)."""
    round_folder = RoundFolder.of(project.path, folder)
    return None if round_folder is None else round_folder.read_report()


def _get_accuracy_estimate(report: dict[str, Any] | None) -> dict[str, Any] | None:
    """The round's audit draw and cross-validated accuracy (``labeler.loop.accuracy_audit``),
    None if it measured neither."""
    return None if report is None else report.get("accuracy_estimate")


def _get_stop_set(report: dict[str, Any] | None) -> dict[str, Any] | None:
    """What a round measured on the stop set (``labeler.loop.stop_set``), None if nothing."""
    return None if report is None else report.get("stop_set")


def _get_learner(report: dict[str, Any] | None) -> str | None:
    """What learned in a trained round (rounds from before learners were chosen: the CNN)."""
    if report is None:
        return None
    learner = report.get("learner")
    return str(learner["chosen"]) if isinstance(learner, dict) else "cnn"


def _get_learner_choice(
    reports: dict[int, dict[str, Any] | None], last_done: Any
) -> dict[str, Any] | None:
    """The last trained round's learner entry (chosen, reason, accuracy, candidates) with its
    round id; None before any trained round."""
    report = None if last_done is None else reports.get(last_done.id)
    learner = None if report is None else report.get("learner")
    if not isinstance(learner, dict):
        return None
    return {"round": last_done.id, **learner}


def _get_scoring_model(report: dict[str, Any] | None) -> dict[str, Any] | None:
    """Which model scored a round's pool (from its report), or None for rounds without one."""
    if report is None:
        return None
    # Rounds from before pruning existed scored with their own model.
    scoring = report.get("scoring_model") or {"kind": "full"}
    return scoring if isinstance(scoring, dict) else None


def _get_scores(project: Project, folder: str | None) -> dict[str, Any] | None:
    """How a round's acquisition scores are spread (higher = more informative): how many
    images were scored, the quantiles ``SCORE_QUANTILES`` of their scores and those of the
    images it selected (its report's ``selected_ids``); None for a round without scores."""
    round_folder = RoundFolder.of(project.path, folder)
    if round_folder is None:
        return None
    predictions = round_folder.read_predictions()
    if predictions is None or predictions.scores.size == 0:
        return None
    report = round_folder.read_report() or {}
    selected = np.asarray(report.get("selected_ids", []), dtype=np.int64)
    is_selected = np.isin(predictions.scored_ids, selected)

    def quantiles(scores: np.ndarray) -> list[float] | None:
        if scores.size == 0:
            return None
        return [float(value) for value in np.quantile(scores, SCORE_QUANTILES)]

    return {
        "n_scored": int(predictions.scores.size),
        "quantiles": list(SCORE_QUANTILES),
        "scored": quantiles(predictions.scores),
        "selected": quantiles(predictions.scores[is_selected]),
    }
