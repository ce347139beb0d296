"""The accuracy estimate of a project's rounds (``labeler.selection.accuracy_estimate`` says
what it rests on): the audit slice each round mixes into its batch, the cross-validated part
each round reports, and both read back for status and the dashboard.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labeler.selection.accuracy_estimate import (
    Estimate,
    count_right,
    light_classes,
    mix_audit_slice,
)
from labeler.selection.pool_query import PoolQuery
from labeler.store.project import Project
from labeler.store.project_files import RoundFolder

# The audit pools the labeled slices of this many latest rounds that drew one: one round's
# slice is a handful of images, and older models' guesses make the pool only a little low.
AUDIT_WINDOW = 3


def add_audit_slice(
    folder: RoundFolder,
    query: PoolQuery,
    scored: PoolQuery,
    *,
    share: float,
    rng: np.random.Generator,
) -> tuple[PoolQuery, dict[str, Any]]:
    """The round's ``query`` with ``share`` of its batch replaced by images drawn at random from
    those ``scored`` (the query before a coverage batch replaced it, with every scored image's
    guess), the draw and its guesses written into ``folder``; and the report's ``audit``
    entry. A drawn image the query did not score joins its scored ids with score 0."""
    batch, audit = mix_audit_slice(query.selected, scored.scored_ids, share=share, rng=rng)
    entry = {"share": share, "n": int(audit.shape[0])}
    if audit.shape[0] == 0:
        return query, entry
    folder.write_audit(audit, _look_up(scored.scored_ids, scored.guesses, audit))
    return query.with_batch(batch), entry


def _look_up(
    ids: NDArray[np.int64], values: NDArray[np.int64], wanted: NDArray[np.int64]
) -> NDArray[np.int64]:
    """``values`` of ``wanted`` (every one of which is in ``ids``), row for row."""
    order = np.argsort(ids)
    return values[order[np.searchsorted(ids, wanted, sorter=order)]]


def describe_cross_validation(
    labels: NDArray[np.int64],
    probs: NDArray[np.float32],
    *,
    class_names: Sequence[str],
    source: str,
) -> dict[str, Any]:
    """The report's ``cross_validation`` entry from out-of-fold ``probs`` ``[n, n_classes]``
    of the samples labeled ``labels`` ``[n]``: the accuracy of their guesses, its interval, and
    each class's light."""
    guesses = np.asarray(probs).argmax(axis=1)
    overall = count_right(labels, guesses)
    return {
        **overall.to_dict(),
        "source": source,
        "classes": light_classes(labels, guesses, class_names=class_names, overall=overall),
    }


def describe_accuracy_estimate(
    project: Project, rounds: list[dict[str, Any]], *, window: int = AUDIT_WINDOW
) -> dict[str, Any]:
    """What status and the dashboard show: the audit (each round's labeled slice against its
    guesses, and the last ``window`` rounds' pooled), the last trained round's cross-validated
    accuracy with each class's light, and one line saying it. ``rounds``: as
    ``labeler.store.project_status.get_status`` lists them (each done round's
    ``accuracy_estimate`` entry, read from its report)."""
    store = project.store
    labeled_ids, labels = store.get_current_labels()
    labels_by_id = dict(zip(labeled_ids.tolist(), labels.tolist(), strict=True))
    cross_validation = None
    for entry in rounds:
        measured = entry.get("accuracy_estimate") or {}
        if entry["status"] == "done" and measured.get("cross_validation") is not None:
            cross_validation = {"round": entry["id"], **measured["cross_validation"]}
    per_round = []
    for record in store.get_rounds():
        folder = RoundFolder.of(project.path, record.folder)
        drawn = None if folder is None or record.status != "done" else folder.read_audit()
        if drawn is not None:
            per_round.append(_score_audit(record.id, *drawn, labels_by_id))
    pooled = [entry for entry in per_round if entry["n"]][-window:]
    audit = Estimate(sum(e["correct"] for e in pooled), sum(e["n"] for e in pooled))
    return {
        "audit": {
            **audit.to_dict(),
            "rounds": [entry["round"] for entry in pooled],
            "by_round": per_round,
            # Drawn but not labeled: still queued, or dropped from the queue by a later round.
            "n_unlabeled": sum(entry["n_drawn"] - entry["n"] for entry in per_round),
        },
        "cross_validation": cross_validation,
        "message": _describe(audit, [e["round"] for e in pooled], cross_validation),
    }


def _score_audit(
    round_id: int,
    sample_ids: NDArray[np.int64],
    guesses: NDArray[np.int64],
    labels_by_id: dict[int, int],
) -> dict[str, Any]:
    """One round's audit: how many of its drawn images are labeled by now and how many of
    those it guessed right."""
    labeled = [
        (labels_by_id[int(sample)], int(guess))
        for sample, guess in zip(sample_ids, guesses, strict=True)
        if int(sample) in labels_by_id
    ]
    return {
        "round": round_id,
        "n_drawn": int(sample_ids.shape[0]),
        "n": len(labeled),
        "correct": sum(label == guess for label, guess in labeled),
    }


def _describe(audit: Estimate, rounds: list[int], cross_validation: dict[str, Any] | None) -> str:
    """ "accuracy on the pool: 0.912 (0.850-0.950; audit of 60 random images, rounds 4-6);
    cross-validation on the labels: 0.880 (...)"."""
    parts = []
    if audit.n:
        low, high = audit.interval
        span = f"round {rounds[0]}" if len(rounds) == 1 else f"rounds {rounds[0]}-{rounds[-1]}"
        parts.append(
            f"accuracy on the pool {audit.correct / audit.n:.3f} ({low:.3f}-{high:.3f}; audit of "
            f"{audit.n} random images, {span})"
        )
    else:
        parts.append("accuracy on the pool: no audit image labeled yet")
    if cross_validation is not None and cross_validation["n"]:
        parts.append(
            f"cross-validation on the labels {cross_validation['accuracy']:.3f} "
            f"({cross_validation['low']:.3f}-{cross_validation['high']:.3f}, "
            f"{cross_validation['n']} labels, round {cross_validation['round']}; chosen labels "
            "are harder than the pool, so it leans low)"
        )
    return "; ".join(parts)
