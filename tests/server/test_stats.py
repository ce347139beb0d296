"""Annotator figures from the activity log, checked by hand."""

from __future__ import annotations

from labeler.store.database import Activity
from server.stats import get_annotator_stats


def test_labels_skips_undos_and_the_median_pace() -> None:
    activity = [
        Activity(100.0, "ann", "label", 1, False),
        Activity(102.0, "ann", "label", 2, True),  # later undone
        Activity(103.0, "bob", "label", 3, False),
        Activity(106.0, "ann", "skip", 4, False),
        Activity(107.0, "ann", "label", 5, False),
        Activity(2000.0, "ann", "label", 6, False),  # after a break: not a labeling gap
    ]
    stats = get_annotator_stats(activity)
    # ann's gaps: 2, 4, 1 (the 1893 s break is left out): median 2.
    assert stats["ann"] == {"labels": 3, "skips": 1, "retracted": 1, "median_seconds": 2.0}
    assert stats["bob"] == {"labels": 1, "skips": 0, "retracted": 0, "median_seconds": None}
