"""Greedy layer pruning (``docs/pruning.md``): remove, one at a time, the block whose removal
(after a short fine-tune) scores best on a held-out selection part of the training labels.

The labels are split 85/15 (stratified, shuffled) into a fine-tuning part and a selection
part; the test set is never looked at. Each step tries every remaining removable block, so
``n`` removals out of ``L`` blocks cost about ``n * L`` fine-tunes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from tqdm import tqdm

from generators.checks import check_int
from labeler.learning.fitting import split_validation
from labeler.learning.models import Classifier
from labeler.learning.training import evaluate_accuracy
from labeler.pruning.fine_tuning import FineTuneConfig, fine_tune
from labeler.pruning.surgery import check_prunable, list_blocks, remove_blocks

logger = logging.getLogger(__name__)

SELECTION_FRACTION = 0.15


@dataclass(frozen=True)
class PruneTarget:
    """When greedy pruning stops: after ``n_blocks`` removals, or before the first removal
    that would lower the selection accuracy by more than ``max_drop`` (a share, e.g. 0.01)
    below the unpruned model's. Exactly one of the two is given."""

    max_drop: float | None = None
    n_blocks: int | None = None

    def __post_init__(self) -> None:
        if (self.max_drop is None) == (self.n_blocks is None):
            raise ValueError("give exactly one pruning target: a maximum drop or a block count")
        if self.max_drop is not None and not 0.0 <= self.max_drop < 1.0:
            raise ValueError(f"max drop must be a share in [0, 1), got {self.max_drop!r}")
        if self.n_blocks is not None:
            check_int("the block count", self.n_blocks, low=1)

    def to_dict(self) -> dict[str, Any]:
        return {"max_drop": self.max_drop, "n_blocks": self.n_blocks}


@dataclass(frozen=True)
class GreedyStep:
    """One removal: the block (its name in the unpruned model), the selection accuracy after
    removing it and fine-tuning, every candidate's accuracy, fine-tunes and seconds spent."""

    removed: str
    selection_accuracy: float
    candidates: dict[str, float]
    n_fine_tunes: int
    seconds: float


@dataclass(frozen=True)
class GreedyResult:
    """The pruned model (fine-tuned, eval mode) and how the search went."""

    model: Classifier
    removed: list[str]
    steps: list[GreedyStep]
    baseline_selection_accuracy: float
    n_removable: int
    n_fine_tunes: int
    seconds: float
    fine_tune_ids: NDArray[np.int64] = field(repr=False)
    selection_ids: NDArray[np.int64] = field(repr=False)
    stopped_because: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "removed": self.removed,
            "n_removed": len(self.removed),
            "n_removable": self.n_removable,
            "baseline_selection_accuracy": self.baseline_selection_accuracy,
            "final_selection_accuracy": (
                self.steps[-1].selection_accuracy
                if self.steps
                else self.baseline_selection_accuracy
            ),
            "n_fine_tunes": self.n_fine_tunes,
            "seconds": self.seconds,
            "stopped_because": self.stopped_because,
            "steps": [
                {
                    "removed": step.removed,
                    "selection_accuracy": step.selection_accuracy,
                    "candidates": step.candidates,
                    "n_fine_tunes": step.n_fine_tunes,
                    "seconds": step.seconds,
                }
                for step in self.steps
            ],
        }


