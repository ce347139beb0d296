"""The project database's schema: its tables, its versions and their upgrades, and the
opening and creation of the SQLite file. The one module that writes DDL.

One SQLite file (``PROJECT/project.sqlite``) in WAL mode with ``synchronous=FULL``, so that a
committed transaction survives a killed process or a power cut, and readers (the annotator
server) never block the writer (a round). The tables are described in ``docs/store.md``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

DATABASE_NAME = "project.sqlite"
SCHEMA_VERSION = 6
# Seconds a connection waits for another process's write transaction before giving up.
_BUSY_TIMEOUT = 60.0
_APPLICATION_ID = 0x4C41424C  # "LABL": marks the file as ours

_APPLICATION_ID = 0x4C41424C  # "LABL": marks the file as ours

_SCHEMA = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE classes (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE samples (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    split TEXT NOT NULL CHECK (split IN ('pool', 'test')),
    known_label INTEGER NULL REFERENCES classes (id)
);
CREATE TABLE label_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sample_id INTEGER NOT NULL REFERENCES samples (id),
    label INTEGER NOT NULL REFERENCES classes (id),
    annotator TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at REAL NOT NULL,
    request_id TEXT NULL UNIQUE
);
CREATE INDEX label_events_by_sample ON label_events (sample_id, id);
CREATE TRIGGER label_events_no_update BEFORE UPDATE ON label_events
BEGIN
    SELECT RAISE(ABORT, 'label_events is append-only');
END;
CREATE TRIGGER label_events_no_delete BEFORE DELETE ON label_events
BEGIN
    SELECT RAISE(ABORT, 'label_events is append-only');
END;
CREATE TABLE rounds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    started_at REAL NOT NULL,
    finished_at REAL NULL,
    strategy TEXT NOT NULL,
    query_size INTEGER NOT NULL,
    n_labels INTEGER NULL,
    val_accuracy REAL NULL,
    test_accuracy REAL NULL,
    folder TEXT NULL,
    config_json TEXT NOT NULL,
    error TEXT NULL
);
CREATE TABLE queue (
    sample_id INTEGER PRIMARY KEY REFERENCES samples (id),
    round_id INTEGER NOT NULL REFERENCES rounds (id),
    position INTEGER NOT NULL,
    score REAL NULL,
    leased_by TEXT NULL,
    lease_expires REAL NULL
);
CREATE INDEX queue_by_position ON queue (position);
"""
# Added in schema version 2; a version-1 database gets them when it is opened.
_SCHEMA_V2 = """
CREATE TABLE skips (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sample_id INTEGER NOT NULL REFERENCES samples (id),
    annotator TEXT NOT NULL,
    created_at REAL NOT NULL,
    request_id TEXT NULL UNIQUE
);
CREATE INDEX skips_by_annotator ON skips (annotator, sample_id);
CREATE TRIGGER skips_no_update BEFORE UPDATE ON skips
BEGIN
    SELECT RAISE(ABORT, 'skips is append-only');
END;
CREATE TABLE retractions (
    event_id INTEGER PRIMARY KEY REFERENCES label_events (id),
    annotator TEXT NOT NULL,
    created_at REAL NOT NULL,
    request_id TEXT NULL UNIQUE
);
CREATE TRIGGER retractions_no_delete BEFORE DELETE ON retractions
BEGIN
    SELECT RAISE(ABORT, 'retractions is append-only');
END;
CREATE VIEW live_label_events AS
    SELECT * FROM label_events WHERE id NOT IN (SELECT event_id FROM retractions);
CREATE TABLE lease_conflicts (
    event_id INTEGER PRIMARY KEY REFERENCES label_events (id),
    kind TEXT NOT NULL CHECK (kind IN ('expired', 'taken', 'not_leased', 'not_queued')),
    holder TEXT NULL
);
-- The annotation server asks, for every request, for an annotator's own leases and for the
-- number of live leases: without these indexes both scan the whole queue.
CREATE INDEX queue_by_holder ON queue (leased_by, position);
CREATE INDEX queue_by_lease_end ON queue (lease_expires);
CREATE TABLE annotators (
    name TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    is_admin INTEGER NOT NULL CHECK (is_admin IN (0, 1)),
    created_at REAL NOT NULL
);
"""
# Added in schema version 3: the link to an external annotation tool (Label Studio).
_SCHEMA_V3 = """
CREATE TABLE remote_tasks (
    remote TEXT NOT NULL,
    sample_id INTEGER NOT NULL REFERENCES samples (id),
    task_id INTEGER NOT NULL,
    round_id INTEGER NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'marked')),
    created_at REAL NOT NULL,
    PRIMARY KEY (remote, sample_id)
);
CREATE UNIQUE INDEX remote_tasks_by_task ON remote_tasks (remote, task_id);
CREATE TABLE remote_annotations (
    remote TEXT NOT NULL,
    annotation_id INTEGER NOT NULL,
    sample_id INTEGER NOT NULL REFERENCES samples (id),
    kind TEXT NOT NULL CHECK (kind IN ('label', 'skip', 'rejected', 'deleted')),
    value TEXT NULL,
    annotator TEXT NOT NULL,
    event_id INTEGER NULL REFERENCES label_events (id),
    updated_at REAL NOT NULL,
    PRIMARY KEY (remote, annotation_id)
);
"""
# Schema version 4 no longer keeps every acquisition score in the database (a round's scores
# are in its folder, ``scores.npy`` beside ``scored_ids.npy``): an older database drops the
# table, and a new one never has it. Skips and retractions, append-only logs whose triggers
# refused only updates (skips) or only deletes (retractions), now refuse both.
_SCHEMA_V4 = """
DROP TABLE IF EXISTS scores;
CREATE TRIGGER IF NOT EXISTS skips_no_delete BEFORE DELETE ON skips
BEGIN
    SELECT RAISE(ABORT, 'skips is append-only');
END;
CREATE TRIGGER IF NOT EXISTS retractions_no_update BEFORE UPDATE ON retractions
BEGIN
    SELECT RAISE(ABORT, 'retractions is append-only');
END;
"""
# Added in schema version 5: the review queue (labels a second annotator checks blind), the
# append-only log of review answers, and the answers to gold items (test samples of known
# class served among the others) with their retractions.
_SCHEMA_V5 = """
CREATE TABLE reviews (
    sample_id INTEGER PRIMARY KEY REFERENCES samples (id),
    reason TEXT NOT NULL CHECK (reason IN ('suspect', 'calibration', 'dispute')),
    state TEXT NOT NULL CHECK (state IN ('open', 'done')),
    position INTEGER NOT NULL,
    labeled_by TEXT NOT NULL,
    created_at REAL NOT NULL,
    leased_by TEXT NULL,
    lease_expires REAL NULL
);
CREATE INDEX reviews_by_state ON reviews (state, position);
CREATE TABLE review_answers (
    event_id INTEGER PRIMARY KEY REFERENCES label_events (id),
    sample_id INTEGER NOT NULL REFERENCES samples (id),
    outcome TEXT NOT NULL CHECK (outcome IN ('confirmed', 'disputed')),
    reviewed_label INTEGER NOT NULL REFERENCES classes (id),
    labeled_by TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE TRIGGER review_answers_no_update BEFORE UPDATE ON review_answers
BEGIN
    SELECT RAISE(ABORT, 'review_answers is append-only');
END;
CREATE TRIGGER review_answers_no_delete BEFORE DELETE ON review_answers
BEGIN
    SELECT RAISE(ABORT, 'review_answers is append-only');
END;
CREATE TABLE gold_answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sample_id INTEGER NOT NULL REFERENCES samples (id),
    label INTEGER NOT NULL REFERENCES classes (id),
    annotator TEXT NOT NULL,
    created_at REAL NOT NULL,
    request_id TEXT NULL UNIQUE
);
CREATE INDEX gold_answers_by_annotator ON gold_answers (annotator, id);
CREATE TABLE gold_retractions (
    answer_id INTEGER PRIMARY KEY REFERENCES gold_answers (id),
    created_at REAL NOT NULL,
    request_id TEXT NULL UNIQUE
);
CREATE VIEW live_gold_answers AS
    SELECT * FROM gold_answers WHERE id NOT IN (SELECT answer_id FROM gold_retractions);
CREATE TRIGGER gold_answers_no_update BEFORE UPDATE ON gold_answers
BEGIN
    SELECT RAISE(ABORT, 'gold_answers is append-only');
END;
CREATE TRIGGER gold_answers_no_delete BEFORE DELETE ON gold_answers
BEGIN
    SELECT RAISE(ABORT, 'gold_answers is append-only');
END;
CREATE TRIGGER gold_retractions_no_change BEFORE UPDATE ON gold_retractions
BEGIN
    SELECT RAISE(ABORT, 'gold_retractions is append-only');
END;
CREATE TRIGGER gold_retractions_no_delete BEFORE DELETE ON gold_retractions
BEGIN
    SELECT RAISE(ABORT, 'gold_retractions is append-only');
END;
"""
# Added in schema version 6: which label events one grid submission stored (an annotator
# confirmed a page of images the model puts in one class), so that undo takes back the grid.
_SCHEMA_V6 = """
CREATE TABLE grid_labels (
    event_id INTEGER PRIMARY KEY REFERENCES label_events (id),
    grid_request_id TEXT NOT NULL,
    annotator TEXT NOT NULL
);
CREATE INDEX grid_labels_by_request ON grid_labels (grid_request_id);
CREATE TRIGGER grid_labels_no_update BEFORE UPDATE ON grid_labels
BEGIN
    SELECT RAISE(ABORT, 'grid_labels is append-only');
END;
CREATE TRIGGER grid_labels_no_delete BEFORE DELETE ON grid_labels
BEGIN
    SELECT RAISE(ABORT, 'grid_labels is append-only');
END;
"""
_UPGRADES = {1: _SCHEMA_V2, 2: _SCHEMA_V3, 3: _SCHEMA_V4, 4: _SCHEMA_V5, 5: _SCHEMA_V6}


