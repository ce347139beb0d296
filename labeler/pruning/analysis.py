"""Bundle analysis of a model: every layer's bundles after training and, while training, per
epoch; which layers and blocks conflict; exact duplicate images with different labels."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from labeler.learning.fitting import split_validation
from labeler.learning.models import Classifier, ModelConfig
from labeler.learning.training import (
    EpochRecord,
    TrainConfig,
    TrainResult,
    train_model,
)
from labeler.pruning.bundles import BundleStats, assign_bundles
from labeler.pruning.layer_outputs import BRANCH_SUFFIX, measure_layers
from labeler.pruning.surgery import check_prunable, list_blocks

DEFAULT_N_SAMPLES = 1024


@dataclass(frozen=True)
class EpochBundles:
    """Every layer's bundles at the end of one training epoch."""

    epoch: int
    step: int
    train_loss: float
    val_accuracy: float
    layers: dict[str, BundleStats]

    def to_dict(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "step": self.step,
            "train_loss": self.train_loss,
            "val_accuracy": None if np.isnan(self.val_accuracy) else self.val_accuracy,
            "layers": {name: stats.to_dict() for name, stats in self.layers.items()},
        }


@dataclass(frozen=True)
class Analysis:
    """Bundles of every layer of the final model (``layers``, forward order), per epoch when
    it was trained here, and what conflicts."""

    layers: dict[str, BundleStats]
    conflicting_layers: list[str]
    conflicting_blocks: list[str]
    n_samples: int
    n_duplicate_conflicts: int
    epochs: list[EpochBundles] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_samples": self.n_samples,
            "n_duplicate_conflicts": self.n_duplicate_conflicts,
            "conflicting_layers": self.conflicting_layers,
            "conflicting_blocks": self.conflicting_blocks,
            "layers": {name: stats.to_dict() for name, stats in self.layers.items()},
            "epochs": [epoch.to_dict() for epoch in self.epochs],
        }


def pick_samples(
    labels: NDArray[np.integer[Any]], *, n_samples: int, seed: int
) -> NDArray[np.int64]:
    """Sorted indices of up to ``n_samples`` labels drawn at random without repeats (classes
    in about their share of the labels; no stratification)."""
    labels = np.asarray(labels)
    if n_samples < 1:
        raise ValueError(f"the number of samples to measure must be positive, got {n_samples}")
    if n_samples >= len(labels):
        return np.arange(len(labels), dtype=np.int64)
    rng = np.random.default_rng(seed)
    return np.sort(rng.permutation(len(labels))[:n_samples]).astype(np.int64)


def pick_training_samples(
    labels: NDArray[np.integer[Any]], *, train_config: TrainConfig, n_samples: int
) -> NDArray[np.int64]:
    """Up to ``n_samples`` indices into ``labels`` that ``train_model`` with ``train_config``
    trains on (its own validation split left out), sorted."""
    labels = np.asarray(labels)
    train_ids, _ = split_validation(
        labels, val_fraction=train_config.val_fraction, seed=train_config.seed
    )
    return train_ids[pick_samples(labels[train_ids], n_samples=n_samples, seed=train_config.seed)]


def count_duplicate_conflicts(images: NDArray[np.uint8], labels: NDArray[np.integer[Any]]) -> int:
    """How many images have an exact duplicate (same pixels) with a different label: such
    pairs form a conflicting bundle at every layer, whatever the network."""
    images = np.asarray(images)
    if len(images) == 0:
        return 0
    ids, n_groups = assign_bundles(
        torch.from_numpy(images.reshape(len(images), -1).astype(np.float32))
    )
    labels = np.asarray(labels)
    n_labels_per_group = np.zeros(n_groups, dtype=np.int64)
    pairs = np.unique(np.stack([ids, labels]), axis=1)
    np.add.at(n_labels_per_group, pairs[0], 1)
    return int(np.count_nonzero(n_labels_per_group[ids] > 1))


def get_conflicting_blocks(model: Classifier, layers: dict[str, BundleStats]) -> list[str]:
    """Blocks that conflict: a residual block when its branch has H > 0, a plain one when its
    output has H > 0."""
    blocks = []
    for ref in list_blocks(model):
        layer = ref.name + BRANCH_SUFFIX if ref.residual else ref.name
        if layer in layers and layers[layer].conflicting:
            blocks.append(ref.name)
    return blocks


def analyze_model(
    model: Classifier,
    images: NDArray[np.uint8],
    labels: NDArray[np.integer[Any]],
    *,
    lr: float,
    batch_size: int,
) -> Analysis:
    """Bundles of every layer of trained ``model`` on training ``images``/``labels``."""
    network = check_prunable(model)
    layers = measure_layers(network, images, labels, lr=lr, batch_size=batch_size)
    return Analysis(
        layers=layers,
        conflicting_layers=[name for name, stats in layers.items() if stats.conflicting],
        conflicting_blocks=get_conflicting_blocks(network, layers),
        n_samples=len(labels),
        n_duplicate_conflicts=count_duplicate_conflicts(images, labels),
    )


def analyze_training(
    images: NDArray[np.uint8],
    labels: NDArray[np.integer[Any]],
    *,
    n_classes: int,
    model_config: ModelConfig,
    train_config: TrainConfig,
    n_samples: int = DEFAULT_N_SAMPLES,
    progress: bool = True,
) -> tuple[TrainResult, Analysis]:
    """Train ``model_config`` on ``images``/``labels``, measuring every layer's bundles on
    ``n_samples`` of them after each epoch and at the end (at the training lr and batch)."""
    images = np.asarray(images)
    labels = np.asarray(labels)
    picked = pick_training_samples(labels, train_config=train_config, n_samples=n_samples)
    sample_x, sample_y = images[picked], labels[picked]
    epochs: list[EpochBundles] = []

    def measure(record: EpochRecord, model: Classifier) -> bool:
        layers = measure_layers(
            model, sample_x, sample_y, lr=train_config.lr, batch_size=train_config.batch_size
        )
        epochs.append(
            EpochBundles(
                epoch=record.epoch,
                step=record.step,
                train_loss=record.train_loss,
                val_accuracy=record.val_accuracy,
                layers=layers,
            )
        )
        return False

    trained = train_model(
        images,
        labels,
        n_classes=n_classes,
        model_config=model_config,
        train_config=train_config,
        progress=progress,
        on_epoch=measure,
    )
    final = analyze_model(
        trained.model, sample_x, sample_y, lr=train_config.lr, batch_size=train_config.batch_size
    )
    return trained, Analysis(
        layers=final.layers,
        conflicting_layers=final.conflicting_layers,
        conflicting_blocks=final.conflicting_blocks,
        n_samples=final.n_samples,
        n_duplicate_conflicts=final.n_duplicate_conflicts,
        epochs=epochs,
    )
