"""Auto-tune by conflicting layer removal (``docs/pruning.md``), as measured on our data.

Train a deep plain network and measure the last layer's (the logits') bundle entropy after
each of the first ``check_epochs`` epochs. When it is still above 0 at the end of that
window, the network counts as untrainable: measure every layer, cut the first stage that
holds a conflicting block (and can still lose blocks) just before that block, and restart
from scratch with the smaller network; repeat until a run clears the check, then train it to
the end.

Two departures from the spec, both forced by measurements on our networks (batch-normalised,
so their block outputs never collapse at float32 resolution):
- healthy networks also conflict at the logits in their first epochs (a trainable plain
  network of depth 2 on SVRT 11: H = 0.57, 0.16, 0.01, 0 in epochs 1-4), so a conflict at
  any one check would cut every network; what counts is the end of the window. (Asking for a
  conflict at every check instead let an untrainable depth-10 network through on a chance
  zero at epoch 3: bench/results/pruning.md, first run.)
- in untrainable ones only the logits conflict, no block does (plain depth 10: every block's
  output has as many bundles as samples), so there is no first conflicting block to cut
  before. The fallback halves every stage (rounding down, at least one block).
Each attempt records which rule cut it.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from generators.checks import check_int
from labeler.learning.models import Classifier, ModelConfig
from labeler.learning.training import (
    EpochRecord,
    TrainConfig,
    TrainResult,
    train_model,
)
from labeler.pruning.analysis import pick_training_samples
from labeler.pruning.layer_outputs import list_layers, measure_layers
from labeler.pruning.surgery import list_blocks

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AutotuneConfig:
    """``check_epochs``: epochs at whose end the last layer is measured (a conflict after the
    last of them restarts); ``n_check_samples``: training samples measured; ``max_restarts``:
    restarts allowed before training the last architecture to the end anyway."""

    check_epochs: int = 5
    n_check_samples: int = 256
    max_restarts: int = 10

    def __post_init__(self) -> None:
        check_int("auto-tune check_epochs", self.check_epochs, low=1)
        check_int("auto-tune n_check_samples", self.n_check_samples, low=1)
        check_int("auto-tune max_restarts", self.max_restarts, low=0)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Attempt:
    """One training run: its architecture, how far it got, and the cut it led to (if any)."""

    stage_depths: tuple[int, ...]
    n_epochs: int
    last_layer_entropies: list[float]
    conflicting_block: str | None
    cut_rule: str | None
    next_stage_depths: tuple[int, ...] | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage_depths": list(self.stage_depths),
            "n_epochs": self.n_epochs,
            "last_layer_entropies": self.last_layer_entropies,
            "conflicting_block": self.conflicting_block,
            "cut_rule": self.cut_rule,
            "next_stage_depths": None
            if self.next_stage_depths is None
            else list(self.next_stage_depths),
        }


@dataclass(frozen=True)
class AutotuneResult:
    """The final trained network and every attempt that led to it (``n_restarts`` =
    attempts - 1); ``converged``: the last run ended the window without conflict."""

    trained: TrainResult
    attempts: list[Attempt]
    converged: bool

    @property
    def model(self) -> Classifier:
        return self.trained.model

    @property
    def n_restarts(self) -> int:
        return len(self.attempts) - 1


def cut_before(config: ModelConfig, block: str) -> tuple[int, ...] | None:
    """Stage depths that keep only the blocks of ``block``'s stage before it (the first block
    of a downsampling stage always stays), or None when nothing can be cut there."""
    depths = list(config.get_stage_depths())
    stage, index = (int(part) for part in block.split(".")[1:3])
    keep = max(index, 1 if stage > 0 else 0)
    if keep >= depths[stage]:
        return None
    depths[stage] = keep
    return tuple(depths)


def halve_stages(config: ModelConfig) -> tuple[int, ...] | None:
    """Every stage at half its depth (at least 1 block; an emptied stage stays empty), or None
    when that changes nothing."""
    depths = config.get_stage_depths()
    halved = tuple(min(depth, max(1, depth // 2)) for depth in depths)
    return None if halved == depths else halved


def run_autotune(
    images: NDArray[np.uint8],
    labels: NDArray[np.integer[Any]],
    *,
    n_classes: int,
    start: ModelConfig,
    train_config: TrainConfig,
    config: AutotuneConfig | None = None,
    progress: bool = True,
) -> AutotuneResult:
    """Auto-tune ``start`` (a ``plain`` network) on training ``images`` uint8 ``[n, H, W]`` and
    ``labels [n]`` (see the module docstring). Each attempt trains with ``train_config``."""
    config = config or AutotuneConfig()
    if start.name != "plain":
        raise ValueError(f"auto-tune starts from a deep 'plain' network, got {start.name!r}")
    images = np.asarray(images)
    labels = np.asarray(labels)
    picked = pick_training_samples(
        labels, train_config=train_config, n_samples=config.n_check_samples
    )
    check_x, check_y = images[picked], labels[picked]
    attempts: list[Attempt] = []
    model_config = start
    while True:
        checker = _WindowCheck(
            check_x, check_y, model_config=model_config, train_config=train_config,
            check_epochs=config.check_epochs,
            may_restart=len(attempts) < config.max_restarts,
        )  # fmt: skip
        trained = train_model(
            images,
            labels,
            n_classes=n_classes,
            model_config=model_config,
            train_config=train_config,
            progress=progress,
            on_epoch=checker,
        )
        attempts.append(
            Attempt(
                stage_depths=model_config.get_stage_depths(),
                n_epochs=trained.n_epochs,
                last_layer_entropies=checker.entropies,
                conflicting_block=checker.block,
                cut_rule=checker.rule,
                next_stage_depths=checker.cut,
            )
        )
        if checker.cut is None:
            converged = bool(checker.entropies) and checker.entropies[-1] == 0.0
            return AutotuneResult(trained=trained, attempts=attempts, converged=converged)
        logger.info(
            "auto-tune: stage depths %s conflict (%s); restarting with %s",
            model_config.get_stage_depths(),
            checker.rule,
            checker.cut,
        )
        model_config = dataclasses.replace(model_config, stage_depths=checker.cut)


class _WindowCheck:
    """The epoch callback of one attempt: measures the logits in the window and, when they
    still conflict at its end, decides the cut and stops the run."""

    def __init__(
        self,
        images: NDArray[np.uint8],
        labels: NDArray[np.integer[Any]],
        *,
        model_config: ModelConfig,
        train_config: TrainConfig,
        check_epochs: int,
        may_restart: bool,
    ) -> None:
        self.images, self.labels = images, labels
        self.model_config = model_config
        self.lr, self.batch_size = train_config.lr, train_config.batch_size
        self.check_epochs = check_epochs
        self.may_restart = may_restart
        self.entropies: list[float] = []
        self.block: str | None = None
        self.rule: str | None = None
        self.cut: tuple[int, ...] | None = None

    def __call__(self, record: EpochRecord, model: Classifier) -> bool:
        if record.epoch > self.check_epochs:
            return False
        last = list_layers(model)[-1]
        stats = measure_layers(
            model, self.images, self.labels, lr=self.lr, batch_size=self.batch_size,
            layers=[last],
        )[last]  # fmt: skip
        self.entropies.append(stats.entropy)
        if record.epoch < self.check_epochs or stats.entropy == 0.0:
            return False
        every = measure_layers(
            model, self.images, self.labels, lr=self.lr, batch_size=self.batch_size
        )
        # The first conflicting block whose stage can still be cut (a downsampling stage
        # keeps its first block).
        for ref in list_blocks(model):
            if every[ref.name].conflicting:
                self.block = self.block or ref.name
                cut = cut_before(self.model_config, ref.name)
                if cut is not None:
                    self.block, self.cut = ref.name, cut
                    self.rule = f"cut before the first conflicting block, {ref.name}"
                    break
        if self.cut is None:
            self.rule = (
                "only the logits conflict: halve every stage"
                if self.block is None
                else "no conflicting block can be cut: halve every stage"
            )
            self.cut = halve_stages(self.model_config)
        if self.cut is None or not self.may_restart:
            self.rule, self.cut = None, None  # nothing left to cut: this is the answer
            return False
        return True
