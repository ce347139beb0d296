"""The block lesion study (``docs/pruning.md``): test accuracy of a trained residual network
when ``k`` of its blocks pass on their shortcut path only, for blocks drawn from the
conflicting ones, the non-conflicting ones and all of them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
from numpy.typing import NDArray
from tqdm import tqdm

from labeler.learning.models import Classifier
from labeler.learning.training import evaluate_accuracy
from labeler.pruning.surgery import check_prunable, lesion_blocks, list_blocks

LESION_GROUPS = ("conflicting", "non_conflicting", "all")


@dataclass(frozen=True)
class LesionPoint:
    """Accuracy over the draws with ``k`` blocks of ``group`` lesioned."""

    group: str
    k: int
    n_draws: int
    mean_accuracy: float
    std_accuracy: float
    accuracies: list[float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "k": self.k,
            "n_draws": self.n_draws,
            "mean_accuracy": self.mean_accuracy,
            "std_accuracy": self.std_accuracy,
            "accuracies": self.accuracies,
        }


def run_lesion_study(
    model: Classifier,
    images: NDArray[np.uint8],
    labels: NDArray[np.integer[Any]],
    *,
    conflicting: set[str],
    n_draws: int = 15,
    max_k: int | None = None,
    rng: np.random.Generator,
    device: str = "auto",
    progress: bool = True,
) -> tuple[float, list[LesionPoint]]:
    """``(intact accuracy, points)`` on test ``images`` uint8 ``[n, H, W]`` and ``labels``.

    For each group and ``k = 1 .. min(group size, max_k)``, ``n_draws`` random sets of ``k``
    blocks (every set, when there are no more than ``n_draws``) are lesioned together.
    ``conflicting``: names of the blocks whose residual branch has bundle entropy above 0.
    """
    network = check_prunable(model)
    refs = list_blocks(network)
    if not all(ref.residual for ref in refs):
        raise ValueError("the lesion study needs a residual network (model 'resnet')")
    names = [ref.name for ref in refs]
    unknown = sorted(conflicting - set(names))
    if unknown:
        raise ValueError(f"unknown conflicting blocks {unknown}; blocks: {', '.join(names)}")
    if n_draws < 1:
        raise ValueError(f"n_draws must be at least 1, got {n_draws}")
    groups = {
        "conflicting": [name for name in names if name in conflicting],
        "non_conflicting": [name for name in names if name not in conflicting],
        "all": names,
    }
    intact = evaluate_accuracy(network, images, labels, device=device)
    plan = [
        (group, k)
        for group, members in groups.items()
        for k in range(1, min(len(members), max_k or len(members)) + 1)
    ]
    points = []
    for group, k in tqdm(plan, desc="lesions", unit="set size", disable=not progress):
        members = groups[group]
        accuracies = [
            evaluate_accuracy(lesion_blocks(network, chosen), images, labels, device=device)
            for chosen in _draw_sets(members, k, n_draws=n_draws, rng=rng)
        ]
        points.append(
            LesionPoint(
                group=group,
                k=k,
                n_draws=len(accuracies),
                mean_accuracy=float(np.mean(accuracies)),
                std_accuracy=float(np.std(accuracies)),
                accuracies=accuracies,
            )
        )
    return intact, points


def _draw_sets(
    members: list[str], k: int, *, n_draws: int, rng: np.random.Generator
) -> list[list[str]]:
    if math.comb(len(members), k) <= n_draws:
        return [list(chosen) for chosen in combinations(members, k)]
    return [
        [members[index] for index in sorted(rng.choice(len(members), size=k, replace=False))]
        for _ in range(n_draws)
    ]
