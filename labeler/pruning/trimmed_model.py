"""The trimmed model a project's rounds can score with (``labeler prune apply`` writes it,
``labeler round --scoring-model pruned`` uses it).

``PROJECT/pruning/pruned.pt`` is a regular checkpoint of the pruned network; its ``extra``
holds the plan: the architecture it was cut from, the blocks removed (their names in that
architecture) and the fine-tune that followed. A round that scores with it trains its full
model as usual, removes the same blocks from it, fine-tunes the result the same way and scores
the pool with that: the cut stays the one pruning chose, the weights follow the new labels.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labeler.learning.checkpoints import load_checkpoint, save_checkpoint
from labeler.learning.models import Classifier, ModelConfig
from labeler.pruning.fine_tuning import FineTuneConfig, fine_tune
from labeler.pruning.surgery import list_blocks, remove_blocks
from labeler.store.project_files import get_pruned_checkpoint

SCORING_MODELS = ("full", "pruned")


@dataclass(frozen=True)
class PruningPlan:
    """What ``prune apply`` chose: cut ``removed_blocks`` from ``source_config``, then
    fine-tune with ``fine_tune`` for ``n_fine_tune_steps`` steps."""

    checkpoint: Path
    source_config: ModelConfig
    removed_blocks: list[str]
    fine_tune: FineTuneConfig
    n_fine_tune_steps: int

    def describe(self) -> dict[str, Any]:
        """JSON-ready summary for reports and status."""
        n_blocks = sum(self.source_config.get_stage_depths())
        return {
            "kind": "pruned",
            "checkpoint": str(self.checkpoint),
            "n_blocks": n_blocks - len(self.removed_blocks),
            "n_blocks_unpruned": n_blocks,
            "removed_blocks": list(self.removed_blocks),
        }


def save_pruned_model(
    path: str | os.PathLike[str],
    model: Classifier,
    *,
    source_config: ModelConfig,
    removed_blocks: Sequence[str],
    fine_tune_config: FineTuneConfig,
    n_fine_tune_steps: int,
    class_names: Sequence[str],
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write the pruned ``model`` and its plan to checkpoint ``path`` (folder created)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    plan = {
        "source_model": source_config.to_dict(),
        "removed_blocks": list(removed_blocks),
        "fine_tune": fine_tune_config.to_dict(),
        "n_fine_tune_steps": int(n_fine_tune_steps),
    }
    return save_checkpoint(
        target,
        model,
        model_config=model.config,
        n_classes=model.n_classes,
        class_names=class_names,
        extra={**(extra or {}), "pruning": plan},
    )


def load_pruning_plan(project_path: str | os.PathLike[str]) -> PruningPlan:
    """The plan in ``PROJECT/pruning/pruned.pt``; ValueError saying how to make one when it is
    missing, and naming the file when it is unreadable."""
    path = get_pruned_checkpoint(project_path)
    if not path.is_file():
        raise ValueError(
            f"no pruned model at {path}: run `labeler prune greedy PROJECT` and then "
            "`labeler prune apply PROJECT` first"
        )
    _, info = load_checkpoint(path)
    try:
        plan = info.extra["pruning"]
        return PruningPlan(
            checkpoint=path,
            source_config=ModelConfig.from_dict(dict(plan["source_model"])),
            removed_blocks=[str(name) for name in plan["removed_blocks"]],
            fine_tune=FineTuneConfig.from_dict(dict(plan["fine_tune"])),
            n_fine_tune_steps=int(plan["n_fine_tune_steps"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path} holds no usable pruning plan: {error}") from error


def check_plan_fits(plan: PruningPlan, model_config: ModelConfig) -> None:
    """ValueError unless a round training ``model_config`` can be cut by ``plan``."""
    if model_config != plan.source_config:
        source = plan.source_config
        raise ValueError(
            f"the pruned model in {plan.checkpoint} was cut from a {source.name} network "
            f"(depth {source.depth}, width {source.width}, {source.image_size} px), but this "
            f"round trains {model_config.name} depth {model_config.depth} width "
            f"{model_config.width} at {model_config.image_size} px: run the round with "
            f"--model {source.name} --depth {source.depth} --width {source.width} "
            f"--image-size {source.image_size} --dropout {source.dropout}, or prune again"
        )


def make_scoring_model(
    model: Classifier,
    images: NDArray[np.uint8],
    labels: NDArray[np.integer[Any]],
    *,
    plan: PruningPlan,
    n_threads: int | None = None,
    device: str | None = None,
) -> Classifier:
    """Cut ``plan``'s blocks from freshly trained ``model`` and fine-tune the rest on the
    round's labeled ``images`` uint8 ``[n, H, W]`` and ``labels [n]``."""
    check_plan_fits(plan, model.config)
    known = {ref.name for ref in list_blocks(model)}
    missing = [name for name in plan.removed_blocks if name not in known]
    if missing:
        raise ValueError(f"the pruning plan names blocks {missing} that the model lacks")
    config = plan.fine_tune
    if n_threads is not None:
        config = dataclasses.replace(config, n_threads=n_threads)
    if device is not None:
        config = dataclasses.replace(config, device=device)
    return fine_tune(
        remove_blocks(model, plan.removed_blocks),
        images,
        labels,
        n_classes=model.n_classes,
        config=config,
        n_steps=plan.n_fine_tune_steps,
    )
