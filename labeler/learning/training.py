"""Training a classifier from scratch on labeled images, with early stopping when labels allow.

``train_model`` takes the labeled images as uint8 ``[n, H, W]`` or ``[n, H, W, 3]`` (white 255)
and their class indices, resizes them once to the model's input (kept on the device), and
trains a fresh model with the shared loop (``labeler.learning.fitting.fit``: validation split
when labels allow, planned steps, AdamW with a one-cycle schedule, class weights, early
stopping; see there), adding:

- augmentation by the label-preserving transforms listed in ``TrainConfig.augment``
  (``labeler.learning.tensor_augmentation``), each applied to a random half of every batch;
- on CUDA: bfloat16 autocast and channels_last; on CPU: channels_last and ``n_threads`` torch
  threads (every core by default; the previous setting is restored afterwards).

All randomness (weights, shuffling, dropout, augmentation) comes from ``TrainConfig.seed``;
torch's global random state is left as it was. ``TrainConfig`` (``labeler.learning.train_config``)
and the records training gives back (``EpochRecord``, ``TrainResult``,
``labeler.learning.fitting``) are imported from here by the rest of the engine.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from copy import deepcopy
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from labeler.data.image_arrays import get_channels
from labeler.learning.devices import autocast, cpu_threads, resolve_device
from labeler.learning.fitting import EpochRecord, TrainResult, fit
from labeler.learning.models import (
    DEFAULT_MODEL_CONFIG,
    Classifier,
    ModelConfig,
    check_input_channels,
    make_model_input,
)
from labeler.learning.models import make_model as _make_model
from labeler.learning.train_config import TrainConfig

logger = logging.getLogger(__name__)


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


def train_model(
    images: NDArray[np.uint8],
    labels: NDArray[np.integer[Any]],
    *,
    n_classes: int,
    model_config: ModelConfig = DEFAULT_MODEL_CONFIG,
    train_config: TrainConfig | None = None,
    progress: bool = True,
    initial_model: Classifier | None = None,
    on_epoch: Callable[[EpochRecord, Classifier], bool] | None = None,
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

    def make_fresh_model() -> Classifier:
        fresh = (
            _make_model(model_config, n_classes=n_classes)
            if initial_model is None
            else deepcopy(initial_model)
        )
        return fresh.to(device).to(memory_format=torch.channels_last)

    with cpu_threads(config.n_threads) if device.type == "cpu" else contextlib.nullcontext():
        # The whole labeled set is small next to memory: resize once, keep it on the device.
        inputs = _to_inputs(images, image_size=model_config.image_size, device=device)
        result = fit(
            make_fresh_model,
            inputs,
            labels,
            counts,
            config=config,
            device=device,
            logger=logger,
            augment=config.augment,
            progress=progress,
            on_epoch=on_epoch,
        )
    logger.info(
        "trained %d steps (%d epochs) in %.1f s; validation accuracy %.3f",
        result.n_steps,
        result.n_epochs,
        result.seconds,
        result.val_accuracy,
    )
    return result


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
        with autocast(torch_device):
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
