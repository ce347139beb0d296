"""Fixed rules that greedy layer pruning is compared with: which ``k`` removable blocks to drop.

- ``last``: the last ``k`` removable blocks ("drop the top k layers");
- ``random``: ``k`` removable blocks drawn at random;
- ``entropy``: the ``k`` with the highest bundle entropy of their residual branch (the most
  conflicting), ties to the fewest bundles, then to the later block;
- ``lesion``: the ``k`` whose lesion alone (no fine-tune) lowers the selection accuracy least,
  ties to the later block.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labeler.learning.models import Classifier
from labeler.learning.training import TrainConfig, evaluate_accuracy
from labeler.pruning.analysis import analyze_model, pick_samples
from labeler.pruning.bundles import BundleStats
from labeler.pruning.fine_tuning import FineTuneConfig, fine_tune
from labeler.pruning.layer_outputs import BRANCH_SUFFIX
from labeler.pruning.surgery import lesion_blocks, list_blocks, remove_blocks

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


def compare_rules(
    model: Classifier,
    images: NDArray[np.uint8],
    labels: NDArray[np.integer[Any]],
    *,
    n_classes: int,
    split: tuple[NDArray[np.int64], NDArray[np.int64]],
    k: int,
    fine_tune_config: FineTuneConfig,
    n_steps: int,
    n_random: int,
    n_samples: int,
    train_config: TrainConfig,
    seed: int,
    evaluate: Callable[[Classifier], float | None],
) -> list[dict[str, Any]]:
    """Each fixed rule's ``k`` blocks of trained ``model``, cut at once and fine-tuned for
    ``n_steps`` (as many as greedy's kept path had) on the fine-tuning part of ``split``
    (``(fine_tune_ids, selection_ids)`` into ``images``/``labels``), then scored by
    ``evaluate`` (e.g. test accuracy). Bundles are measured on ``n_samples`` of the
    fine-tuning part at the training lr and batch; lesions are ranked on the selection part.
    Rows: ``{"rule", "removed", "test_accuracy"}``, random draws named ``random-1``...
    """
    tune_ids, select_ids = split
    labels = np.asarray(labels)
    picked = tune_ids[pick_samples(labels[tune_ids], n_samples=n_samples, seed=seed)]
    stats = analyze_model(
        model, images[picked], labels[picked], lr=train_config.lr,
        batch_size=train_config.batch_size,
    ).layers  # fmt: skip
    lesion_accuracy = rank_by_lesion(model, images[select_ids], labels[select_ids])
    rng = np.random.default_rng(seed)
    choices = [("last", choose_last(model, k))]
    choices += [
        (f"random-{draw + 1}", choose_random(model, k, rng=rng)) for draw in range(n_random)
    ]
    choices += [
        ("entropy", choose_by_entropy(model, stats, k)),
        ("lesion", choose_by_lesion(lesion_accuracy, model, k)),
    ]
    rows = []
    for rule, names in choices:
        tuned = fine_tune(
            remove_blocks(model, names),
            images[tune_ids],
            labels[tune_ids],
            n_classes=n_classes,
            config=fine_tune_config,
            n_steps=n_steps,
        )
        rows.append({"rule": rule, "removed": names, "test_accuracy": evaluate(tuned)})
    return rows
