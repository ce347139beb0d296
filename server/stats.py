"""Figures for the dashboard: each annotator's labels, skips and pace, the conflicts, and the
labels that are probably wrong."""

from __future__ import annotations

import statistics
from typing import Any

from labeler.loop.label_checks import find_suspects
from labeler.store.database import Activity, ProjectStore
from labeler.store.project import Project

# A gap longer than this between two actions of an annotator is a break, not labeling time.
MAX_LABEL_SECONDS = 300.0


def get_annotator_stats(activity: list[Activity]) -> dict[str, dict[str, Any]]:
    """Per annotator: ``labels`` (live), ``skips``, ``retracted`` and ``median_seconds`` (the
    median gap between consecutive actions, breaks left out; None with fewer than two)."""
    stats: dict[str, dict[str, Any]] = {}
    last_time: dict[str, float] = {}
    gaps: dict[str, list[float]] = {}
    for action in activity:  # oldest first
        entry = stats.setdefault(
            action.annotator, {"labels": 0, "skips": 0, "retracted": 0, "median_seconds": None}
        )
        if action.kind == "skip":
            entry["skips"] += 1
        elif action.retracted:
            entry["retracted"] += 1
        else:
            entry["labels"] += 1
        previous = last_time.get(action.annotator)
        if previous is not None and action.created_at - previous <= MAX_LABEL_SECONDS:
            gaps.setdefault(action.annotator, []).append(action.created_at - previous)
        last_time[action.annotator] = action.created_at
    for name, values in gaps.items():
        stats[name]["median_seconds"] = statistics.median(values)
    return stats


def get_conflicts(store: ProjectStore) -> dict[str, list[dict[str, Any]]]:
    """Samples labeled differently by different annotators, and labels given without the
    image's lease (kept, but worth a look)."""
    labels = [
        {"sample_id": conflict.sample_id, "labels": conflict.labels}
        for conflict in store.get_label_conflicts()
    ]
    leases = [
        {
            "sample_id": event.sample_id,
            "label": event.label_name,
            "annotator": event.annotator,
            "kind": kind,
            "holder": holder,
            "created_at": event.created_at,
        }
        for event, kind, holder in store.get_lease_conflicts()
    ]
    return {"labels": labels, "leases": leases}


# Suspect labels the dashboard lists (``labeler suspects`` lists them all).
N_SUSPECTS_SHOWN = 12


def get_suspect_summary(project: Project) -> dict[str, Any]:
    """How many current labels confident learning flags and annotators dispute, and the most
    suspect of those (``labeler.loop.label_checks``), with their image URLs."""
    suspects = find_suspects(project)
    shown = [row for row in suspects.rows if row["flagged"] or row["disagreement"] > 0]
    return {
        "n_labels": suspects.n_labels,
        "n_checked": suspects.n_scored,
        "n_flagged": suspects.n_flagged,
        "n_disputed": suspects.n_disputed,
        "round_id": suspects.round_id,
        "source": suspects.source,
        "top": [
            {**row, "image_url": f"/api/images/{row['sample']}.png"}
            for row in shown[:N_SUSPECTS_SHOWN]
        ],
    }
