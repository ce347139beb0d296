"""Warm-started rounds: a network trained on from the last round's weights, for a fraction of a
fresh model's steps.

Training a network again from the weights that fit the last labels is quicker than from
scratch. Ash & Adams (2020) report that a plain warm start generalizes worse, and propose
"shrink and perturb": every parameter becomes ``SHRINK * previous + PERTURB * fresh``, with
``fresh`` a new random initialization (batch-norm statistics are kept as they were). Both are
built here; the constants choose. The warm model trains for ``WARM_STEP_SHARE`` of the planned
steps and epochs.

Measured (``bench/warm_start.py``: margin sampling with ``--model resnet``, 50 labels a round to
500, 3 seeds, scratch and warm in the same process; ``bench/results/warm_start.md``), training
simply carried on (``SHRINK`` 1, ``PERTURB`` 0, a third of the steps), from scratch while half
the labels or more are new since the last network (``SCRATCH_NEW_SHARE``; with 50 labels a
round, the second round), is the best of the settings tried. It is never below scratch beyond
the seeds' spread, at 30 of 30 budgets, and above it at 14: SVRT 4 0.995 against 0.940 at 500
labels, orientation 1.000 as from scratch, counting 0.952 against 0.724; 2.0-2.2x less time.

- Carried on from the second round (``warm_start_second_round.md``): 2.3x less time, but
  counting fell 5.5 and 2.5 points below scratch at 100 and 150 labels (the weights of 50
  labels, trained on briefly, fit 100 worse than fresh ones), and reached 0.927 at 500.
- A fifth of the steps, from the second round (``warm_start_fifth.md``): 2.9-3.5x less time,
  but counting below scratch from 100 to 200 labels and 0.821 at 500.
- Shrunk by 0.4 and perturbed by 0.1 (Ash & Adams's setting; ``warm_start_shrink.md``): SVRT 4
  0.974 at 500, orientation the same, but counting fell round after round (0.471 at 500).
- Shares below a third with the shrink fell to chance at 100-150 labels on SVRT 4 (a fifth),
  or gave back the warm gain (a fifth from ``0.8 * previous + 0.01 * fresh``: 0.93 against
  0.98 at 150 labels); a share that follows the share of new labels (a third down to a tenth)
  lost accuracy round after round (0.624 against 0.912 at 500 labels).

The first two rounds train from scratch in either mode and every round also scores the pool,
so ten rounds at a third of the steps stay near 2x: the 3x target is not met, and warm starts
stay off unless asked for (``--warm-start``).

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

SHRINK = 1.0
PERTURB = 0.0
# A warm model trains for this share of a fresh one's planned steps and epochs.
WARM_STEP_SHARE = 1 / 3
# While at least this share of the labels is new since the last network (the first rounds, as
# labels double), the round trains from scratch: the old weights fit too little of the set.
SCRATCH_NEW_SHARE = 0.5


@dataclass(frozen=True)
class WarmStart:
    """The model a round starts from (None: a fresh one) and one sentence saying why."""

    model: Classifier | None
    note: str

    @property
    def used(self) -> bool:
        return self.model is not None


def shrink_perturb(
    previous: Classifier, fresh: Classifier, *, shrink: float, perturb: float
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
    n_labels: int | None = None,
    n_previous_labels: int | None = None,
) -> WarmStart:
    """A copy of ``previous`` (as it is, or mixed with a fresh model as ``SHRINK`` and
    ``PERTURB`` say, the fresh part seeded by ``seed``) for a round of ``model_config`` with
    ``n_classes``, or none, with the reason. ``n_labels`` and ``n_previous_labels`` (the labels
    this round and the previous network trained on, when known) send the round to scratch
    while ``SCRATCH_NEW_SHARE`` or more of them are new."""
    if previous is None:
        return WarmStart(None, f"from scratch: {previous_source} has no network to start from")
    if previous.config != model_config or previous.n_classes != n_classes:
        return WarmStart(
            None,
            f"from scratch: {previous_source}'s network ({_describe(previous.config)}, "
            f"{previous.n_classes} classes) does not fit the one asked for "
            f"({_describe(model_config)}, {n_classes} classes)",
        )
    if n_labels is not None and n_previous_labels is not None:
        n_new = n_labels - n_previous_labels
        if n_new >= SCRATCH_NEW_SHARE * n_labels:
            return WarmStart(
                None,
                f"from scratch: {n_new} of the {n_labels} labels are new since "
                f"{previous_source}'s network ({SCRATCH_NEW_SHARE:.0%} or more)",
            )
    trained_for = f"trained on for {WARM_STEP_SHARE:.0%} of the steps"
    if SHRINK == 1.0 and PERTURB == 0.0:  # carried on as they are: no fresh model to mix in
        note = f"warm: {previous_source}'s weights, {trained_for}"
        return WarmStart(deepcopy(previous.cpu()), note)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        fresh = make_model(model_config, n_classes=n_classes)
    return WarmStart(
        shrink_perturb(previous.cpu(), fresh, shrink=SHRINK, perturb=PERTURB),
        f"warm: {previous_source}'s weights shrunk by {SHRINK:g} and perturbed by {PERTURB:g} "
        f"of a fresh initialization, {trained_for}",
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
    n_previous_labels: int | None = None,
) -> TrainResult:
    """``train_model`` from ``previous`` (which trained on ``n_previous_labels``, when known),
    for a share of the steps, when ``plan_warm_start`` takes it; else from scratch. The
    result's ``start`` says which, and why."""
    start = plan_warm_start(
        previous,
        model_config,
        n_classes=n_classes,
        seed=train_config.seed,
        previous_source=previous_source,
        n_labels=len(labels),
        n_previous_labels=n_previous_labels,
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
