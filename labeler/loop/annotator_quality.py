"""How well each annotator labels: agreement with the others, with the blind reviews of their
labels (``labeler.store.reviews``), accuracy on gold items (``labeler.store.gold``), Cohen's
kappa for every pair that shares enough samples,
agreement with the model that did not see the label, and accuracy on samples whose class the
source knew.

Each annotator's latest live label of a sample is theirs (an undone label does not count).
The model's view is the latest round's out-of-fold probabilities (``labeler.loop.label_checks``):
each label predicted by a head fitted without it, so a careless annotator's labels disagree
with it more often than a careful one's.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from labeler.loop.label_checks import read_latest_out_of_fold
from labeler.selection.agreement import cohen_kappa
from labeler.store.project import Project

# Kappa of a pair is reported from this many shared samples on: below it, one disagreement
# swings it by more than 0.1.
MIN_SHARED_FOR_KAPPA = 10


@dataclass(frozen=True)
class AnnotatorQuality:
    """``annotators``: one JSON-ready dict per annotator (``name``, ``n_labels``,
    ``n_shared``, ``agreement`` with the others on shared samples, ``review_agreement`` (the
    share of reviews of their labels that confirmed them) and ``n_reviewed``,
    ``gold_accuracy`` on the gold items they answered and ``n_gold``,
    ``model_agreement`` and
    ``n_model_checked``, ``known_accuracy`` and ``n_known``; None where nothing was there to
    measure). ``pairs``: one dict per pair of annotators sharing samples (``first``,
    ``second``, ``n_shared``, ``agreement``, ``kappa``: None below ``MIN_SHARED_FOR_KAPPA``
    shared samples or when undefined)."""

    annotators: list[dict[str, Any]]
    pairs: list[dict[str, Any]]
    round_id: int | None


def get_annotator_quality(project: Project) -> AnnotatorQuality:
    """Measure every annotator of ``project`` (module docstring)."""
    store = project.store
    n_classes = len(project.class_names)
    by_sample: dict[int, dict[str, int]] = defaultdict(dict)
    for sample_id, annotator, label in store.get_annotator_labels():
        by_sample[sample_id][annotator] = label
    names = sorted({name for labels in by_sample.values() for name in labels})
    known = {sample.id: sample.known_label for sample in store.get_samples("pool")}
    sample_ids = np.array(sorted(by_sample), dtype=np.int64)
    round_id, _, probs = read_latest_out_of_fold(project, sample_ids, n_classes)
    model_label = {
        int(sample): int(np.argmax(row))
        for sample, row in zip(sample_ids.tolist(), probs, strict=True)
        if np.isfinite(row).all()
    }
    reviewed: dict[str, list[bool]] = defaultdict(list)
    for _, _, labeled_by, outcome in store.get_review_answers():
        reviewed[labeled_by].append(outcome == "confirmed")
    gold: dict[str, list[bool]] = defaultdict(list)
    for answer in store.get_gold_answers():
        gold[answer.annotator].append(answer.label == answer.known)
    names = sorted(set(names) | set(reviewed) | set(gold))
    annotators = []
    for name in names:
        item = _measure(name, by_sample, known, model_label)
        verdicts = reviewed.get(name, [])
        item["n_reviewed"] = len(verdicts)
        item["review_agreement"] = float(np.mean(verdicts)) if verdicts else None
        hits = gold.get(name, [])
        item["n_gold"] = len(hits)
        item["gold_accuracy"] = float(np.mean(hits)) if hits else None
        annotators.append(item)
    # Each sample's annotators, pair by pair: cost grows with the labels, not with the pairs.
    shared_labels: dict[tuple[str, str], tuple[list[int], list[int]]] = defaultdict(
        lambda: ([], [])
    )
    for labels in by_sample.values():
        for first, second in itertools.combinations(sorted(labels), 2):
            a_labels, b_labels = shared_labels[first, second]
            a_labels.append(labels[first])
            b_labels.append(labels[second])
    pairs = []
    for (first, second), (a, b) in sorted(shared_labels.items()):
        kappa = cohen_kappa(a, b, n_classes=n_classes) if len(a) >= MIN_SHARED_FOR_KAPPA else None
        pairs.append(
            {
                "first": first,
                "second": second,
                "n_shared": len(a),
                "agreement": float(np.mean(np.equal(a, b))),
                "kappa": kappa,
            }
        )
    return AnnotatorQuality(annotators, pairs, round_id)


def _measure(
    name: str,
    by_sample: dict[int, dict[str, int]],
    known: dict[int, int | None],
    model_label: dict[int, int],
) -> dict[str, Any]:
    mine = {sample: labels[name] for sample, labels in by_sample.items() if name in labels}
    n_others = n_agreeing = n_shared = 0
    for sample, label in mine.items():
        others = [other for who, other in by_sample[sample].items() if who != name]
        if others:
            n_shared += 1
            n_others += len(others)
            n_agreeing += sum(other == label for other in others)
    checked = [sample for sample in mine if sample in model_label]
    with_known = [sample for sample in mine if known.get(sample) is not None]
    return {
        "name": name,
        "n_labels": len(mine),
        "n_shared": n_shared,
        "agreement": n_agreeing / n_others if n_others else None,
        "model_agreement": (
            float(np.mean([mine[s] == model_label[s] for s in checked])) if checked else None
        ),
        "n_model_checked": len(checked),
        "known_accuracy": (
            float(np.mean([mine[s] == known[s] for s in with_known])) if with_known else None
        ),
        "n_known": len(with_known),
    }
