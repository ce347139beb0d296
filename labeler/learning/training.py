"""Training a classifier from scratch on labeled images, with early stopping when labels allow.

``train_model`` takes the labeled images as uint8 ``[n, H, W]`` or ``[n, H, W, 3]`` (white 255)
and their class indices, and trains a fresh model:

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
- augmentation by the label-preserving transforms listed in ``augment`` (``AUGMENTATIONS``),
  each applied to a random half of every batch;
- AdamW with a one-cycle learning-rate schedule over the planned steps;
- class-weighted cross-entropy when the labels are imbalanced (``class_weighting="auto"``);
- on CUDA: bfloat16 autocast and channels_last; on CPU: channels_last and ``n_threads`` torch
  threads (every core by default; the previous setting is restored afterwards).

All randomness (weights, shuffling, dropout, augmentation) comes from ``seed``; torch's global
random state is left as it was.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray
from tqdm import tqdm

from generators.family import TRANSFORMS
from generators.transforms import get_max_shift_px
from labeler.data.image_arrays import get_channels
from labeler.learning.models import (
    DEFAULT_MODEL_CONFIG,
    Classifier,
    ModelConfig,
    check_input_channels,
    make_model_input,
)
from labeler.learning.models import make_model as _make_model

logger = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "cuda")
CLASS_WEIGHTINGS = ("auto", "balanced", "none")
# With "auto", labels count as imbalanced when the largest class has this many times the
# labels of the smallest.
IMBALANCE_RATIO = 1.5
# Transforms ``TrainConfig.augment`` may list: mirror left-right, mirror top-bottom, rotate by a
# random multiple of 90 degrees, shift by a few pixels (``generators.transforms``; white comes in).
AUGMENTATIONS = TRANSFORMS


@dataclass(frozen=True)
class TrainConfig:
    """How to train; one field per command-line flag.

    ``max_epochs``: epochs to plan (unless ``min_steps`` needs more); ``min_steps``: optimizer
    steps before early stopping may act (and planned at least); ``max_steps``: hard cap on steps
    (None: none); ``batch_size``: images per step; ``lr``: peak learning rate of the one-cycle
    schedule; ``weight_decay``: AdamW decay; ``val_fraction``: share of each class held out for
    validation (0: none, train for the planned steps); ``min_val_per_class``: hold out a
    validation split only when every class has at least this many labels; ``patience``: epochs
    without a better validation accuracy before stopping; ``min_labels_per_class``: fewer labels
    in any class is refused; ``seed``: all randomness; ``device``: "auto" (CUDA if present),
    "cpu" or "cuda"; ``augment``: transforms of ``AUGMENTATIONS`` to train with (only those that
    keep every label: a family declares its own); ``class_weighting``: "auto" (balanced weights
    when the largest class has 1.5x the labels of the smallest), "balanced" or "none";
    ``n_threads``: torch CPU threads while
    training (None: every core; give 1 to each of several processes sharing the cores).
    """

    max_epochs: int = 30
    min_steps: int = 200
    max_steps: int | None = 2000
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 5e-4
    val_fraction: float = 0.2
    min_val_per_class: int = 20
    patience: int = 5
    min_labels_per_class: int = 1
    seed: int = 0
    device: str = "auto"
    augment: tuple[str, ...] = ()
    class_weighting: str = "auto"
    n_threads: int | None = None

    def __post_init__(self) -> None:
        for name in (
            "max_epochs",
            "min_steps",
            "batch_size",
            "patience",
            "min_labels_per_class",
            "min_val_per_class",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"TrainConfig.{name} must be a positive integer, got {value!r}")
        if self.max_steps is not None and (
            isinstance(self.max_steps, bool)
            or not isinstance(self.max_steps, int)
            or self.max_steps < 1
        ):
            raise ValueError(
                f"TrainConfig.max_steps must be a positive integer or None, got {self.max_steps!r}"
            )
        if self.min_val_per_class < 2:
            raise ValueError(
                "TrainConfig.min_val_per_class must be at least 2 (one label to train on, one "
                f"to validate), got {self.min_val_per_class}"
            )
        augment = tuple(self.augment)
        unknown = [name for name in augment if name not in AUGMENTATIONS]
        if unknown or len(set(augment)) != len(augment):
            raise ValueError(
                f"TrainConfig.augment must list distinct transforms of {', '.join(AUGMENTATIONS)}"
                f", got {list(self.augment)!r}"
            )
        # JSON gives a list; keep a tuple so that configs stay hashable and comparable.
        object.__setattr__(self, "augment", augment)
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"TrainConfig.lr must be positive, got {self.lr!r}")
        if not self.weight_decay >= 0:
            raise ValueError(
                f"TrainConfig.weight_decay must be non-negative, got {self.weight_decay!r}"
            )
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(
                f"TrainConfig.val_fraction must be in [0, 1), got {self.val_fraction!r}"
            )
        if self.n_threads is not None and (
            isinstance(self.n_threads, bool)
            or not isinstance(self.n_threads, int)
            or self.n_threads < 1
        ):
            raise ValueError(
                f"TrainConfig.n_threads must be a positive integer or None, got {self.n_threads!r}"
            )
        if self.device not in DEVICES:
            raise ValueError(f"unknown device {self.device!r}; valid ones: {', '.join(DEVICES)}")
        if self.class_weighting not in CLASS_WEIGHTINGS:
            raise ValueError(
                f"unknown class weighting {self.class_weighting!r}; "
                f"valid ones: {', '.join(CLASS_WEIGHTINGS)}"
            )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Build from ``to_dict`` output, also of older versions (``augment_flip``)."""
        data = dict(data)
        if data.pop("augment_flip", False):
            data["augment"] = ["hflip"]
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"unknown TrainConfig fields {unknown}; valid ones: {', '.join(sorted(known))}"
            )
        return cls(**data)


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
    ``validation``: one sentence saying how validation was done (or why it was not).
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

    @property
    def images_per_second(self) -> float:
        return self.n_steps * min(self.config.batch_size, self.n_train) / max(self.seconds, 1e-9)


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; ``"cuda"`` without CUDA -> ValueError."""
    name = str(device)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.split(":")[0] not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {name!r}; valid ones: {', '.join(DEVICES)}")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} was asked for, but CUDA is not available here")
    return torch.device(name)


def count_cores() -> int:
    """Number of cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def cpu_threads(n_threads: int | None) -> Iterator[int]:
    """Run the block with ``n_threads`` torch CPU threads (None: every core), then restore the
    previous setting. Yields the number used.

    Several torch processes on the same cores should each get fewer threads (e.g. 1): when
    threads outnumber cores, torch's kernels wait on each other and slow down many times over.
    """
    if n_threads is not None and (
        isinstance(n_threads, bool) or not isinstance(n_threads, int) or n_threads < 1
    ):
        raise ValueError(f"n_threads must be a positive integer or None, got {n_threads!r}")
    wanted = count_cores() if n_threads is None else n_threads
    previous = torch.get_num_threads()
    if wanted != previous:
        torch.set_num_threads(wanted)
    try:
        yield wanted
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)


