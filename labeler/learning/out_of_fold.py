"""Out-of-fold probabilities of labeled samples: each predicted by a head that did not see it.

What a model says about its own training labels is no evidence that they are right, so label
checks (``labeler.selection.label_issues``) read these instead. The folds are those the
learner choice cross-validates with (``make_folds``): stratified, ``k = min(5, fewest labels
of a class)``, seeded. A linear head is fitted per fold, so the cost is k head fits, well
under a second at any budget.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.model_selection import StratifiedKFold

from labeler.learning.linear_head import fit_linear_head

MAX_FOLDS = 5

Folds = list[tuple[NDArray[np.int64], NDArray[np.int64]]]


def make_folds(labels: NDArray[np.int64], *, n_classes: int, seed: int) -> Folds | None:
    """Stratified ``(train rows, test rows)`` pairs, ``k = min(MAX_FOLDS, fewest labels of a
    labeled class)``; None when some labeled class has a single label (no fold could test
    it)."""
    present = np.bincount(labels, minlength=n_classes)
    n_folds = min(MAX_FOLDS, int(present[present > 0].min()))
    if n_folds < 2:
        return None
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    return [
        (train.astype(np.int64), test.astype(np.int64))
        for train, test in splitter.split(np.zeros(labels.shape[0]), labels)
    ]


def get_out_of_fold_probs(
    vectors: Any, labels: NDArray[np.int64], *, n_classes: int, seed: int
) -> tuple[NDArray[np.float32], int] | None:
    """``(probs, k)``: float32 ``[n_labels, n_classes]``, each labeled row's probabilities
    from a linear head fitted on the other folds of ``vectors`` (``[n_labels, dim]``), and
    the number of folds; None when ``make_folds`` has none."""
    folds = make_folds(labels, n_classes=n_classes, seed=seed)
    if folds is None:
        return None
    rows = np.asarray(vectors)
    probs = np.empty((labels.shape[0], n_classes), dtype=np.float32)
    for train, test in folds:
        head = fit_linear_head(rows[train], labels[train], n_classes=n_classes)
        probs[test] = head.predict_proba(rows[test])
    return probs, len(folds)
