"""Pool scoring spread over an engine's workers: each worker loads the model from its
checkpoint and memory-maps the packed images once, then scores shards of rows.

Workers get paths and row numbers, never the image array (an array sent to a Ray task is
copied by value). Shards are whole batches of the single-process stream, and the MC-dropout
masks are seeded per batch, so the predictions equal ``score_pool``'s on one process with the
same thread count, in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labeler.engines.base import Engine
from labeler.learning.checkpoints import load_checkpoint
from labeler.learning.models import Classifier
from labeler.learning.scoring import CPU_BATCH_SIZE, PoolPredictions, score_pool

# Batches per shard: enough work per call that the round trip is small beside it.
BATCHES_PER_SHARD = 32


@dataclass(frozen=True)
class ScoringJob:
    """What every worker needs: the model's checkpoint, the packed images ``[n, H, W]`` (a
    ``.npy`` file), and how to score."""

    checkpoint: Path
    images: Path
    n_draws: int = 1
    seed: int = 0
    batch_size: int = CPU_BATCH_SIZE
    n_threads: int | None = None


@dataclass
class _WorkerState:
    model: Classifier
    images: NDArray[np.uint8]
    job: ScoringJob
    n_threads: int | None


def score_pool_on_engine(
    engine: Engine, job: ScoringJob, indices: NDArray[np.int64], *, progress: bool = False
) -> PoolPredictions:
    """Predictions for rows ``indices`` of ``job.images``, as ``score_pool`` gives them."""
    rows = np.asarray(indices, dtype=np.int64)
    shard_size = BATCHES_PER_SHARD * job.batch_size
    shards = [(start // job.batch_size, rows[start : start + shard_size])
              for start in range(0, len(rows), shard_size)]  # fmt: skip
    parts = list(engine.map_with_actors(_load_worker_state, _score_shard, shards, init=job))
    if not parts:
        model, _ = load_checkpoint(job.checkpoint)
        return PoolPredictions(
            np.empty((0, model.n_classes, job.n_draws), np.float32),
            np.empty((0, model.n_features), np.float32),
            0.0,
        )
    return PoolPredictions(
        probs=np.concatenate([part.probs for part in parts]),
        features=np.concatenate([part.features for part in parts]),
        seconds=sum(part.seconds for part in parts),
    )


def _load_worker_state(job: ScoringJob, n_cpus: int | None) -> _WorkerState:
    model, _ = load_checkpoint(job.checkpoint)
    images: NDArray[np.uint8] = np.load(job.images, mmap_mode="r")
    return _WorkerState(model, images, job, n_cpus if n_cpus is not None else job.n_threads)


def _score_shard(state: _WorkerState, shard: tuple[int, NDArray[np.int64]]) -> Any:
    first_batch, rows = shard
    return score_pool(
        state.model,
        state.images,
        indices=rows,
        n_draws=state.job.n_draws,
        batch_size=state.job.batch_size,
        device="cpu",
        seed=state.job.seed,
        first_batch=first_batch,
        n_threads=state.n_threads,
        progress=False,
    )