def check_labels(
    labels: NDArray[np.integer[Any]], *, n_classes: int, min_per_class: int = 2
) -> NDArray[np.int64]:
    """Return the labels' counts per class ``[n_classes]``, or raise ValueError.

    Refused: labels outside ``0..n_classes-1``, fewer than two classes, and any class with
    fewer than ``min_per_class`` labels.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be a 1-d integer array, got {labels.dtype} {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        bad = labels[(labels < 0) | (labels >= n_classes)][0]
        raise ValueError(f"label {int(bad)} is not a class index in 0..{n_classes - 1}")
    counts = np.bincount(labels, minlength=n_classes).astype(np.int64)
    hint = f"label at least {min_per_class} of each class, or start with --initial random picks"
    if np.count_nonzero(counts) < 2:
        raise ValueError(
            f"the labels hold {np.count_nonzero(counts)} class(es); training needs at least 2: "
            + hint
        )
    if counts.min() < min_per_class:
        short = {int(c): int(counts[c]) for c in np.flatnonzero(counts < min_per_class)}
        raise ValueError(f"too few labels in class(es) {short} (index: count): " + hint)
    return counts


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


EpochCallback = Callable[["EpochRecord", Classifier], bool]


def train_model(
    images: NDArray[np.uint8],
    labels: NDArray[np.integer[Any]],
    *,
    n_classes: int,
    model_config: ModelConfig = DEFAULT_MODEL_CONFIG,
    train_config: TrainConfig | None = None,
    progress: bool = True,
    initial_model: Classifier | None = None,
    on_epoch: EpochCallback | None = None,
) -> TrainResult:
    """Train a new ``model_config`` model on ``images`` uint8 ``[n, H, W(, 3)]`` with ``labels``
    int ``[n]`` (class indices in ``0..n_classes-1``). See the module docstring for the schedule.

    ``initial_model``: fine-tune a copy of this model (its config must be ``model_config``)
    instead of starting from random weights; the model passed in is left as it was.
    ``on_epoch(record, model)``: called after every epoch (the model may be switched to eval
    mode and back); returning True stops training there, as early stopping would.

    Raises ValueError on bad shapes, labels outside the classes, fewer than 2 classes, or a class
    with fewer than ``train_config.min_labels_per_class`` labels.
    """
    config = train_config or TrainConfig()
    if initial_model is not None and initial_model.config != model_config:
        raise ValueError(
            f"initial_model is a {initial_model.config} but model_config is {model_config}"
        )
    images, labels = check_images_and_labels(images, labels)
    check_input_channels(model_config, get_channels(images))
    counts = check_labels(labels, n_classes=n_classes, min_per_class=config.min_labels_per_class)
    device = resolve_device(config.device)
    with cpu_threads(config.n_threads) if device.type == "cpu" else contextlib.nullcontext():
        return _train_model(
            images,
            labels,
            counts,
            n_classes=n_classes,
            model_config=model_config,
            config=config,
            device=device,
            progress=progress,
            initial_model=initial_model,
            on_epoch=on_epoch,
        )


def _train_model(
    images: NDArray[np.uint8],
    labels: NDArray[np.integer[Any]],
    counts: NDArray[np.int64],
    *,
    n_classes: int,
    model_config: ModelConfig,
    config: TrainConfig,
    device: torch.device,
    progress: bool,
    initial_model: Classifier | None,
    on_epoch: EpochCallback | None,
) -> TrainResult:
    started = time.perf_counter()

    validation, val_fraction = plan_validation(counts, config)
    train_ids, val_ids = split_validation(labels, val_fraction=val_fraction, seed=config.seed)
    # The whole labeled set is small next to memory: resize once, keep it on the device.
    inputs = _to_inputs(images, image_size=model_config.image_size, device=device)
    targets = torch.from_numpy(labels.astype(np.int64)).to(device)
    train_index = torch.from_numpy(train_ids).to(device)
    val_index = torch.from_numpy(val_ids).to(device)
    train_x, train_y = inputs[train_index], targets[train_index]
    val_x, val_y = inputs[val_index], targets[val_index]
    n_train = len(train_ids)
    train_counts = np.bincount(labels[train_ids], minlength=n_classes).astype(np.int64)
    weights = get_class_weights(train_counts, weighting=config.class_weighting)
    weight_tensor = (
        torch.tensor(weights, dtype=torch.float32, device=device) if weights is not None else None
    )

    batch_size = min(config.batch_size, n_train)
    steps_per_epoch = _count_batches(n_train, batch_size)
    n_planned, n_epochs_planned = plan_steps(config, steps_per_epoch)
    logger.info(
        "training %s on %d images (%d validation), %s, up to %d steps (%d epochs of %d)",
        model_config.name,
        n_train,
        len(val_ids),
        dict(enumerate(counts.tolist())),
        n_planned,
        n_epochs_planned,
        steps_per_epoch,
    )

    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(config.seed)
        fresh = (
            _make_model(model_config, n_classes=n_classes)
            if initial_model is None
            else deepcopy(initial_model)
        )
        model = fresh.to(device).to(memory_format=torch.channels_last)
        optimizer = torch.optim.AdamW(
            model.parameters(), lr=config.lr, weight_decay=config.weight_decay
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
                model.train()
                # Summed on the device: reading a CUDA loss each step would wait for the GPU.
                loss_sum, n_seen = torch.zeros((), device=device), 0
                for batch in _iterate_batches(n_train, batch_size, generator, device):
                    if step >= n_planned:
                        break
                    x, y = train_x[batch], train_y[batch]
                    if config.augment:
                        x = augment_batch(x, config.augment, generator)
                    with _autocast(device):
                        logits = model(x)
                    loss = F.cross_entropy(logits.float(), y, weight=weight_tensor)
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    scheduler.step()
                    step += 1
                    loss_sum += loss.detach() * len(batch)
                    n_seen += len(batch)
                    bar.update(1)
                val_loss, val_accuracy = _evaluate(model, val_x, val_y, batch_size=512)
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
                if len(val_ids) and best.should_stop(model, history[-1]):
                    break
                if step >= n_planned:
                    break
        finally:
            bar.close()
    best.restore(model)
    model.eval()
    final_accuracy = _evaluate(model, val_x, val_y, batch_size=512)[1]
    seconds = time.perf_counter() - started
    logger.info(
        "trained %d steps (%d epochs) in %.1f s; validation accuracy %.3f",
        step,
        len(history),
        seconds,
        final_accuracy,
    )
    return TrainResult(
        model=model,
        val_accuracy=final_accuracy,
        history=history,
        n_epochs=len(history),
        n_steps=step,
        seconds=seconds,
        config=config,
        model_config=model_config,
        n_train=n_train,
        n_val=len(val_ids),
        device=str(device),
        class_weights=None if weights is None else weights.tolist(),
        validation=validation.format(n_steps=step),
    )


@torch.inference_mode()
def evaluate_accuracy(
    model: Classifier,
    images: NDArray[np.uint8],
    labels: NDArray[np.integer[Any]],
    *,
    batch_size: int = 512,
    device: str | torch.device = "auto",
) -> float:
    """Share of ``images`` uint8 ``[n, H, W(, 3)]`` whose predicted class equals ``labels``.

    The model is put in eval mode and moved to ``device``; images are resized to its input size
    batch by batch. Uses torch's current CPU thread setting. NaN for no images.
    """
    images, labels = check_images_and_labels(images, labels)
    if len(images) == 0:
        return float("nan")
    torch_device = resolve_device(device)
    model = model.to(torch_device).to(memory_format=torch.channels_last).eval()
    n_correct = 0
    for start in range(0, len(images), batch_size):
        pixels = torch.from_numpy(np.array(images[start : start + batch_size]))
        x = make_model_input(pixels, image_size=model.config.image_size, device=torch_device)
        with _autocast(torch_device):
            predicted = model(x).argmax(dim=1).cpu().numpy()
        n_correct += int(np.count_nonzero(predicted == labels[start : start + batch_size]))
    return n_correct / len(images)


def check_images_and_labels(
    images: NDArray[np.uint8], labels: NDArray[np.integer[Any]]
) -> tuple[NDArray[np.uint8], NDArray[np.integer[Any]]]:
    """``(images, labels)`` as arrays, after checking they are uint8 ``[n, H, W]`` or
    ``[n, H, W, 3]`` and ``[n]``; ValueError naming both shapes otherwise."""
    images = np.asarray(images)
    labels = np.asarray(labels)
    get_channels(images)
    if labels.shape != (len(images),):
        raise ValueError(
            f"expected one label per image: images {images.dtype} {images.shape}, labels "
            f"{labels.shape}"
        )
    return images, labels


def _to_inputs(images: NDArray[np.uint8], *, image_size: int, device: torch.device) -> torch.Tensor:
    chunks = [
        make_model_input(
            torch.from_numpy(np.array(images[start : start + 2048])),
            image_size=image_size,
            device=device,
        )
        for start in range(0, len(images), 2048)
    ]
    return torch.cat(chunks).contiguous(memory_format=torch.channels_last)


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
        self._epoch = 0
        self._state: dict[str, torch.Tensor] | None = None

    def should_stop(self, module: torch.nn.Module, record: EpochRecord) -> bool:
        """Record ``module``'s weights after the epoch of ``record`` if they are the best yet;
        True when training should stop here."""
        key = (record.val_accuracy, -record.val_loss)
        if key > self._key:
            self._key, self._epoch = key, record.epoch
            self._state = {
                name: value.detach().clone() for name, value in module.state_dict().items()
            }
            return False
        if (
            record.step >= self._config.min_steps
            and record.epoch - self._epoch >= self._config.patience
        ):
            logger.info("early stop at epoch %d (best %d)", record.epoch, self._epoch)
            return True
        return False

    def restore(self, module: torch.nn.Module) -> None:
        """Load the best weights recorded into ``module`` (nothing when none was)."""
        if self._state is not None:
            module.load_state_dict(self._state)


def _count_batches(n: int, batch_size: int) -> int:
    """How many batches ``_iterate_batches`` yields per epoch."""
    n_full, rest = divmod(n, batch_size)
    return n_full + int(rest > 0 and (n_full == 0 or rest >= max(2, batch_size // 2)))


def _iterate_batches(
    n: int, batch_size: int, generator: torch.Generator, device: torch.device
) -> Iterator[torch.Tensor]:
    """Shuffled index batches over ``range(n)``; a last batch smaller than half is dropped
    (a batch of 1 would break batch norm), unless it is the only one."""
    order = torch.randperm(n, generator=generator).to(device)
    for start in range(0, n, batch_size):
        batch = order[start : start + batch_size]
        if start > 0 and len(batch) < max(2, batch_size // 2):
            return
        yield batch


def augment_batch(
    x: torch.Tensor, transforms: tuple[str, ...], generator: torch.Generator
) -> torch.Tensor:
    """Model input ``x`` ``[n, C, S, S]`` with each of ``transforms`` (``AUGMENTATIONS``) applied
    to a random half of the images (rot90: a random quarter turn, 0 included; shift: a random
    offset of up to ``get_max_shift_px(S)`` pixels each way, the uncovered part white, i.e. 0,
    none below 32 px). Draws from
    ``generator`` (CPU) only, so a seed gives the same batches on any device."""
    n, side = len(x), x.shape[-1]
    for name in transforms:
        if name == "rot90":
            turns = torch.randint(0, 4, (n,), generator=generator).to(x.device)
            turned = [torch.rot90(x, k, dims=(-2, -1)) for k in range(4)]
            x = torch.stack(turned)[turns, torch.arange(n, device=x.device)]
            continue
        if name == "shift":
            if get_max_shift_px(side) > 0:
                x = _shift_some(x, get_max_shift_px(side), generator)
            continue
        chosen = (torch.rand(n, generator=generator) < 0.5).to(x.device)
        flipped = x.flip(-1) if name == "hflip" else x.flip(-2)
        x = torch.where(chosen[:, None, None, None], flipped, x)
    return x.contiguous(memory_format=torch.channels_last)


def _shift_some(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Shift each image by its own random offset in ``-max_shift..max_shift`` on both axes."""
    n, side = len(x), x.shape[-1]
    offsets = torch.randint(-max_shift, max_shift + 1, (n, 2), generator=generator).to(x.device)
    positions = torch.arange(side, device=x.device)
    rows = positions[None, :] - offsets[:, :1]  # [n, S]: source row of each output row
    cols = positions[None, :] - offsets[:, 1:]
    inside = ((rows >= 0) & (rows < side))[:, :, None] & ((cols >= 0) & (cols < side))[:, None, :]
    batch = torch.arange(n, device=x.device)[:, None, None]
    shifted = x[batch, :, rows.clamp(0, side - 1)[:, :, None], cols.clamp(0, side - 1)[:, None, :]]
    # Advanced indexing put the channels last: [n, S, S, C].
    shifted = shifted * inside[..., None].to(x.dtype)
    return shifted.permute(0, 3, 1, 2)


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


def _autocast(device: torch.device) -> torch.autocast:
    # bfloat16 needs no loss scaling; CPU autocast stays off (slower than float32 on most CPUs).
    return torch.autocast(
        device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"
    )


@torch.no_grad()
def _evaluate(
    model: Classifier, x: torch.Tensor, y: torch.Tensor, *, batch_size: int
) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) on ``x, y``; NaNs when empty. Restores train mode."""
    if len(x) == 0:
        return float("nan"), float("nan")
    was_training = model.training
    model.eval()
    loss_sum, n_correct = 0.0, 0
    for start in range(0, len(x), batch_size):
        with _autocast(x.device):
            logits = model(x[start : start + batch_size]).float()
        targets = y[start : start + batch_size]
        loss_sum += float(F.cross_entropy(logits, targets, reduction="sum"))
        n_correct += int((logits.argmax(dim=1) == targets).sum())
    model.train(was_training)
    return loss_sum / len(x), n_correct / len(x)
