"""Short fine-tunes of a pruned model from its current weights (greedy pruning, the trimmed
scoring model of a round)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from generators.checks import check_int
from labeler.learning.models import Classifier
from labeler.learning.training import TrainConfig, train_model


@dataclass(frozen=True)
class FineTuneConfig:
    """How to fine-tune after removing blocks: ``n_steps`` optimizer steps of ``batch_size``
    images at peak learning rate ``lr`` (one-cycle, as in training), ``seed`` for shuffling,
    ``n_threads`` torch CPU threads (None: every core), ``device`` as in TrainConfig."""

    n_steps: int = 60
    lr: float = 1e-3
    batch_size: int = 64
    seed: int = 0
    n_threads: int | None = None
    device: str = "auto"

    def __post_init__(self) -> None:
        check_int("fine-tune n_steps", self.n_steps, low=1)
        self.to_train_config(n_steps=self.n_steps)  # checks lr, batch size, threads, device

    def to_train_config(self, *, n_steps: int) -> TrainConfig:
        """The TrainConfig of a fine-tune of ``n_steps`` steps on every label (no validation)."""
        return TrainConfig(
            max_epochs=1,
            min_steps=n_steps,
            max_steps=n_steps,
            batch_size=self.batch_size,
            lr=self.lr,
            val_fraction=0.0,
            min_labels_per_class=1,
            seed=self.seed,
            device=self.device,
            n_threads=self.n_threads,
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FineTuneConfig:
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown fine-tune fields {unknown}; valid: {sorted(known)}")
        return cls(**data)


def fine_tune(
    model: Classifier,
    images: NDArray[np.uint8],
    labels: NDArray[np.integer[Any]],
    *,
    n_classes: int,
    config: FineTuneConfig,
    n_steps: int | None = None,
) -> Classifier:
    """A fine-tuned copy of ``model`` (eval mode) after ``n_steps`` (default
    ``config.n_steps``) steps on ``images`` uint8 ``[n, H, W]`` with ``labels [n]``."""
    result = train_model(
        images,
        labels,
        n_classes=n_classes,
        model_config=model.config,
        train_config=config.to_train_config(n_steps=n_steps or config.n_steps),
        progress=False,
        initial_model=model,
    )
    return result.model
