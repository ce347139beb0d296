"""Schema versions: older databases are upgraded when opened."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from labeler.store.database import (
    DATABASE_NAME,
    SCHEMA_VERSION,
    ProjectStore,
)
from tests.labeler.store.store_data import (
    CLASSES,
    make_samples,
)


def test_a_version_1_database_is_upgraded_on_open(tmp_path: Path) -> None:
    path = tmp_path / DATABASE_NAME
    ProjectStore.create(path, class_names=CLASSES, samples=make_samples()).close()
    raw = sqlite3.connect(path, isolation_level=None)
    for statement in (
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
    ):
        raw.execute(statement)
    raw.close()
    with ProjectStore.open(path) as upgraded:
        assert upgraded.count_labels()["dog"] == 1
        assert upgraded.undo_last_label("old") is not None
        assert upgraded.count_labels()["dog"] == 0
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def test_a_version_3_database_drops_its_scores_table(tmp_path: Path) -> None:
    path = tmp_path / DATABASE_NAME
    ProjectStore.create(path, class_names=CLASSES, samples=make_samples()).close()
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute(
        "CREATE TABLE scores (round_id INTEGER NOT NULL, sample_id INTEGER NOT NULL, "
        "score REAL NOT NULL, PRIMARY KEY (round_id, sample_id)) WITHOUT ROWID"
    )
    raw.execute("PRAGMA user_version = 3")
    raw.close()
    ProjectStore.open(path).close()
    raw = sqlite3.connect(path)
    tables = {name for (name,) in raw.execute("SELECT name FROM sqlite_master")}
    assert "scores" not in tables and "queue" in tables
    assert raw.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,) == (4,)
