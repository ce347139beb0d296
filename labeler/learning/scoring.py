"""Pool scoring: class probabilities and features of many images, streamed in batches.

``score_pool`` reads uint8 images ``[n, H, W]`` (a memory-mapped packed array is fine: only one
batch is in memory at a time), and returns ``PoolPredictions``: ``probs`` float32
``[n, n_classes, n_draws]`` (the shape every acquisition function takes) and ``features`` float32
``[n, n_features]`` (the model's penultimate layer, for diverse batch selection).

With ``n_draws > 1`` the features are computed once per batch and the dropout head alone is run
``n_draws`` times in train mode (last-layer MC dropout); with ``n_draws == 1`` the head is
deterministic (eval mode). Batch norm always uses its running statistics.
"""

from __future__ import annotations

import contextlib
import logging
import time
from copy import deepcopy
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn
from tqdm import tqdm

from generators.checks import check_int, check_optional_int
from labeler.data.image_arrays import get_channels
from labeler.learning.devices import cpu_threads, resolve_device
from labeler.learning.models import (
    Classifier,
    check_input_channels,
    make_inference_copy,
    make_model_input,
)

logger = logging.getLogger(__name__)

# Images per batch. On CPU, batches whose activations fit in the cache run fastest (measured
# with bench/scoring.py: 128 beat 512 by 1.5-2x on a 2-core machine); a GPU wants large ones.
CPU_BATCH_SIZE = 128
CUDA_BATCH_SIZE = 1024


@dataclass(frozen=True)
class PoolPredictions:
    """``probs`` float32 ``[n, n_classes, n_draws]`` (softmax outputs, each draw summing to 1),
    ``features`` float32 ``[n, n_features]``, ``seconds`` of wall time."""

    probs: NDArray[np.float32]
    features: NDArray[np.float32]
    seconds: float = 0.0

    @property
    def n_samples(self) -> int:
        return int(self.probs.shape[0])

    @property
    def images_per_second(self) -> float:
        return self.n_samples / self.seconds if self.seconds > 0 else float("inf")


