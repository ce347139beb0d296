"""Fixed rules that greedy layer pruning is compared with: which ``k`` removable blocks to drop.

- ``last``: the last ``k`` removable blocks ("drop the top k layers");
- ``random``: ``k`` removable blocks drawn at random;
- ``entropy``: the ``k`` with the highest bundle entropy of their residual branch (the most
  conflicting), ties to the fewest bundles, then to the later block;
- ``lesion``: the ``k`` whose lesion alone (no fine-tune) lowers the selection accuracy least,
  ties to the later block.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from labeler.learning.models import Classifier
from labeler.learning.training import evaluate_accuracy
from labeler.pruning.bundles import BundleStats
from labeler.pruning.layer_outputs import BRANCH_SUFFIX
from labeler.pruning.surgery import lesion_blocks, list_blocks

BASELINE_RULES = ("last", "random", "entropy", "lesion")


def list_removable(model: Classifier) -> list[str]:
    return [ref.name for ref in list_blocks(model) if ref.removable]


def choose_last(model: Classifier, k: int) -> list[str]:
    """The last ``k`` removable blocks, in forward order."""
    return list_removable(model)[len(list_removable(model)) - k :]


def choose_random(model: Classifier, k: int, *, rng: np.random.Generator) -> list[str]:
    """``k`` removable blocks drawn without replacement, in forward order."""
    names = list_removable(model)
    picks = rng.choice(len(names), size=k, replace=False)
    return [names[index] for index in sorted(picks)]


def choose_by_entropy(model: Classifier, stats: dict[str, BundleStats], k: int) -> list[str]:
    """The ``k`` removable blocks whose residual branches conflict most (``stats`` from
    ``measure_layers`` on training samples), in forward order."""
    names = list_removable(model)
    order = {name: position for position, name in enumerate(names)}
    missing = [name for name in names if name + BRANCH_SUFFIX not in stats]
    if missing:
        raise ValueError(f"no bundle measurement of the branches of {missing}")

    def rank(name: str) -> tuple[float, int, int]:
        branch = stats[name + BRANCH_SUFFIX]
        return (-branch.entropy, branch.n_bundles, -order[name])

    return sorted(sorted(names, key=rank)[:k], key=order.__getitem__)


def rank_by_lesion(
    model: Classifier,
    images: NDArray[np.uint8],
    labels: NDArray[np.integer[Any]],
    *,
    device: str = "auto",
) -> dict[str, float]:
    """Accuracy on ``images``/``labels`` with each removable block lesioned alone, by name."""
    return {
        name: evaluate_accuracy(lesion_blocks(model, [name]), images, labels, device=device)
        for name in list_removable(model)
    }


def choose_by_lesion(lesion_accuracy: dict[str, float], model: Classifier, k: int) -> list[str]:
    """The ``k`` removable blocks whose lone lesion kept the most accuracy, in forward order."""
    names = list_removable(model)
    order = {name: position for position, name in enumerate(names)}
    ranked = sorted(names, key=lambda name: (-lesion_accuracy[name], -order[name]))
    return sorted(ranked[:k], key=order.__getitem__)
