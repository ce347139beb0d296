"""``--strategy auto``: coverage while labels are few, then half uncertainty, half coverage.

Before every class has a label, a model cannot point at the classes it has never seen, and
picks that cover the pool (``max_herding`` on an embedding, the labels so far counted as
covering their neighbourhoods) find them. Once every class holds a label
(``SWITCH_LABELS_PER_CLASS``), each batch is mixed: ``UNCERTAINTY_SHARE`` (half) by margin
sampling spread by k-center over the scored images' features, the rest by coverage, which
counts the uncertainty picks as covered; the two are interleaved in the queue.

Why mixed: no one strategy leads on every data set (``bench/results/first_labels.md``, 3
seeds). Margin for the whole batch led on SVRT 11 (0.849 against 0.805 for coverage at 8
labels per class) and SVRT 4 (0.920 against 0.861 at 8) but fell behind coverage on the colour
folder (0.628 against 0.678 at 8), orientation (0.952 against 0.979 at 8) and counting (0.598
against 0.634 at 16). On those six sets half and half reached 20 of the 30 cells at or above
the best peer, as margin alone did (accuracy summed over budgets and sets 22.31 against
22.39); the mixed batches from 2 or 4 labels per class 19, coverage throughout 17. On five sets
no default was chosen on (``bench/results/first_labels_heldout.md``: scikit-learn's digits,
the glyphs of the digits, SVRT 2, 8 and 15) half and half reached 19 of 25 cells, margin alone
16 (20.06 against 19.89; SVRT 8 at 4 per class 0.737 against 0.605): the mixed batches carry
over better, at a cost on SVRT 11 (0.794 against 0.849 at 8) and on SVRT 2 at 2 per class
(0.766 against 0.870). In trials of the same bench two thirds by margin and TypiClust as the
covering half did no better.
TypiClust in place of ``max_herding`` for the coverage picks of the first batches reached 13
of the 30 (0.469 against 0.527 on the colour folder at 1 per class), and BADGE in place of
margin with k-center 17.

``plan_auto_strategy`` decides from the labels alone; ``select_mixed`` splits a batch and
``select_by_coverage`` makes the coverage picks. A round and a simulation apply them the same
way.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from labeler.selection.cold_start import get_cold_start
from labeler.selection.strategies import SelectionConfig

COVERAGE = "max_herding"
UNCERTAINTY = "margin"
UNCERTAINTY_DIVERSITY = "kcenter"
SWITCH_LABELS_PER_CLASS = 1
# Past the switch, the share of each batch picked by uncertainty; coverage picks the rest.
UNCERTAINTY_SHARE = 0.5


@dataclass(frozen=True)
class AutoStrategy:
    """What ``auto`` does for one batch: ``strategy`` (``COVERAGE`` or ``UNCERTAINTY``), the
    ``diversity`` that goes with it, the ``uncertainty_share`` of the batch picked by
    uncertainty (0 while it covers; the rest of the batch is covered), and the ``reason`` in
    one sentence (for the report)."""

    strategy: str
    diversity: str
    reason: str
    uncertainty_share: float = 1.0

    @property
    def covers(self) -> bool:
        """Whether the whole batch comes from coverage."""
        return self.strategy == COVERAGE

    def split(self, n_select: int) -> tuple[int, int]:
        """``(by uncertainty, by coverage)`` picks of a batch of ``n_select``: the share
        rounded half up, so a batch of one is uncertain from a share of one half."""
        if self.covers:
            return 0, n_select
        n_uncertain = min(n_select, math.floor(n_select * self.uncertainty_share + 0.5))
        return n_uncertain, n_select - n_uncertain


def plan_auto_strategy(
    labels: NDArray[np.int64],
    *,
    n_classes: int,
    switch: int = SWITCH_LABELS_PER_CLASS,
    uncertainty_share: float = UNCERTAINTY_SHARE,
) -> AutoStrategy:
    """The strategy ``auto`` uses for the next batch, given the ``labels`` so far (int
    ``[n_labels]``): coverage while some class holds fewer than ``switch`` labels; after,
    uncertainty for ``uncertainty_share`` (in (0, 1]) of the batch and coverage for the rest."""
    if not 0.0 < uncertainty_share <= 1.0:
        raise ValueError(f"uncertainty_share must be in (0, 1], got {uncertainty_share}")
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=n_classes)
    fewest = int(counts.min()) if counts.size else 0
    if fewest < switch:
        return AutoStrategy(
            COVERAGE,
            "none",
            f"{COVERAGE}: the fewest labels of a class ({fewest}) are below {switch}; "
            "covering the pool finds the classes a model has not seen",
            uncertainty_share=0.0,
        )
    return AutoStrategy(
        UNCERTAINTY,
        UNCERTAINTY_DIVERSITY,
        f"{UNCERTAINTY} with {UNCERTAINTY_DIVERSITY} diversity for {uncertainty_share:.0%} of "
        f"the batch, {COVERAGE} coverage for the rest: every class holds at least {switch} "
        f"label{'' if switch == 1 else 's'}",
        uncertainty_share=uncertainty_share,
    )


def interleave(first: NDArray[np.int64], second: NDArray[np.int64]) -> NDArray[np.int64]:
    """``first`` and ``second`` (each in its own order) merged so that every prefix holds
    them in about their proportion, ``first``'s picks first at ties: a queue labeled only in
    part still gets both kinds."""
    n_first, n_second = first.shape[0], second.shape[0]
    # The k-th pick of each list sits at the middle of its k-th share of the whole.
    keys = np.concatenate(
        [
            (np.arange(n_first) + 0.5) / max(n_first, 1),
            (np.arange(n_second) + 0.5) / max(n_second, 1),
        ]
    )
    order = np.argsort(keys, kind="stable")
    return np.concatenate([first, second]).astype(np.int64)[order]


def select_mixed(
    auto: AutoStrategy,
    n_select: int,
    *,
    by_uncertainty: Callable[[int], NDArray[np.int64]],
    by_coverage: Callable[[NDArray[np.int64], int], NDArray[np.int64]],
) -> NDArray[np.int64]:
    """A batch of ``n_select`` split as ``auto`` says: ``by_uncertainty(n)`` picks its part
    first, then ``by_coverage(taken, n)`` the rest, counting ``taken`` (the uncertainty picks)
    as covered; the two interleaved (``interleave``)."""
    n_uncertain, n_cover = auto.split(n_select)
    none = np.zeros(0, dtype=np.int64)
    uncertain = by_uncertainty(n_uncertain) if n_uncertain else none
    covered = by_coverage(uncertain, n_cover) if n_cover else none
    return interleave(np.asarray(uncertain, dtype=np.int64), np.asarray(covered, dtype=np.int64))


def get_uncertainty_selection(
    selection: SelectionConfig, query_size: int | None = None
) -> SelectionConfig:
    """``selection`` in the uncertainty phase of ``auto`` (margin with k-center diversity), for
    ``query_size`` picks (None: its own): how the pool is scored whatever the phase, and how
    the uncertainty part of a batch is chosen once it is past coverage."""
    return dataclasses.replace(
        selection,
        strategy=UNCERTAINTY,
        diversity=UNCERTAINTY_DIVERSITY,
        query_size=selection.query_size if query_size is None else query_size,
    )


def select_by_coverage(
    vectors: NDArray[np.float32],
    labeled_rows: NDArray[np.int64],
    n_select: int,
    *,
    rng: np.random.Generator,
) -> NDArray[np.int64]:
    """``n_select`` rows of ``vectors`` (``[n_rows, dim]``, labeled rows included) that best
    cover what ``labeled_rows`` leave uncovered, first pick first."""
    return get_cold_start(COVERAGE)(vectors, n_select, labeled=labeled_rows, seed=rng)