def database_path(path: str | os.PathLike[str]) -> Path:
    target = Path(path)
    return target / DATABASE_NAME if target.is_dir() else target


def connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: no implicit transactions; every write uses BEGIN IMMEDIATE, so
    # a transaction never has to upgrade its lock (and never fails half-way with SQLITE_BUSY).
    connection = sqlite3.connect(
        path, timeout=_BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
    )
    try:
        mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":
            raise sqlite3.OperationalError(f"cannot switch {path} to WAL mode (got {mode})")
        connection.execute("PRAGMA synchronous = FULL")
        connection.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        connection.close()
        raise
    return connection


def _run_schema(
    connection: sqlite3.Connection,
    schema: str = _SCHEMA + _SCHEMA_V2 + _SCHEMA_V3 + _SCHEMA_V4 + _SCHEMA_V5 + _SCHEMA_V6,
) -> None:
    # executescript() would commit the open transaction first; run statement by statement.
    statement = ""
    for line in schema.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            connection.execute(statement)
            statement = ""


def _upgrade(connection: sqlite3.Connection) -> None:
    """Bring an older database to ``SCHEMA_VERSION``, one version at a time (2: skips,
    retractions, lease conflicts, annotators; 3: the remote tool's tasks and annotations; 4: no
    scores table; 5: reviews; 6: grid labels), in one transaction."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        # Read again inside the transaction: another process may have upgraded it meanwhile.
        version = _read_header(connection)[1]
        while version in _UPGRADES:
            _run_schema(connection, _UPGRADES[version])
            version += 1
        connection.execute(f"PRAGMA user_version = {version}")
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    logger.info("upgraded the project database to schema version %d", SCHEMA_VERSION)


def _read_header(connection: sqlite3.Connection) -> tuple[int, int]:
    (application_id,) = connection.execute("PRAGMA application_id").fetchone()
    (version,) = connection.execute("PRAGMA user_version").fetchone()
    return int(application_id), int(version)


def create_database(
    target: Path,
    *,
    class_names: Sequence[str],
    samples: Sequence[tuple[str, str, int | None]],
    meta: Sequence[tuple[str, str]],
) -> None:
    """Write a new database at ``target`` holding ``class_names`` (class ``i`` is the ``i``-th),
    ``samples`` (``(path, split, known_label)``; sample ``i`` gets id ``i``) and ``meta``.

    Inputs are checked by the caller. The database is built under a temporary name and renamed
    into place when complete, so a crash never leaves a half-made one. Raises ValueError when
    a database already exists there or the rows break a constraint.
    """
    if target.exists():
        raise ValueError(f"{target} already exists; refusing to replace a project database")
    if not target.parent.is_dir():
        raise ValueError(f"cannot create {target}: folder {target.parent} does not exist")
    temp = target.parent / f".{target.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        connection = connect(temp)
        try:
            connection.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
            connection.execute("BEGIN IMMEDIATE")
            _run_schema(connection)
            connection.executemany(
                "INSERT INTO classes (id, name) VALUES (?, ?)", list(enumerate(class_names))
            )
            connection.executemany(
                "INSERT INTO samples (id, path, split, known_label) VALUES (?, ?, ?, ?)",
                ((index, *row) for index, row in enumerate(samples)),
            )
            connection.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                {"created_at": repr(time.time()), **dict(meta)}.items(),
            )
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            connection.execute("COMMIT")
        finally:
            connection.close()  # checkpoints the WAL into the file and removes it
        if target.exists():
            raise ValueError(
                f"{target} appeared while the project was being created; not replacing it"
            )
        os.replace(temp, target)
    except sqlite3.IntegrityError as error:
        raise ValueError(f"cannot create {target}: {error}") from error
    finally:
        for leftover in (temp, Path(f"{temp}-wal"), Path(f"{temp}-shm")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def open_database(target: Path) -> sqlite3.Connection:
    """A connection to the project database at ``target``, upgraded to ``SCHEMA_VERSION``.

    Raises ValueError when ``target`` is not a project database of a version this code reads.
    """
    if not target.is_file():
        raise ValueError(f"{target} does not exist; not a project (create one with init)")
    try:
        connection = connect(target)
    except sqlite3.DatabaseError as error:
        raise ValueError(f"{target} is not a readable project database: {error}") from error
    with closed_on_error(connection, target):
        application_id, version = _read_header(connection)
        if application_id != _APPLICATION_ID:
            raise ValueError(f"{target} is an SQLite database but not a labeler project")
        if version in _UPGRADES:
            _upgrade(connection)
            version = SCHEMA_VERSION
        if version != SCHEMA_VERSION:
            raise ValueError(
                f"{target} has schema version {version}; this labeler reads version "
                f"{SCHEMA_VERSION}"
            )
    return connection


@contextlib.contextmanager
def closed_on_error(connection: sqlite3.Connection, target: Path) -> Iterator[None]:
    """Close ``connection`` if the block fails; an SQLite error (a damaged or foreign file)
    becomes a ValueError naming ``target``."""
    try:
        yield
    except sqlite3.DatabaseError as error:
        connection.close()
        raise ValueError(f"{target} is not a readable project database: {error}") from error
    except BaseException:
        connection.close()
        raise
