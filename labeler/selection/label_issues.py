"""Which labels are probably wrong: confident learning on out-of-sample probabilities.

A pure function of ``(labels, probs)``, with the annotators' disagreement as an optional
third input. The probabilities of each labeled sample must come from a model that did not see
its label (k-fold: ``labeler.learning.out_of_fold``); a model's own training labels look
right to it.

Following confident learning (Northcutt, Jiang and Chuang, 2021):
- Each class ``j`` has a threshold ``t_j``: the mean probability of ``j`` over the samples
  labeled ``j`` (the model's average self-confidence on that class).
- A sample is *confidently* of class ``j`` when ``p_j >= t_j``. Among the classes it clears,
  the likeliest is its confident class.
- A sample whose confident class exists and differs from its given label sits off the
  diagonal of the confident joint: it is **flagged** as a likely label error.

Every scored sample also gets a **score**, its self-confidence measured against its class's
threshold: ``1 - p_y / t_y``. It is 0 for a label the model backs as much as it backs its class
on average, near 1 for one it hardly backs at all, and negative above the average. Suspects are
ranked by it, most suspect first, after the samples annotators dispute (some annotator's latest
label differs from the current one); ties go to the more disputed sample.

Why self-confidence and not the margin to the best other class, and why flagged samples do not
rank first: with the same out-of-fold probabilities and 10% of labels wrong, the top k held
56-96% wrong labels on three multi-class sets ranked this way, against 40-83% ranked by the
margin with flagged samples first (``bench/label_noise.py``). A model unsure of a sample
spreads its probability over several classes: no other class clears its threshold, so the
sample is not flagged, and the margin stays small, yet a low probability of the given label is
already the evidence. On two classes the margin is ``1 - 2 p_y``, the same order but for the
threshold. Dividing by the class's threshold keeps a class the model finds hard from filling
the top of the list with right labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True, eq=False)
class SuspectRanking:
    """The labeled samples (rows) ranked by how likely their label is wrong.

    ``order``: int64 ``[n]``, every row, most suspect first. ``scores``: float64 ``[n]``,
    ``1 - p_y / t_y`` (NaN for a row without probabilities). ``flagged``: bool ``[n]``, off
    the diagonal of the confident joint. ``suggested``: int64 ``[n]``, the model's likeliest
    class (-1 without probabilities). ``disagreement``: float64 ``[n]``, the share of the
    sample's annotators whose latest label differs from the current one.
    ``thresholds``: float64 ``[n_classes]``, per-class thresholds (NaN for a class without
    scored labels).
    """

    order: NDArray[np.int64]
    scores: NDArray[np.float64]
    flagged: NDArray[np.bool_]
    suggested: NDArray[np.int64]
    disagreement: NDArray[np.float64]
    thresholds: NDArray[np.float64]

    @property
    def n_flagged(self) -> int:
        return int(self.flagged.sum())


def rank_suspects(labels: Any, probs: Any, *, disagreement: Any = None) -> SuspectRanking:
    """Rank the labeled samples by how likely their label is wrong (module docstring).

    ``labels``: int ``[n]`` given labels; ``probs``: float ``[n, n_classes]`` out-of-sample
    probabilities, a row of NaN where the sample could not be scored; ``disagreement``: float
    ``[n]`` in [0, 1] (None: no annotator disputes any label).
    """
    given = np.asarray(labels, dtype=np.int64)
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or given.ndim != 1 or p.shape[0] != given.shape[0]:
        raise ValueError(
            f"labels must be [n] and probs [n, n_classes], got {given.shape} and {p.shape}"
        )
    n_rows, n_classes = p.shape
    if n_rows and (given.min() < 0 or given.max() >= n_classes):
        raise ValueError(
            f"labels must lie in 0 .. {n_classes - 1}, got {given.min()} .. {given.max()}"
        )
    disputes = (
        np.zeros(n_rows) if disagreement is None else np.asarray(disagreement, dtype=np.float64)
    )
    if disputes.shape != (n_rows,) or not np.all((disputes >= 0) & (disputes <= 1)):
        raise ValueError(f"disagreement must be [n] shares in [0, 1], got shape {disputes.shape}")
    scored = np.isfinite(p).all(axis=1)
    thresholds = get_class_thresholds(given[scored], p[scored], n_classes)
    rows = np.arange(n_rows)
    own = np.where(scored, p[rows, given.clip(0, n_classes - 1)], np.nan)
    own_threshold = thresholds[given.clip(0, n_classes - 1)]
    # A class whose labels all got probability 0 has threshold 0: its labels are as suspect
    # as a label can be.
    with np.errstate(invalid="ignore", divide="ignore"):
        backed = np.where(own_threshold > 0, own / own_threshold, 0.0)
    scores = np.where(scored, 1.0 - backed, np.nan)
    suggested = np.where(scored, np.nan_to_num(p, nan=-1.0).argmax(axis=1), -1).astype(np.int64)
    # Confident class: the likeliest class whose probability reaches its class's threshold.
    clears = p >= np.where(np.isfinite(thresholds), thresholds, np.inf)[None, :]
    confident = np.where(clears, p, -np.inf).argmax(axis=1)
    has_confident = clears.any(axis=1) & scored
    flagged = has_confident & (confident != given)
    disputed = (disputes > 0).astype(np.int64)
    # lexsort: the last key sorts first. Unscored rows sort below every score in their tier.
    order = np.lexsort((rows, -disputes, -np.nan_to_num(scores, nan=-np.inf), -disputed))
    return SuspectRanking(
        order=order.astype(np.int64),
        scores=scores,
        flagged=flagged,
        suggested=suggested,
        disagreement=disputes,
        thresholds=thresholds,
    )


def get_class_thresholds(
    labels: NDArray[np.int64], probs: NDArray[np.float64], n_classes: int
) -> NDArray[np.float64]:
    """float64 ``[n_classes]``: the mean probability of each class over the samples given
    that class (NaN for a class with none)."""
    sums = np.zeros(n_classes)
    np.add.at(sums, labels, probs[np.arange(labels.shape[0]), labels])
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / counts, np.nan)
