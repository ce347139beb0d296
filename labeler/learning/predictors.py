"""Predictors: what scores a project's images in a round, whatever the learner is.

A round decides once what scores the pool (the trained network on the images, its head on a
frozen backbone's cached features, a linear head on an embedding, a trimmed network, or the
network on an engine's workers),
builds that ``Predictor`` and hands it to the query (``labeler.selection.pool_query``). A new
learner only has to add a predictor.

Every predictor reads rows of the project's images by sample id (row = id) and answers with
``PoolPredictions``: probabilities float32 ``[n, n_classes, n_draws]`` and features float32
``[n, n_features]``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray
from torch import nn

from labeler.engines.base import Engine
from labeler.learning.linear_head import LinearHead
from labeler.learning.models import Classifier
from labeler.learning.scoring import PoolPredictions, score_features, score_pool
from labeler.learning.sharded_scoring import ScoringJob, score_pool_on_engine
from labeler.learning.training import evaluate_accuracy

Ids = NDArray[np.int64]


class Predictor(Protocol):
    """Predictions for rows of a project's images, by sample id."""

    def predict(
        self, ids: Ids, *, n_draws: int = 1, seed: int = 0, progress: bool = False
    ) -> PoolPredictions:
        """Probabilities ``[len(ids), n_classes, n_draws]`` (MC-dropout draws seeded by
        ``seed``, batch by batch) and features ``[len(ids), n_features]``."""
        ...

    def get_features(self, ids: Ids) -> NDArray[np.float32]:
        """Penultimate features float32 ``[len(ids), n_features]`` (for batch diversity)."""
        ...

    def get_accuracy(self, ids: Ids, labels: Ids) -> float:
        """Share of rows ``ids`` whose predicted class is ``labels`` (int ``[len(ids)]``)."""
        ...


@dataclass(frozen=True, eq=False)
class ImagePredictor:
    """A network scoring the images themselves: ``images`` uint8 ``[n, H, W(, 3)]`` (the
    project's packed array, memory-mapped: only the rows asked for are read)."""

    model: Classifier
    images: NDArray[np.uint8]
    device: str = "auto"
    n_threads: int | None = None

    def predict(
        self, ids: Ids, *, n_draws: int = 1, seed: int = 0, progress: bool = False
    ) -> PoolPredictions:
        return score_pool(
            self.model,
            self.images,
            indices=ids,
            n_draws=n_draws,
            device=self.device,
            seed=seed,
            n_threads=self.n_threads,
            progress=progress,
        )

    def get_features(self, ids: Ids) -> NDArray[np.float32]:
        return score_pool(
            self.model,
            self.images,
            indices=ids,
            device=self.device,
            n_threads=self.n_threads,
            progress=False,
        ).features

    def get_accuracy(self, ids: Ids, labels: Ids) -> float:
        rows = np.asarray(self.images[ids])
        return float(evaluate_accuracy(self.model, rows, labels, device=self.device))


@dataclass(frozen=True, eq=False)
class FeaturePredictor:
    """A classifier's head scoring features computed before: ``features`` float32
    ``[n, n_features]``, the penultimate features of every image (a frozen backbone's cached
    ones, ``labeler.learning.feature_cache``). Runs on the CPU; gives ``ImagePredictor``'s
    predictions of the images the features came from."""

    head: nn.Module
    features: NDArray[np.float32]

    def predict(
        self, ids: Ids, *, n_draws: int = 1, seed: int = 0, progress: bool = False
    ) -> PoolPredictions:
        return score_features(self.head, self.features, indices=ids, n_draws=n_draws, seed=seed)

    def get_features(self, ids: Ids) -> NDArray[np.float32]:
        return np.array(self.features[ids], dtype=np.float32)

    def get_accuracy(self, ids: Ids, labels: Ids) -> float:
        probs = self.predict(ids).probs[:, :, 0]
        return float(np.mean(probs.argmax(axis=1) == labels))


@dataclass(frozen=True, eq=False)
class HeadPredictor:
    """A linear head on an embedding of every sample (``labeler.learning.linear_head``):
    ``vectors`` float32 ``[n, dim]``, row = sample id. Its features are the embedding rows
    themselves; it has no dropout, so every draw is the same."""

    head: LinearHead
    vectors: NDArray[np.float32]

    def predict(
        self, ids: Ids, *, n_draws: int = 1, seed: int = 0, progress: bool = False
    ) -> PoolPredictions:
        started = time.perf_counter()
        rows = np.asarray(self.vectors[ids], dtype=np.float32)
        probs = self.head.predict_proba(rows)
        return PoolPredictions(
            np.repeat(probs[:, :, None], max(1, n_draws), axis=2),
            rows,
            time.perf_counter() - started,
        )

    def get_features(self, ids: Ids) -> NDArray[np.float32]:
        return np.array(self.vectors[ids], dtype=np.float32)

    def get_accuracy(self, ids: Ids, labels: Ids) -> float:
        return float(np.mean(self.head.predict(self.vectors[ids]) == labels))


@dataclass(frozen=True, eq=False)
class ShardedPredictor:
    """A network scoring on an engine's workers (Ray actors), each loading ``checkpoint`` and
    memory-mapping ``images_path`` once; the same predictions as ``local`` (the same network
    on this process) given the same thread count. Features and accuracy, needed for few rows,
    are computed by ``local``."""

    engine: Engine
    checkpoint: Path
    images_path: Path
    local: ImagePredictor = field(repr=False)

    def predict(
        self, ids: Ids, *, n_draws: int = 1, seed: int = 0, progress: bool = False
    ) -> PoolPredictions:
        job = ScoringJob(
            self.checkpoint,
            self.images_path,
            n_draws=n_draws,
            seed=seed,
            n_threads=self.local.n_threads,
        )
        return score_pool_on_engine(self.engine, job, ids)

    def get_features(self, ids: Ids) -> NDArray[np.float32]:
        return self.local.get_features(ids)

    def get_accuracy(self, ids: Ids, labels: Ids) -> float:
        return self.local.get_accuracy(ids, labels)
