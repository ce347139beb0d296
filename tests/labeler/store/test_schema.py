"""Schema versions: older databases are upgraded when opened."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from labeler.store.database import SCHEMA_VERSION, ProjectStore, RemoteTask
from tests.labeler.store.store_data import make_older_database


def test_a_version_1_database_is_upgraded_on_open(tmp_path: Path) -> None:
    path = make_older_database(
        tmp_path,
        (
            "DROP TABLE remote_tasks",
            "DROP TABLE remote_annotations",
            "DROP VIEW live_label_events",
            "DROP TABLE skips",
            "DROP TABLE retractions",
            "DROP TABLE lease_conflicts",
            "DROP TABLE annotators",
            "DROP INDEX queue_by_holder",
            "DROP INDEX queue_by_lease_end",
            "INSERT INTO label_events (sample_id, label, annotator, source, created_at) "
            "VALUES (2, 1, 'old', 'cli', 1.0)",
            "PRAGMA user_version = 1",
        ),
    )
    with ProjectStore.open(path) as upgraded:
        assert upgraded.count_labels()["dog"] == 1
        assert upgraded.undo_last_label("old") is not None
        assert upgraded.count_labels()["dog"] == 0
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def test_a_version_3_database_drops_its_scores_table(tmp_path: Path) -> None:
    path = make_older_database(
        tmp_path,
        (
            "CREATE TABLE scores (round_id INTEGER NOT NULL, sample_id INTEGER NOT NULL, "
            "score REAL NOT NULL, PRIMARY KEY (round_id, sample_id)) WITHOUT ROWID",
            "PRAGMA user_version = 3",
        ),
    )
    ProjectStore.open(path).close()
    raw = sqlite3.connect(path)
    tables = {name for (name,) in raw.execute("SELECT name FROM sqlite_master")}
    assert "scores" not in tables and "queue" in tables
    assert raw.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,) == (6,)
    assert {"reviews", "review_answers", "grid_labels"} <= tables


def test_a_version_2_database_gets_the_remote_tables(tmp_path: Path) -> None:
    path = make_older_database(
        tmp_path,
        ("DROP TABLE remote_tasks", "DROP TABLE remote_annotations", "PRAGMA user_version = 2"),
    )
    with ProjectStore.open(path) as upgraded:
        upgraded.save_remote_tasks("labelstudio:abc", [RemoteTask(0, 1, None, "open")])
        assert len(upgraded.get_remote_tasks("labelstudio:abc")) == 1
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    with ProjectStore.open(path) as reopened:
        assert np.array_equal(reopened.get_current_labels()[0], [])
