"""How to train: ``TrainConfig``, one field per command-line flag, checked when made.

``train_model`` (``labeler.learning.training``) and the frozen-backbone head trainer
(``labeler.learning.head_training``) both take it; the training loop they share is
``labeler.learning.fitting.fit``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from generators.checks import check_int, check_optional_int
from labeler.learning.devices import DEVICES
from labeler.learning.tensor_augmentation import AUGMENTATIONS

CLASS_WEIGHTINGS = ("auto", "balanced", "none")
# With "auto", labels count as imbalanced when the largest class has this many times the
# labels of the smallest.
IMBALANCE_RATIO = 1.5


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
    # With a few hundred labels, 30 epochs are only some 200 steps of 64 images, and a network
    # trained that long was far from what it could learn. With at least 800 steps the CNN
    # gained most where it had been worst (300 labels: counting 0.709 -> 0.956, the colour
    # folder 0.484 -> 0.988, font glyphs 0.803 -> 0.957), nothing where it had already learned
    # (orientation, SVRT 11), and lost only on scikit-learn's digits at 1,000 labels (0.978 ->
    # 0.972); bench/results/training_steps.md. A small set runs short of steps, not epochs. The
    # cost: 800 steps take about half a minute at 64 px on two cores.
    min_steps: int = 800
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
            # Stored as checked: a numpy integer becomes an int (JSON takes no numpy types).
            value = check_int(f"TrainConfig.{name}", getattr(self, name), low=1)
            object.__setattr__(self, name, value)
        max_steps = check_optional_int("TrainConfig.max_steps", self.max_steps, low=1)
        object.__setattr__(self, "max_steps", max_steps)
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
        n_threads = check_optional_int("TrainConfig.n_threads", self.n_threads, low=1)
        object.__setattr__(self, "n_threads", n_threads)
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
