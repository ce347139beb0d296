"""A linear classifier on an embedding: the learner that trains in well under a second.

``fit_linear_head(vectors, labels, n_classes=...)`` fits a multinomial logistic regression
(scikit-learn, L2 penalty ``C = 1``, tolerance 1e-3) to embedding rows float32 ``[n, dim]``
and their labels.
The rows are centred and divided by one global scale (the root mean square of the centred
values), not standardised feature by feature: a PCA embedding keeps its leading directions
leading, and a pretrained one keeps the relative size of its features, while the penalty sees
values of order one whatever the embedding's units. A class with no label gets probability 0
(logistic regression cannot predict a class it never saw).

A fitted head is a few arrays (``to_arrays``/``from_arrays``), saved beside a round's files
as ``head.npz`` instead of a network checkpoint: no pickle is ever read back.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression

from labeler.learning.training import check_labels

# Inverse strength of the L2 penalty on the scaled rows; scikit-learn's default.
PENALTY_C = 1.0
_MAX_ITERATIONS = 500
# Looser than scikit-learn's 1e-4: a third of the iterations on 1,280 pretrained features, for
# a test accuracy within half a point (26-class font glyphs); cross-validation fits many heads.
_TOLERANCE = 1e-3


@dataclass(frozen=True, eq=False)
class LinearHead:
    """``probabilities = softmax(((x - mean) / scale) @ weights.T + bias)`` over ``classes``
    (the labeled classes, int64 ``[k]``), spread into ``n_classes`` columns."""

    mean: NDArray[np.float64]
    scale: float
    weights: NDArray[np.float64]
    bias: NDArray[np.float64]
    classes: NDArray[np.int64]
    n_classes: int

    def predict_proba(self, vectors: Any) -> NDArray[np.float32]:
        """Probabilities float32 ``[n, n_classes]`` of embedding rows ``[n, dim]``."""
        rows = (np.asarray(vectors, dtype=np.float64) - self.mean) / self.scale
        probs = np.zeros((rows.shape[0], self.n_classes), dtype=np.float64)
        logits = rows @ self.weights.T + self.bias
        if self.classes.shape[0] == 2:  # scikit-learn keeps one row for two classes
            logits = np.concatenate([np.zeros_like(logits), logits], axis=1)
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        probs[:, self.classes] = exp / exp.sum(axis=1, keepdims=True)
        return probs.astype(np.float32)

    def predict(self, vectors: Any) -> NDArray[np.int64]:
        """The most probable class of each row, int64 ``[n]``."""
        return self.predict_proba(vectors).argmax(axis=1).astype(np.int64)

    def to_arrays(self) -> dict[str, NDArray[Any]]:
        """The head as named arrays (for ``np.savez``)."""
        return {
            "mean": self.mean,
            "scale": np.array(self.scale),
            "weights": self.weights,
            "bias": self.bias,
            "classes": self.classes,
            "n_classes": np.array(self.n_classes),
        }

    def save(self, path: Path) -> None:
        """Write the head to ``path`` (``.npz``, no pickle)."""
        arrays: dict[str, Any] = self.to_arrays()
        np.savez(path, **arrays)

    @classmethod
    def load(cls, path: Path) -> LinearHead:
        """The head ``save`` wrote to ``path``."""
        with np.load(path, allow_pickle=False) as arrays:
            return cls.from_arrays(arrays)

    @classmethod
    def from_arrays(cls, arrays: Any) -> LinearHead:
        """The head that ``to_arrays`` described (a mapping of arrays, e.g. ``np.load``'s)."""
        return cls(
            mean=np.asarray(arrays["mean"], dtype=np.float64),
            scale=float(arrays["scale"]),
            weights=np.asarray(arrays["weights"], dtype=np.float64),
            bias=np.asarray(arrays["bias"], dtype=np.float64),
            classes=np.asarray(arrays["classes"], dtype=np.int64),
            n_classes=int(arrays["n_classes"]),
        )


def fit_linear_head(vectors: Any, labels: Any, *, n_classes: int) -> LinearHead:
    """Fit a ``LinearHead`` to embedding rows float ``[n, dim]`` with ``labels`` int ``[n]``
    (values in ``0 .. n_classes - 1``, at least two classes). Deterministic for given inputs.
    Raises ValueError on mismatched shapes, labels out of range or a single class."""
    rows = np.asarray(vectors, dtype=np.float64)
    labels = np.asarray(labels)
    if rows.ndim != 2 or rows.shape[0] != labels.shape[0] or rows.shape[0] == 0:
        raise ValueError(
            f"expected embedding rows [n, dim] with one label each (n >= 1), got rows "
            f"{rows.shape} and {labels.shape[0]} labels"
        )
    check_labels(labels, n_classes=n_classes, min_per_class=0)  # two classes at least
    mean = rows.mean(axis=0)
    centred = rows - mean
    scale = float(np.sqrt(np.mean(centred**2)))
    scale = scale if scale > 0 else 1.0
    model = LogisticRegression(C=PENALTY_C, max_iter=_MAX_ITERATIONS, tol=_TOLERANCE)
    with warnings.catch_warnings():
        # One label per class looks to scikit-learn like a regression target; it is not.
        warnings.filterwarnings("ignore", message="The number of unique classes")
        model.fit(centred / scale, labels)
    return LinearHead(
        mean=mean,
        scale=scale,
        weights=np.asarray(model.coef_, dtype=np.float64),
        bias=np.asarray(model.intercept_, dtype=np.float64),
        classes=np.asarray(model.classes_, dtype=np.int64),
        n_classes=n_classes,
    )
