"""Warm-started rounds: a network trained from the last round's weights, shrunk and perturbed
(Ash & Adams 2020), for a fraction of a fresh model's steps.

Training a network again from the weights that fit the last labels is quicker than from
scratch, but the plain warm start generalizes worse: the old optimum is hard to leave. Ash &
Adams's "shrink and perturb" keeps the old weights' direction while giving back the gradient
signal of a fresh start: every parameter becomes ``SHRINK * previous + PERTURB * fresh``, with
``fresh`` a new random initialization (batch-norm statistics are kept as they were). The
warm model then trains for ``WARM_STEP_SHARE`` of the planned steps and epochs.

A share that follows the labels (the share of them new since the last round, from a third down
to a tenth) was measured too (``bench/warm_start.py``, SVRT 4, 50 labels a round to 500, 3
seeds): 3.37x less time than from scratch, but the accuracy fell round after round as the
share shrank (0.883 against 0.920 at 250 labels, 0.624 against 0.912 at 500): weights shrunk
every round and trained that briefly do not recover. Smaller fixed shares were measured too
(same bench on SVRT 4 with translations, 3 seeds; from scratch 0.90-0.94 from 100 labels on,
warm with a third 0.94-0.99): a fifth falls to chance at 100 and 150 labels (0.50); a fifth
with a gentler start (``0.8 * previous + 0.01 * fresh``) keeps up with scratch at 3.2x less
time (against the scratch time of another run, not the same process) but gives back the
warm gain (0.93 against 0.98 at 150 labels); 0.15 of the steps with that start falls again
(0.61-0.80 from 150 labels on). The fixed third stays.

Warm starts stay off unless asked for (``--warm-start``): the third that helps on SVRT 4
(0.974 against 0.940 from scratch at 500 labels) loses on counting round after round (0.471
against 0.724 at 500), in the same bench. Training simply carried on instead (``1.0 *
previous + 0 * fresh``, a third of the steps; warm runs only, 3 seeds, on a shared machine
so without times) did better on both: SVRT 4 0.960-0.996 from 200 labels on (0.994 at 300
against 0.958 shrunk and 0.921 from scratch), counting 0.927 at 500 labels (0.471 shrunk,
0.724 from scratch), though 5.5 and 2.5 points below scratch at 100 and 150 labels on
counting. It is not the setting yet: the bench has to compare it with scratch, times
included, first.

A previous model that does not fit the one asked for (another architecture, width, input
size or number of classes) is not used: the round trains from scratch and says why.
"""

from __future__ import annotations

import math
from copy import deepcopy
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from labeler.learning.fitting import TrainResult
from labeler.learning.models import Classifier, ModelConfig, make_model
from labeler.learning.train_config import TrainConfig
from labeler.learning.training import train_model

SHRINK = 0.4
PERTURB = 0.1
# A warm model trains for this share of a fresh one's planned steps and epochs.
WARM_STEP_SHARE = 1 / 3


@dataclass(frozen=True)
class WarmStart:
    """The model a round starts from (None: a fresh one) and one sentence saying why."""

    model: Classifier | None
    note: str

    @property
    def used(self) -> bool:
        return self.model is not None


def shrink_perturb(
    previous: Classifier, fresh: Classifier, *, shrink: float = SHRINK, perturb: float = PERTURB
) -> Classifier:
    """A copy of ``fresh`` whose parameters are ``shrink * previous + perturb * fresh`` and
    whose buffers (batch-norm statistics) are ``previous``'s; neither input is changed."""
    warm = deepcopy(fresh)
    old = previous.state_dict()
    new = fresh.state_dict()
    parameter_names = {name for name, _ in fresh.named_parameters()}
    state = {}
    for name, value in new.items():
        if name in parameter_names:
            state[name] = shrink * old[name].to(value.dtype) + perturb * value
        else:
            state[name] = old[name].clone()
    warm.load_state_dict(state)
    return warm


def plan_warm_start(
    previous: Classifier | None,
    model_config: ModelConfig,
    *,
    n_classes: int,
    seed: int,
    previous_source: str = "the last round",
) -> WarmStart:
    """The shrunk and perturbed ``previous`` model for a round of ``model_config`` with
    ``n_classes`` (the fresh part seeded by ``seed``), or none, with the reason."""
    if previous is None:
        return WarmStart(None, f"from scratch: {previous_source} has no network to start from")
    if previous.config != model_config or previous.n_classes != n_classes:
        return WarmStart(
            None,
            f"from scratch: {previous_source}'s network ({_describe(previous.config)}, "
            f"{previous.n_classes} classes) does not fit the one asked for "
            f"({_describe(model_config)}, {n_classes} classes)",
        )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        fresh = make_model(model_config, n_classes=n_classes)
    warm = shrink_perturb(previous.cpu(), fresh)
    return WarmStart(
        warm,
        f"warm: {previous_source}'s weights shrunk by {SHRINK:g} and perturbed by {PERTURB:g} "
        f"of a fresh initialization, trained for {WARM_STEP_SHARE:.0%} of the steps",
    )


def _describe(config: ModelConfig) -> str:
    """ "resnet, depth 2, width 8, stem 2, 64 px, 1 channel(s)"; a pruned one lists its
    stages."""
    depth = config.get_stage_depths() if config.stage_depths is not None else config.depth
    return (
        f"{config.name}, depth {depth}, width {config.width}, stem {config.stem_stride}, "
        f"{config.image_size} px, {config.in_channels} channel(s)"
        + (" and coordinates" if config.coordinates else "")
    )


def get_warm_train_config(config: TrainConfig) -> TrainConfig:
    """``config`` with its planned steps and epochs cut to ``WARM_STEP_SHARE``."""
    return replace(
        config,
        max_epochs=max(1, math.ceil(config.max_epochs * WARM_STEP_SHARE)),
        min_steps=max(1, math.ceil(config.min_steps * WARM_STEP_SHARE)),
        max_steps=None
        if config.max_steps is None
        else max(1, math.ceil(config.max_steps * WARM_STEP_SHARE)),
    )


def train_warm(
    previous: Classifier | None,
    images: NDArray[np.uint8],
    labels: NDArray[np.integer[Any]],
    *,
    n_classes: int,
    model_config: ModelConfig,
    train_config: TrainConfig,
    progress: bool,
    previous_source: str = "the last round",
) -> TrainResult:
    """``train_model`` from ``previous`` shrunk and perturbed, for a share of the steps, when
    it fits; else from scratch. The result's ``start`` says which, and why."""
    start = plan_warm_start(
        previous,
        model_config,
        n_classes=n_classes,
        seed=train_config.seed,
        previous_source=previous_source,
    )
    trained = train_model(
        images,
        labels,
        n_classes=n_classes,
        model_config=model_config,
        train_config=get_warm_train_config(train_config) if start.used else train_config,
        progress=progress,
        initial_model=start.model,
    )
    return replace(trained, start=start.note)
