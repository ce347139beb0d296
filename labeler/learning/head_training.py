"""Training a classifier's head alone, on precomputed features (a frozen backbone's).

``train_head`` takes the penultimate features of the labeled images, float32 ``[n,
n_features]``, and trains the model's ``head`` (``Dropout`` + ``Linear``) on them with the
schedule ``train_model`` uses (``labeler.learning.training``): the same stratified validation
split when labels allow it (none with few labels), planned steps, AdamW with a one-cycle
learning rate, class weights, early stopping and restoring the best weights. No image passes
through the backbone, so a round on a frozen backbone trains in a second. Runs on the CPU (a
linear layer gains nothing from a GPU); all randomness comes from ``train_config.seed`` and
torch's global random state is left as it was.
"""

from __future__ import annotations

import logging
import math
import time
from copy import deepcopy
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray
from torch import nn

from labeler.learning.models import Classifier
from labeler.learning.training import (
    BestWeights,
    EpochRecord,
    TrainConfig,
    TrainResult,
    check_labels,
    cpu_threads,
    get_class_weights,
    plan_steps,
    plan_validation,
    split_validation,
)

logger = logging.getLogger(__name__)


def train_head(
    model: Classifier,
    features: NDArray[np.float32],
    labels: NDArray[np.integer[Any]],
    *,
    train_config: TrainConfig | None = None,
) -> TrainResult:
    """Train ``model``'s head on ``features`` float32 ``[n, model.n_features]`` (the model's own
    ``features`` of the labeled images) with ``labels`` int ``[n]``.

    Returns a ``TrainResult`` whose model is a copy of ``model`` with the trained head (eval
    mode, on the CPU); ``model`` is left as it was. Raises ValueError on bad shapes or too few
    labels, as ``train_model`` does.
    """
    config = train_config or TrainConfig()
    features = np.asarray(features, dtype=np.float32)
    labels = np.asarray(labels)
    if features.shape != (len(labels), model.n_features):
        raise ValueError(
            f"expected features [{len(labels)}, {model.n_features}] (one row per label), got "
            f"{features.shape}"
        )
    counts = check_labels(
        labels, n_classes=model.n_classes, min_per_class=config.min_labels_per_class
    )
    with cpu_threads(config.n_threads):
        return _train_head(model, features, labels, counts, config=config)


def _train_head(
    model: Classifier,
    features: NDArray[np.float32],
    labels: NDArray[np.integer[Any]],
    counts: NDArray[np.int64],
    *,
    config: TrainConfig,
) -> TrainResult:
    started = time.perf_counter()
    validation, val_fraction = plan_validation(counts, config)
    train_ids, val_ids = split_validation(labels, val_fraction=val_fraction, seed=config.seed)
    inputs = torch.from_numpy(features)
    targets = torch.from_numpy(labels.astype(np.int64))
    train_x, train_y = inputs[train_ids], targets[train_ids]
    val_x, val_y = inputs[val_ids], targets[val_ids]
    n_train = len(train_ids)
    train_counts = np.bincount(labels[train_ids], minlength=model.n_classes).astype(np.int64)
    weights = get_class_weights(train_counts, weighting=config.class_weighting)
    weight_tensor = None if weights is None else torch.tensor(weights, dtype=torch.float32)

    batch_size = min(config.batch_size, n_train)
    # No batch norm in a head: a last, smaller batch is harmless, so every row is used.
    steps_per_epoch = math.ceil(n_train / batch_size)
    n_planned, n_epochs_planned = plan_steps(config, steps_per_epoch)
    logger.info(
        "training the head of %s on %d feature rows (%d validation), %s, up to %d steps",
        model.config.name,
        n_train,
        len(val_ids),
        dict(enumerate(counts.tolist())),
        n_planned,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        head = deepcopy(model.head).cpu()
        optimizer = torch.optim.AdamW(
            head.parameters(), lr=config.lr, weight_decay=config.weight_decay
        )
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=config.lr, total_steps=n_planned, pct_start=0.15
        )
        generator = torch.Generator().manual_seed(config.seed)
        history: list[EpochRecord] = []
        best = BestWeights(config)
        step = 0
        for epoch in range(1, n_epochs_planned + 1):
            head.train()
            loss_sum, n_seen = 0.0, 0
            order = torch.randperm(n_train, generator=generator)
            for start in range(0, n_train, batch_size):
                if step >= n_planned:
                    break
                batch = order[start : start + batch_size]
                loss = F.cross_entropy(head(train_x[batch]), train_y[batch], weight=weight_tensor)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                scheduler.step()
                step += 1
                loss_sum += float(loss.detach()) * len(batch)
                n_seen += len(batch)
            val_loss, val_accuracy = _evaluate(head, val_x, val_y)
            history.append(
                EpochRecord(
                    epoch=epoch,
                    step=step,
                    train_loss=loss_sum / max(n_seen, 1),
                    val_loss=val_loss,
                    val_accuracy=val_accuracy,
                    seconds=time.perf_counter() - started,
                )
            )
            if len(val_ids) and best.should_stop(head, history[-1]):
                break
            if step >= n_planned:
                break
    best.restore(head)
    head.eval()
    final_accuracy = _evaluate(head, val_x, val_y)[1]
    trained = deepcopy(model).cpu()
    trained.head = head
    trained.eval()
    seconds = time.perf_counter() - started
    logger.info(
        "trained the head %d steps in %.2f s; validation accuracy %.3f",
        step,
        seconds,
        final_accuracy,
    )
    return TrainResult(
        model=trained,
        val_accuracy=final_accuracy,
        history=history,
        n_epochs=len(history),
        n_steps=step,
        seconds=seconds,
        config=config,
        model_config=model.config,
        n_train=n_train,
        n_val=len(val_ids),
        device="cpu",
        class_weights=None if weights is None else weights.tolist(),
        validation=validation.format(n_steps=step),
    )


@torch.no_grad()
def _evaluate(head: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of ``head`` on ``x, y``; NaNs when empty. Restores train
    mode."""
    if len(x) == 0:
        return float("nan"), float("nan")
    was_training = head.training
    head.eval()
    logits = head(x)
    loss = float(F.cross_entropy(logits, y))
    accuracy = float((logits.argmax(dim=1) == y).float().mean())
    head.train(was_training)
    return loss, accuracy
