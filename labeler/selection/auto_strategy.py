"""``--strategy auto``: coverage while labels are few, uncertainty with diversity after.

Before every class has a label, a model cannot point at the classes it has never seen, and
picks that cover the pool (``max_herding`` on an embedding, the labels so far counted as
covering their neighbourhoods) find them; once every class holds a label, margin sampling
spread by k-center over the scored images' features takes over. The switch comes at
``SWITCH_LABELS_PER_CLASS`` labels in the class with fewest, measured by
``bench/first_labels.py`` against switching at 2, 4 or never (``bench/results/
first_labels.md``, the ``ours-switch-*`` and ``ours-cover`` rows, 3 seeds): switching at once
led on the font glyphs and on SVRT 11 at 4-8 labels per class (0.777 against 0.677 at 4);
switching at 2 or 4 led on SVRT 4 at 2-4 per class (0.868 against 0.738 at 4), on the colour
folder at 4-16 and orientation at 4-8. Counted against the best peer each way reached 19 of
the 30 cells (never switching 17): no switch leads everywhere, and this one is where a model
first exists. TypiClust in place of ``max_herding`` for the coverage picks reached 13 of the 30
(0.469 against 0.527 on the colour folder at 1 per class), and BADGE in place of margin with
k-center 17 (SVRT 4 0.605 against 0.738 at 4 per class).

``plan_auto_strategy`` decides from the labels alone; ``select_by_coverage`` makes the coverage
picks. A round and a simulation apply both the same way.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from labeler.selection.cold_start import get_cold_start
from labeler.selection.strategies import SelectionConfig

COVERAGE = "max_herding"
UNCERTAINTY = "margin"
UNCERTAINTY_DIVERSITY = "kcenter"
SWITCH_LABELS_PER_CLASS = 1


@dataclass(frozen=True)
class AutoStrategy:
    """What ``auto`` does for one batch: ``strategy`` (``COVERAGE`` or ``UNCERTAINTY``), the
    ``diversity`` that goes with it, and the ``reason`` in one sentence (for the report)."""

    strategy: str
    diversity: str
    reason: str

    @property
    def covers(self) -> bool:
        return self.strategy == COVERAGE


def plan_auto_strategy(
    labels: NDArray[np.int64], *, n_classes: int, switch: int = SWITCH_LABELS_PER_CLASS
) -> AutoStrategy:
    """The strategy ``auto`` uses for the next batch, given the ``labels`` so far (int
    ``[n_labels]``): coverage while some class holds fewer than ``switch`` labels."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=n_classes)
    fewest = int(counts.min()) if counts.size else 0
    if fewest < switch:
        return AutoStrategy(
            COVERAGE,
            "none",
            f"{COVERAGE}: the fewest labels of a class ({fewest}) are below {switch}; "
            "covering the pool finds the classes a model has not seen",
        )
    return AutoStrategy(
        UNCERTAINTY,
        UNCERTAINTY_DIVERSITY,
        f"{UNCERTAINTY} with {UNCERTAINTY_DIVERSITY} diversity: every class holds at least "
        f"{switch} label{'' if switch == 1 else 's'}",
    )


def get_uncertainty_selection(selection: SelectionConfig) -> SelectionConfig:
    """``selection`` in the uncertainty phase of ``auto`` (margin with k-center diversity): how
    the pool is scored whatever the phase, and how the batch is chosen once it is past
    coverage."""
    return dataclasses.replace(selection, strategy=UNCERTAINTY, diversity=UNCERTAINTY_DIVERSITY)


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
