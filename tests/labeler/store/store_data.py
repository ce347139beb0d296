"""Small projects for the store's tests: classes, samples, and a round finished by hand."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from labeler.store.database import DATABASE_NAME, NewSample, ProjectStore

CLASSES = ("cat", "dog", "fox")
# Subprocesses run from the repository root, so that they import this checkout's labeler.
REPO_ROOT = Path(__file__).resolve().parents[3]
N_POOL = 12
N_TEST = 4


def make_samples() -> list[NewSample]:
    pool = [NewSample(f"pool/{index:03d}.png", "pool", index % 3) for index in range(N_POOL)]
    test = [NewSample(f"test/{index:03d}.png", "test", index % 3) for index in range(N_TEST)]
    return pool + test


def finish(store: ProjectStore, round_id: int, selected: list[int], **overrides) -> None:
    scored = store.get_unlabeled_ids()
    arguments = {
        "folder": f"rounds/round-{round_id:04d}",
        "n_labels": 3,
        "val_accuracy": 0.5,
        "test_accuracy": 0.25,
        "scored_ids": scored,
        "scores": scored / 100.0,
        "selected_ids": selected,
    }
    arguments.update(overrides)
    store.finish_round(round_id, **arguments)


def queue_round(store: ProjectStore, selected: list[int]) -> int:
    round_id = store.start_round(strategy="margin", query_size=len(selected), config={})
    finish(store, round_id, selected)
    return round_id


def make_older_database(folder: Path, statements: Iterable[str]) -> Path:
    """A database made now, then taken back to an older schema by ``statements`` (run
    outside the store, as an older labeler left it); returns its path."""
    path = folder / DATABASE_NAME
    ProjectStore.create(path, class_names=CLASSES, samples=make_samples()).close()
    raw = sqlite3.connect(path, isolation_level=None)
    # Every older schema lacks the review tables of version 5 and the grid table of version 6.
    version_5 = (
        "DROP TABLE grid_labels",
        "DROP VIEW live_gold_answers",
        "DROP TABLE gold_retractions",
        "DROP TABLE gold_answers",
    )
    for statement in ("DROP TABLE reviews", "DROP TABLE review_answers", *version_5, *statements):
        raw.execute(statement)
    raw.close()
    return path
