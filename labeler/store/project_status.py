"""A project's state at a glance, as JSON-ready data: labels per class, rounds, the queue."""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np

from labeler.store.project import REPORT_FILE, Project


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
            "scoring_model": _get_scoring_model(project, record.folder),
        }
        for record in store.get_rounds()
    ]
    last = next(
        (r for r in reversed(rounds) if r["status"] == "done" and r["test_accuracy"] is not None),
        None,
    )
    n_waiting, n_leased = store.count_queue(now=now)
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
    }


def _get_scoring_model(project: Project, folder: str | None) -> dict[str, Any] | None:
    """Which model scored a round's pool (from its report), or None for rounds without one."""
    if not folder:
        return None
    try:
        report = json.loads((project.path / folder / REPORT_FILE).read_text())
    except (OSError, ValueError):
        return None
    # Rounds from before pruning existed scored with their own model.
    scoring = report.get("scoring_model") or {"kind": "full"}
    return scoring if isinstance(scoring, dict) else None
