"""The training loop that ``train_model`` and the frozen-backbone head trainer share: ``fit``.

``fit`` trains a fresh model (or only its head, on precomputed features) on inputs that are
already tensors:

- **Validation.** When every class has at least ``min_val_per_class`` labels, a stratified
  ``val_fraction`` of them is held out; after ``min_steps`` training stops early when the
  validation accuracy has not improved for ``patience`` epochs, and the best weights (by
  validation accuracy, then loss) are restored. With fewer labels (the cold start of guided
  labeling) nothing is held out: a split of a handful of labels costs the model a large share of
  what it could learn from and is too small to choose an epoch by; every label is trained on for
  the planned steps (``TrainResult.validation`` says which was done);
- for ``n_steps`` optimizer steps = at least ``min_steps`` and at least ``max_epochs`` epochs'
  worth, whichever is more (few labels get more epochs, so that every round gets enough updates),
  capped by ``max_steps``;
- AdamW with a one-cycle learning-rate schedule over the planned steps;
- class-weighted cross-entropy when the labels are imbalanced (``class_weighting="auto"``);
- optionally augmentation of each batch (``labeler.learning.tensor_augmentation``); bfloat16
  autocast on CUDA.

All randomness (weights, shuffling, dropout, augmentation) comes from ``config.seed``; torch's
global random state is left as it was.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray
from torch import nn
from tqdm import tqdm

from labeler.learning.devices import autocast
from labeler.learning.models import Classifier, ModelConfig
from labeler.learning.tensor_augmentation import augment_batch
from labeler.learning.train_config import CLASS_WEIGHTINGS, IMBALANCE_RATIO, TrainConfig


@dataclass(frozen=True)
class EpochRecord:
    """One epoch of training: its last step, mean training loss, validation loss and accuracy
    (NaN without a validation split), and seconds since training started."""

    epoch: int
    step: int
    train_loss: float
    val_loss: float
    val_accuracy: float
    seconds: float


@dataclass(frozen=True)
class TrainResult:
    """A trained model (eval mode, on ``device``, best weights restored) and how it went.

    ``val_accuracy``: of the restored weights on the validation split (NaN without one);
    ``history``: one record per epoch; ``n_epochs``/``n_steps``: run before stopping;
    ``seconds``: wall time; ``images_per_second``: training images processed per second;
    ``validation``: one sentence saying how validation was done (or why it was not);
    ``start``: how its weights started, when a warm start was asked for
    (``labeler.learning.warm_start``; empty otherwise).
    """

    model: Classifier
    val_accuracy: float
    history: list[EpochRecord]
    n_epochs: int
    n_steps: int
    seconds: float
    config: TrainConfig
    model_config: ModelConfig
    n_train: int
    n_val: int
    device: str
    class_weights: list[float] | None = field(default=None)
    validation: str = ""
    start: str = ""

    @property
    def images_per_second(self) -> float:
        return self.n_steps * min(self.config.batch_size, self.n_train) / max(self.seconds, 1e-9)


EpochCallback = Callable[[EpochRecord, Classifier], bool]


def fit(
    make_model: Callable[[], Classifier],
    inputs: torch.Tensor,
    labels: NDArray[np.integer[Any]],
    counts: NDArray[np.int64],
    *,
    config: TrainConfig,
    device: torch.device,
    logger: logging.Logger,
    head_only: bool = False,
    augment: tuple[str, ...] = (),
    drop_small_last_batch: bool = True,
    eval_batch_size: int | None = 512,
    loss_sum_dtype: torch.dtype = torch.float32,
    progress: bool = False,
    on_epoch: EpochCallback | None = None,
) -> TrainResult:
    """Train the model that ``make_model()`` returns (called once, under the seeded random
    state, so that a fresh model's weights come from ``config.seed``; it must be on ``device``)
    on ``inputs`` ``[n, ...]`` on ``device`` with ``labels`` int ``[n]`` whose counts per class
    ``[n_classes]`` are ``counts`` (``check_labels``). See the module docstring for the schedule.

    ``head_only``: ``inputs`` are the model's features ``[n, n_features]`` and only
    ``model.head`` is trained (else ``inputs`` are model input and the whole model is trained).
    ``augment``: transforms of ``AUGMENTATIONS`` applied to each batch of model input.
    ``drop_small_last_batch``: drop an epoch's last batch when smaller than half a batch (a batch
    of 1 would break batch norm), unless it is the only one; else every row is used.
    ``eval_batch_size``: validation in batches of this many rows (losses and hits summed);
    None: in one pass, with torch's means (the head trainer's figures, bit for bit).
    ``loss_sum_dtype``: dtype of the epoch's training-loss sum, kept on ``device`` (float32:
    no wait for the GPU each step; the head trainer sums in float64).
    ``logger``: the caller's, so that messages keep its name.
    ``on_epoch(record, model)``: called after every epoch (the model may be switched to eval
    mode and back); returning True stops training there, as early stopping would.
    """
    started = time.perf_counter()
    validation, val_fraction = plan_validation(counts, config)
    train_ids, val_ids = split_validation(labels, val_fraction=val_fraction, seed=config.seed)
    targets = torch.from_numpy(labels.astype(np.int64)).to(device)
    train_index = torch.from_numpy(train_ids).to(device)
    val_index = torch.from_numpy(val_ids).to(device)
    train_x, train_y = inputs[train_index], targets[train_index]
    val_x, val_y = inputs[val_index], targets[val_index]
    n_train = len(train_ids)
    train_counts = np.bincount(labels[train_ids], minlength=len(counts)).astype(np.int64)
    weights = get_class_weights(train_counts, weighting=config.class_weighting)
    weight_tensor = (
        torch.tensor(weights, dtype=torch.float32, device=device) if weights is not None else None
    )

    batch_size = min(config.batch_size, n_train)
    steps_per_epoch = _count_batches(n_train, batch_size, drop_small_last=drop_small_last_batch)
    n_planned, n_epochs_planned = plan_steps(config, steps_per_epoch)

    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(config.seed)
        model = make_model()
        module: nn.Module = model.head if head_only else model
        logger.info(
            "training %s on %d %s (%d validation), %s, up to %d steps (%d epochs of %d)",
            f"the head of {model.config.name}" if head_only else model.config.name,
            n_train,
            "feature rows" if head_only else "images",
            len(val_ids),
            dict(enumerate(counts.tolist())),
            n_planned,
            n_epochs_planned,
            steps_per_epoch,
        )
        optimizer = torch.optim.AdamW(
            module.parameters(), lr=config.lr, weight_decay=config.weight_decay
        )
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=config.lr, total_steps=n_planned, pct_start=0.15
        )
        generator = torch.Generator(device="cpu").manual_seed(config.seed)
        history: list[EpochRecord] = []
        best = BestWeights(config)
        step = 0
        bar = tqdm(total=n_planned, desc="training", unit="step", disable=not progress, leave=False)
        try:
            for epoch in range(1, n_epochs_planned + 1):
                module.train()
                # Summed on the device: reading a CUDA loss each step would wait for the GPU.
                loss_sum = torch.zeros((), dtype=loss_sum_dtype, device=device)
                n_seen = 0
                for batch in _iterate_batches(
                    n_train, batch_size, generator, device, drop_small_last=drop_small_last_batch
                ):
                    if step >= n_planned:
                        break
                    x, y = train_x[batch], train_y[batch]
                    if augment:
                        x = augment_batch(x, augment, generator)
                    with autocast(device):
                        logits = module(x)
                    loss = F.cross_entropy(logits.float(), y, weight=weight_tensor)
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    scheduler.step()
                    step += 1
                    loss_sum += loss.detach().to(loss_sum_dtype) * len(batch)
                    n_seen += len(batch)
                    bar.update(1)
                val_loss, val_accuracy = _evaluate(module, val_x, val_y, batch_size=eval_batch_size)
                train_loss = float(loss_sum) / max(n_seen, 1)
                history.append(
                    EpochRecord(
                        epoch=epoch,
                        step=step,
                        train_loss=train_loss,
                        val_loss=val_loss,
                        val_accuracy=val_accuracy,
                        seconds=time.perf_counter() - started,
                    )
                )
                bar.set_postfix(loss=f"{train_loss:.3f}", val=f"{val_accuracy:.3f}")
                if on_epoch is not None and on_epoch(history[-1], model):
                    logger.info("stopped at epoch %d by the epoch callback", epoch)
                    break
                if len(val_ids) and best.should_stop(module, history[-1]):
                    logger.info("early stop at epoch %d (best %d)", epoch, best.best_epoch)
                    break
                if step >= n_planned:
                    break
        finally:
            bar.close()
    best.restore(module)
    model.eval()
    final_accuracy = _evaluate(module, val_x, val_y, batch_size=eval_batch_size)[1]
    return TrainResult(
        model=model,
        val_accuracy=final_accuracy,
        history=history,
        n_epochs=len(history),
        n_steps=step,
        seconds=time.perf_counter() - started,
        config=config,
        model_config=model.config,
        n_train=n_train,
        n_val=len(val_ids),
        device=str(device),
        class_weights=None if weights is None else weights.tolist(),
        validation=validation.format(n_steps=step),
    )


def split_validation(
    labels: NDArray[np.integer[Any]], *, val_fraction: float, seed: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Return ``(train_indices, val_indices)`` into ``labels``, stratified by class.

    Each class with ``n_c`` labels puts ``round(val_fraction * n_c)`` of them (at least 1 when
    ``val_fraction > 0``, and never all of them) in validation. Both index arrays are sorted.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train_parts, val_parts = [], []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        n_val = 0
        if val_fraction > 0 and len(members) > 1:
            n_val = min(max(1, round(val_fraction * len(members))), len(members) - 1)
        shuffled = rng.permutation(members)
        val_parts.append(shuffled[:n_val])
        train_parts.append(shuffled[n_val:])
    train = np.sort(np.concatenate(train_parts)).astype(np.int64)
    val = np.sort(np.concatenate(val_parts)).astype(np.int64)
    return train, val


def get_class_weights(counts: NDArray[np.int64], *, weighting: str) -> NDArray[np.float64] | None:
    """Cross-entropy weights ``[n_classes]`` (mean 1 over the present classes), or None.

    "balanced": ``n / (n_present_classes * count_c)``; "auto": balanced when the largest class
    has ``IMBALANCE_RATIO`` times the labels of the smallest present one, else None; "none": None.
    """
    if weighting not in CLASS_WEIGHTINGS:
        raise ValueError(
            f"unknown class weighting {weighting!r}; valid ones: {', '.join(CLASS_WEIGHTINGS)}"
        )
    present = counts > 0
    if weighting == "none":
        return None
    if weighting == "auto" and counts.max() < IMBALANCE_RATIO * counts[present].min():
        return None
    weights = np.zeros(len(counts), dtype=np.float64)
    weights[present] = counts[present].sum() / (present.sum() * counts[present])
    return weights


def plan_validation(counts: NDArray[np.int64], config: TrainConfig) -> tuple[str, float]:
    """``(description, val_fraction)``: hold out ``config.val_fraction`` when every class has
    ``min_val_per_class`` labels, else nothing (the description has an ``{n_steps}`` field)."""
    if config.val_fraction <= 0:
        return "none asked for (val_fraction 0): trained on every label for {n_steps} steps", 0.0
    smallest = int(counts[counts > 0].min())
    if smallest < config.min_val_per_class:
        return (
            f"none: the smallest class has {smallest} labels, fewer than the "
            f"{config.min_val_per_class} a validation split needs; trained on every label for "
            "{n_steps} steps",
            0.0,
        )
    return (
        f"held out {config.val_fraction:.0%} of each class; the best epoch by its accuracy kept, "
        "{n_steps} steps run",
        config.val_fraction,
    )


def plan_steps(config: TrainConfig, steps_per_epoch: int) -> tuple[int, int]:
    """``(steps, epochs)`` to plan: at least ``min_steps`` and ``max_epochs`` epochs' worth,
    whichever is more, capped by ``max_steps``; epochs = what those steps need."""
    n_planned = max(config.min_steps, config.max_epochs * steps_per_epoch)
    if config.max_steps is not None:
        n_planned = min(n_planned, config.max_steps)
    return n_planned, math.ceil(n_planned / steps_per_epoch)


class BestWeights:
    """Early stopping on a validation split: keeps the weights of the best epoch (by
    validation accuracy, then loss) and says when ``patience`` epochs brought nothing better
    after ``min_steps``."""

    def __init__(self, config: TrainConfig) -> None:
        self._config = config
        self._key = (-1.0, -math.inf)  # (val accuracy, -val loss): larger is better
        self.best_epoch = 0
        self._state: dict[str, torch.Tensor] | None = None

    def should_stop(self, module: nn.Module, record: EpochRecord) -> bool:
        """Record ``module``'s weights after the epoch of ``record`` if they are the best yet;
        True when training should stop here."""
        key = (record.val_accuracy, -record.val_loss)
        if key > self._key:
            self._key, self.best_epoch = key, record.epoch
            self._state = {
                name: value.detach().clone() for name, value in module.state_dict().items()
            }
            return False
        return (
            record.step >= self._config.min_steps
            and record.epoch - self.best_epoch >= self._config.patience
        )

    def restore(self, module: nn.Module) -> None:
        """Load the best weights recorded into ``module`` (nothing when none was)."""
        if self._state is not None:
            module.load_state_dict(self._state)


def _count_batches(n: int, batch_size: int, *, drop_small_last: bool) -> int:
    """How many batches ``_iterate_batches`` yields per epoch."""
    n_full, rest = divmod(n, batch_size)
    if not drop_small_last:
        return n_full + int(rest > 0)
    return n_full + int(rest > 0 and (n_full == 0 or rest >= max(2, batch_size // 2)))


def _iterate_batches(
    n: int,
    batch_size: int,
    generator: torch.Generator,
    device: torch.device,
    *,
    drop_small_last: bool,
) -> Iterator[torch.Tensor]:
    """Shuffled index batches over ``range(n)``; with ``drop_small_last``, a last batch smaller
    than half is dropped (a batch of 1 would break batch norm), unless it is the only one."""
    order = torch.randperm(n, generator=generator).to(device)
    for start in range(0, n, batch_size):
        batch = order[start : start + batch_size]
        if drop_small_last and start > 0 and len(batch) < max(2, batch_size // 2):
            return
        yield batch


@torch.no_grad()
def _evaluate(
    module: nn.Module, x: torch.Tensor, y: torch.Tensor, *, batch_size: int | None
) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) on ``x, y``, in batches of ``batch_size`` (None: one
    pass); NaNs when empty. Restores train mode."""
    if len(x) == 0:
        return float("nan"), float("nan")
    was_training = module.training
    module.eval()
    if batch_size is None:
        with autocast(x.device):
            logits = module(x).float()
        loss = float(F.cross_entropy(logits, y))
        accuracy = float((logits.argmax(dim=1) == y).float().mean())
    else:
        loss_sum, n_correct = 0.0, 0
        for start in range(0, len(x), batch_size):
            with autocast(x.device):
                logits = module(x[start : start + batch_size]).float()
            targets = y[start : start + batch_size]
            loss_sum += float(F.cross_entropy(logits, targets, reduction="sum"))
            n_correct += int((logits.argmax(dim=1) == targets).sum())
        loss, accuracy = loss_sum / len(x), n_correct / len(x)
    module.train(was_training)
    return loss, accuracy