def split_for_selection(
    labels: NDArray[np.integer[Any]], *, seed: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """``(fine_tune_ids, selection_ids)`` into ``labels``: 85/15, stratified, shuffled."""
    return split_validation(labels, val_fraction=SELECTION_FRACTION, seed=seed)


def check_target(model: Classifier, target: PruneTarget) -> int:
    """The number of removable blocks of ``model`` (an untrained one of the same architecture
    will do), after checking that ``target`` can be reached: ValueError when there is nothing
    to remove or the target would remove every removable block."""
    network = check_prunable(model)
    n_removable = sum(ref.removable for ref in list_blocks(network))
    if n_removable == 0:
        raise ValueError(
            f"the model has no removable block (depth {network.config.depth}); train one with "
            "--depth 2 or more"
        )
    if target.n_blocks is not None and target.n_blocks >= n_removable:
        raise ValueError(
            f"removing {target.n_blocks} blocks would remove every removable block "
            f"({n_removable}) of the model; ask for at most {n_removable - 1}"
        )
    return n_removable


def run_greedy_pruning(
    model: Classifier,
    images: NDArray[np.uint8],
    labels: NDArray[np.integer[Any]],
    *,
    n_classes: int,
    target: PruneTarget,
    fine_tune_config: FineTuneConfig,
    seed: int = 0,
    progress: bool = True,
    on_step: Callable[[GreedyStep, Classifier], None] | None = None,
) -> GreedyResult:
    """Greedy layer pruning of trained ``model`` on its training ``images`` uint8 ``[n, H, W]``
    and ``labels [n]`` (see the module docstring). ``model`` is left as it was.

    Ties between candidates go to the later block (the first layers tend to matter most).
    ``on_step(step, model)`` is called after each removal with the pruned, fine-tuned model
    (e.g. to follow its test accuracy; it must not change the model).
    Raises ValueError when the target would remove every removable block.
    """
    network = check_prunable(model)
    n_removable = check_target(network, target)
    started = time.perf_counter()
    images = np.asarray(images)
    labels = np.asarray(labels)
    tune_ids, select_ids = split_for_selection(labels, seed=seed)
    tune_x, tune_y = images[tune_ids], labels[tune_ids]
    select_x, select_y = images[select_ids], labels[select_ids]
    device = fine_tune_config.device
    baseline = evaluate_accuracy(network, select_x, select_y, device=device)
    # Names in the unpruned model, in the current model's block order.
    current: Classifier = network
    original_names = [ref.name for ref in list_blocks(network)]
    steps: list[GreedyStep] = []
    removed: list[str] = []
    n_fine_tunes = 0
    stopped = ""
    n_goal = target.n_blocks if target.n_blocks is not None else n_removable - 1
    bar = tqdm(total=n_goal, desc="greedy pruning", unit="block", disable=not progress)
    try:
        while len(removed) < n_goal:
            step_started = time.perf_counter()
            refs = list_blocks(current)
            candidates: dict[str, float] = {}
            best: tuple[float, int, Classifier] | None = None
            for position, ref in enumerate(refs):
                if not ref.removable:
                    continue
                tuned = fine_tune(
                    remove_blocks(current, [ref.name]),
                    tune_x,
                    tune_y,
                    n_classes=n_classes,
                    config=fine_tune_config,
                )
                n_fine_tunes += 1
                accuracy = evaluate_accuracy(tuned, select_x, select_y, device=device)
                candidates[original_names[position]] = accuracy
                if best is None or (accuracy, position) >= (best[0], best[1]):
                    best = (accuracy, position, tuned)
            assert best is not None
            accuracy, position, tuned = best
            if target.max_drop is not None and baseline - accuracy > target.max_drop + 1e-12:
                stopped = (
                    f"the best next removal ({original_names[position]}) would drop the "
                    f"selection accuracy from {baseline:.4f} to {accuracy:.4f}, more than "
                    f"{target.max_drop}"
                )
                break
            name = original_names.pop(position)
            removed.append(name)
            current = tuned
            steps.append(
                GreedyStep(
                    removed=name,
                    selection_accuracy=accuracy,
                    candidates=candidates,
                    n_fine_tunes=len(candidates),
                    seconds=time.perf_counter() - step_started,
                )
            )
            logger.info("removed %s: selection accuracy %.4f", name, accuracy)
            if on_step is not None:
                on_step(steps[-1], current)
            bar.update(1)
            bar.set_postfix(removed=name, acc=f"{accuracy:.3f}")
        else:
            stopped = (
                f"removed the {n_goal} blocks asked for"
                if target.n_blocks is not None
                else "one removable block is left"
            )
    finally:
        bar.close()
    return GreedyResult(
        model=current,
        removed=removed,
        steps=steps,
        baseline_selection_accuracy=baseline,
        n_removable=n_removable,
        n_fine_tunes=n_fine_tunes,
        seconds=time.perf_counter() - started,
        fine_tune_ids=tune_ids,
        selection_ids=select_ids,
        stopped_because=stopped,
    )
