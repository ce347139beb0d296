"""ProjectStore: creating and opening a project database, several connections, a killed writer."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from labeler.store.database import (
    DATABASE_NAME,
    NewSample,
    ProjectStore,
)
from tests.labeler.store.store_data import (
    CLASSES,
    N_POOL,
    N_TEST,
    REPO_ROOT,
    make_samples,
)

# --- creating and opening ----------------------------------------------------------------------


def test_create_stores_classes_samples_and_meta(store: ProjectStore, tmp_path: Path) -> None:
    assert store.class_names == CLASSES
    assert store.n_samples == N_POOL + N_TEST
    assert store.get_meta("owner") == "tests"
    assert store.get_meta("missing") is None
    assert float(store.get_meta("created_at") or 0) > 0
    samples = store.get_samples()
    assert [sample.id for sample in samples] == list(range(N_POOL + N_TEST))
    assert samples[13].path == "test/001.png"
    assert samples[13].split == "test"
    assert samples[13].known_label == 1
    np.testing.assert_array_equal(store.get_sample_ids("test"), np.arange(N_POOL, N_POOL + N_TEST))
    np.testing.assert_array_equal(store.get_sample_ids("pool"), np.arange(N_POOL))
    ids, labels = store.get_known_labels("pool")
    np.testing.assert_array_equal(ids, np.arange(N_POOL))
    np.testing.assert_array_equal(labels, np.arange(N_POOL) % 3)
    assert ids.dtype == np.int64 and labels.dtype == np.int64
    # Reopened from the folder, the same.
    store.close()
    with ProjectStore.open(tmp_path) as reopened:
        assert reopened.class_names == CLASSES
        assert reopened.get_samples() == samples


def test_database_is_wal_with_foreign_keys(store: ProjectStore) -> None:
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert store._db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_create_refuses_an_existing_database(store: ProjectStore, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="already exists"):
        ProjectStore.create(tmp_path / DATABASE_NAME, class_names=CLASSES, samples=[])
    assert store.n_samples == N_POOL + N_TEST  # untouched
    assert sorted(path.name for path in tmp_path.iterdir() if ".tmp-" in path.name) == []


@pytest.mark.parametrize(
    ("class_names", "message"),
    [
        (["only"], "at least 2 classes"),
        (["a", "a"], "repeated: a"),
        (["a", ""], "non-empty"),
        (["a", "b/c"], "may not"),
        (["a", "b,c"], "may not"),
        ("ab", "sequence of names"),
    ],
)
def test_create_rejects_bad_class_names(tmp_path: Path, class_names, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ProjectStore.create(tmp_path / "x.sqlite", class_names=class_names, samples=[])
    assert not (tmp_path / "x.sqlite").exists()


@pytest.mark.parametrize(
    ("samples", "message"),
    [
        ([NewSample("a.png", "train", None)], "unknown split 'train'; the splits are: pool, test"),
        ([NewSample("a.png", "pool", 3)], "not a class index"),
        ([NewSample("a.png", "pool"), NewSample("a.png", "test", 0)], "listed twice"),
    ],
)
def test_create_rejects_bad_samples(tmp_path: Path, samples, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ProjectStore.create(tmp_path / "x.sqlite", class_names=["a", "b"], samples=samples)
    assert list(tmp_path.iterdir()) == []


def test_open_rejects_what_is_not_a_project(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        ProjectStore.open(tmp_path / "missing.sqlite")
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ValueError, match="not a readable project database"):
        ProjectStore.open(garbage)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE t (x)")
    connection.close()
    with pytest.raises(ValueError, match="not a labeler project"):
        ProjectStore.open(other)


def test_two_connections_see_each_others_labels(store: ProjectStore, tmp_path: Path) -> None:
    with ProjectStore.open(tmp_path) as other:
        other.add_label(0, "fox", annotator="ann", source="web")
        store.add_label(1, "cat", annotator="bob", source="web")
        ids, labels = other.get_current_labels()
    np.testing.assert_array_equal(ids, [0, 1])
    np.testing.assert_array_equal(labels, [2, 0])


def test_labels_survive_a_killed_process(tmp_path: Path) -> None:
    path = tmp_path / DATABASE_NAME
    ProjectStore.create(path, class_names=CLASSES, samples=make_samples()).close()
    # The writer prints each event id after add_label returns (= committed), then goes on.
    script = textwrap.dedent(
        f"""
        import sys
        from labeler.store.database import ProjectStore
        store = ProjectStore.open({str(path)!r})
        names = store.class_names
        index = 0
        while True:
            event = store.add_label(
                index % {N_POOL}, names[index % 3], annotator="bot", source="test",
                request_id=f"req-{{index}}",
            )
            print(event.id, event.sample_id, event.label, flush=True)
            index += 1
        """
    )
    writer = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT
    )
    assert writer.stdout is not None
    reported = []
    try:
        for line in writer.stdout:
            reported.append(tuple(int(value) for value in line.split()))
            if len(reported) >= 150:
                break
    finally:
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
    assert writer.returncode == -signal.SIGKILL
    # Read what was printed before the kill but not yet read.
    reported += [tuple(int(v) for v in line.split()) for line in writer.stdout.read().splitlines()]
    writer.stdout.close()

    with ProjectStore.open(path) as reopened:
        events = {event.id: event for event in reopened.get_label_events()}
        assert reopened._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert len(reported) >= 150
    for event_id, sample_id, label in reported:
        assert (events[event_id].sample_id, events[event_id].label) == (sample_id, label)
    # At most the one label in flight at the kill was committed without being reported.
    assert len(events) - len(reported) in (0, 1)
