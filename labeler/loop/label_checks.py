"""The labels that are probably wrong, in a project: the latest round's out-of-fold
probabilities and the annotators' disagreements, ranked by ``labeler.selection.label_issues``.

A round writes the out-of-fold probabilities of the labels it learned from
(``labeler.loop.round_learning``). Labels added since then have none: they are ranked by
disagreement alone, after the scored ones of their tier. The current label of a sample is its
latest live label (``docs/store.md``), as training and ``export`` read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from labeler.selection.label_issues import rank_suspects
from labeler.store.project import Project
from labeler.store.project_files import RoundFolder


@dataclass(frozen=True)
class SuspectList:
    """Every current label ranked, most suspect first (``rows``, JSON-ready dicts), where the
    probabilities came from (``round_id``, ``source``; None when no round wrote any), how
    many labels confident learning flags and how many annotators dispute."""

    rows: list[dict[str, Any]]
    round_id: int | None
    source: str | None
    n_labels: int
    n_scored: int
    n_flagged: int
    n_disputed: int


def find_suspects(project: Project) -> SuspectList:
    """Rank the project's current labels by how likely each is wrong (module docstring)."""
    store = project.store
    names = project.class_names
    sample_ids, labels = store.get_current_labels()
    round_id, source, probs = read_latest_out_of_fold(project, sample_ids, len(names))
    conflicts = {conflict.sample_id: conflict.labels for conflict in store.get_label_conflicts()}
    disagreement = np.zeros(sample_ids.shape[0])
    for row, (sample_id, label) in enumerate(
        zip(sample_ids.tolist(), labels.tolist(), strict=True)
    ):
        given = conflicts.get(sample_id)
        if given:
            disagreement[row] = sum(name != names[label] for name in given.values()) / len(given)
    ranking = rank_suspects(labels, probs, disagreement=disagreement)
    paths = {sample.id: sample.path for sample in store.get_samples("pool")}
    rows = []
    for row in ranking.order.tolist():
        sample_id = int(sample_ids[row])
        suggested = int(ranking.suggested[row])
        score = float(ranking.scores[row])
        rows.append(
            {
                "sample": sample_id,
                "path": paths[sample_id],
                "label": names[int(labels[row])],
                "model_label": names[suggested] if suggested >= 0 else None,
                "score": score if np.isfinite(score) else None,
                "flagged": bool(ranking.flagged[row]),
                "disagreement": float(ranking.disagreement[row]),
                "annotators": conflicts.get(sample_id, {}),
            }
        )
    return SuspectList(
        rows=rows,
        round_id=round_id,
        source=source,
        n_labels=int(sample_ids.shape[0]),
        n_scored=int(np.isfinite(probs).all(axis=1).sum()),
        n_flagged=ranking.n_flagged,
        n_disputed=int((disagreement > 0).sum()),
    )


def read_latest_out_of_fold(
    project: Project, sample_ids: np.ndarray, n_classes: int
) -> tuple[int | None, str | None, np.ndarray]:
    """``(round id, source, probs)``: the latest done round's out-of-fold probabilities, as
    float64 ``[len(sample_ids), n_classes]`` rows for ``sample_ids`` (NaN where it has none)."""
    probs = np.full((sample_ids.shape[0], n_classes), np.nan)
    for record in reversed(project.store.get_rounds()):
        folder = RoundFolder.of(project.path, record.folder)
        if record.status != "done" or folder is None:
            continue
        stored = folder.read_out_of_fold()
        if stored is None:
            continue
        ids, round_probs = stored
        if round_probs.shape[1] != n_classes:
            continue
        rows = {int(sample_id): row for row, sample_id in enumerate(ids.tolist())}
        for position, sample_id in enumerate(sample_ids.tolist()):
            if sample_id in rows:
                probs[position] = round_probs[rows[sample_id]]
        report = folder.read_report() or {}
        source = (report.get("suspects") or {}).get("source")
        return record.id, source, probs
    return None, None, probs


def queue_reviews(
    project: Project, *, n_suspects: int, n_calibration: int, seed: int
) -> tuple[int, int]:
    """Send the ``n_suspects`` most suspect labels (flagged or disputed, ``find_suspects``)
    and ``n_calibration`` other labels drawn at random (seeded) to blind review
    (``labeler.store.reviews``); return how many of each were added (labels already under
    review are not added again)."""
    suspects = find_suspects(project)
    doubtful = [row["sample"] for row in suspects.rows if row["flagged"] or row["disagreement"]]
    chosen = doubtful[:n_suspects]
    others = sorted(set(project.store.get_current_labels()[0].tolist()) - set(chosen))
    rng = np.random.default_rng(seed)
    drawn = rng.choice(others, size=min(n_calibration, len(others)), replace=False).tolist()
    store = project.store
    return (
        store.add_reviews(chosen, reason="suspect"),
        store.add_reviews([int(sample) for sample in drawn], reason="calibration"),
    )