def score_pool(
    model: Classifier,
    images: NDArray[np.uint8],
    *,
    indices: NDArray[np.integer[Any]] | None = None,
    n_draws: int = 1,
    batch_size: int | None = None,
    device: str | torch.device = "auto",
    seed: int = 0,
    first_batch: int = 0,
    n_threads: int | None = None,
    progress: bool = True,
) -> PoolPredictions:
    """Score ``images`` uint8 ``[n, H, W]`` or ``[n, H, W, 3]`` (white 255) with ``model``.

    ``indices`` (optional, ``[m]``): score only these rows, in this order (e.g. a random subset
    of a huge memory-mapped pool); rows are read in sorted runs so a memory map reads each page
    once. Images are resized to the model's input size batch by batch. ``batch_size``: images
    per batch (None: ``CPU_BATCH_SIZE`` or ``CUDA_BATCH_SIZE``). ``seed`` drives the dropout
    masks of the MC draws, batch by batch: batch ``b`` (counted from ``first_batch``, for a
    shard of a longer stream) draws from ``(seed, b)``, so shards scored apart get the masks of
    one stream. torch's global random state is left as it was. ``n_threads``: torch
    CPU threads (None: every core; restored afterwards). ``model`` is put in eval mode and
    otherwise left as it is (a copy with batch norms folded into the convs runs on ``device``).
    """
    images = np.asarray(images) if not isinstance(images, np.ndarray) else images
    check_input_channels(model.config, get_channels(images))
    n_draws = check_int("n_draws", n_draws, low=1)
    batch_size = check_optional_int("batch_size", batch_size, low=1)
    rows: NDArray[np.int64] | None = None
    if indices is not None:
        rows = np.asarray(indices)
        if rows.ndim != 1 or (rows.size and not np.issubdtype(rows.dtype, np.integer)):
            raise ValueError(f"indices must be a 1-d integer array, got {rows.dtype} {rows.shape}")
        rows = rows.astype(np.int64)
        if rows.size and (rows.min() < 0 or rows.max() >= len(images)):
            raise ValueError(f"indices must lie in 0..{len(images) - 1}")
    n = len(images) if rows is None else len(rows)
    dropout = float(model.config.dropout)
    if n_draws > 1 and dropout == 0.0:
        logger.warning("n_draws=%d with dropout 0: every draw will be the same", n_draws)

    torch_device = resolve_device(device)
    if batch_size is None:
        batch_size = CUDA_BATCH_SIZE if torch_device.type == "cuda" else CPU_BATCH_SIZE
    model.eval()
    # Scored with a copy whose batch norms are folded into the convs; the caller's model stays.
    scorer = make_inference_copy(model).to(torch_device).to(memory_format=torch.channels_last)
    probs = np.empty((n, model.n_classes, n_draws), dtype=np.float32)
    features = np.empty((n, model.n_features), dtype=np.float32)
    started = time.perf_counter()
    devices = [torch_device.index or 0] if torch_device.type == "cuda" else []
    bar = tqdm(total=n, desc="scoring", unit="img", disable=not progress, leave=False)
    try:
        with (
            cpu_threads(n_threads) if torch_device.type == "cpu" else contextlib.nullcontext(),
            torch.random.fork_rng(devices=devices),
            torch.inference_mode(),
        ):
            for start in range(0, n, batch_size):
                torch.manual_seed(_get_batch_seed(seed, first_batch + start // batch_size))
                stop = min(start + batch_size, n)
                pixels = torch.from_numpy(_read_rows(images, rows, start, stop))
                x = make_model_input(
                    pixels, image_size=scorer.config.image_size, device=torch_device
                )
                with torch.autocast(
                    device_type=torch_device.type,
                    dtype=torch.bfloat16,
                    enabled=torch_device.type == "cuda",
                ):
                    batch_features = scorer.features(x)
                batch_features = batch_features.float()
                features[start:stop] = batch_features.cpu().numpy()
                probs[start:stop] = _get_head_probs(scorer.head, batch_features, n_draws)
                bar.update(stop - start)
    finally:
        bar.close()
    seconds = time.perf_counter() - started
    logger.info("scored %d images in %.1f s (%.0f img/s)", n, seconds, n / max(seconds, 1e-9))
    return PoolPredictions(probs=probs, features=features, seconds=seconds)


def score_features(
    head: nn.Module,
    features: NDArray[np.float32],
    *,
    indices: NDArray[np.integer[Any]] | None = None,
    n_draws: int = 1,
    batch_size: int = CPU_BATCH_SIZE,
    seed: int = 0,
) -> PoolPredictions:
    """Score precomputed penultimate ``features`` float32 ``[n, n_features]`` (e.g. a frozen
    backbone's cached ones) with a classifier's ``head``, on the CPU.

    ``indices``, ``n_draws`` and ``seed`` mean what they mean for ``score_pool``; with the same
    ``batch_size`` the dropout masks are the ones ``score_pool`` draws, so scoring features
    gives ``score_pool``'s predictions (on a CPU) of the images they came from. ``head`` itself
    is left as it is (a copy scores). The features returned are the rows scored, in order.
    """
    n_draws = check_int("n_draws", n_draws, low=1)
    rows = np.arange(len(features)) if indices is None else np.asarray(indices, dtype=np.int64)
    started = time.perf_counter()
    scored = np.array(features[rows], dtype=np.float32)
    head = deepcopy(head).cpu().eval()  # the caller's head stays where it is
    batches = []
    with torch.random.fork_rng(devices=[]), torch.inference_mode():
        for start in range(0, len(scored), batch_size):
            torch.manual_seed(_get_batch_seed(seed, start // batch_size))
            batch = torch.from_numpy(scored[start : start + batch_size])
            batches.append(_get_head_probs(head, batch, n_draws))
    n_classes = batches[0].shape[1] if batches else 0
    probs = np.concatenate(batches) if batches else np.empty((0, n_classes, n_draws), np.float32)
    return PoolPredictions(probs=probs, features=scored, seconds=time.perf_counter() - started)


def _get_head_probs(head: nn.Module, features: torch.Tensor, n_draws: int) -> NDArray[np.float32]:
    """Softmax outputs ``[n, n_classes, n_draws]`` of ``head`` (in eval mode) on ``features``
    ``[n, n_features]``: deterministic for one draw, else with dropout on (MC dropout)."""
    if n_draws == 1:
        logits = head(features)
        result: NDArray[np.float32] = torch.softmax(logits, dim=1)[:, :, None].cpu().numpy()
        return result
    head.train()
    try:
        # One stacked pass: draw d of image i uses its own dropout mask.
        stacked = features.unsqueeze(0).expand(n_draws, -1, -1)
        logits = head(stacked.reshape(-1, features.shape[1]))
    finally:
        head.eval()
    draws = torch.softmax(logits, dim=1).reshape(n_draws, len(features), -1)
    result = draws.permute(1, 2, 0).cpu().numpy()
    return result


def _get_batch_seed(seed: int, batch: int) -> int:
    # Distinct, well-mixed seeds for every (seed, batch); torch seeds are 64-bit.
    return int(np.random.SeedSequence([seed, batch]).generate_state(1, dtype=np.uint64)[0])


def _read_rows(
    images: NDArray[np.uint8], rows: NDArray[np.int64] | None, start: int, stop: int
) -> NDArray[np.uint8]:
    """Rows ``start:stop`` of ``images`` (or of ``images[rows]``) as a contiguous array."""
    if rows is None:
        return np.array(images[start:stop])  # a copy: memory maps are read-only
    wanted = rows[start:stop]
    order = np.argsort(wanted, kind="stable")
    batch = np.empty((len(wanted), *images.shape[1:]), dtype=np.uint8)
    batch[order] = images[wanted[order]]
    return batch
