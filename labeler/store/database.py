"""The project database: the one module that knows its schema, writes it and reads it.

One SQLite file (``PROJECT/project.sqlite``) in WAL mode with ``synchronous=FULL``, so that a
committed transaction survives a killed process or a power cut, and readers (the annotator
server) never block the writer (a round). Tables:

- ``meta(key, value)``: free-form project facts (strings);
- ``classes(id, name)``: class ``id`` is the index into ``class_names``;
- ``samples(id, path, split, known_label)``: ``id`` is the row in the project's packed image
  array, ``split`` is ``'pool'`` (may be labeled) or ``'test'`` (held out for accuracy),
  ``known_label`` a class id known from the source (folder names, a generated dataset) or NULL;
- ``label_events``: append-only log of every label (annotator, source, unix time, optional
  ``request_id`` making a submission idempotent); the current label of a sample is its latest
  event. Triggers refuse updates and deletes;
- ``rounds``: one row per retrain-and-select round; ``status`` ``'running'|'done'|'failed'``;
- ``scores(round_id, sample_id, score)``: every acquisition score a round computed;
- ``queue(sample_id, round_id, position, score, leased_by, lease_expires)``: the batch
  waiting for annotators, in order, with leases so two annotators do not get the same image;
- ``skips``: append-only log of images an annotator passed over (never served to them again);
- ``retractions``: label events taken back (an annotator's undo); a retracted event no longer
  counts, and the sample's current label is its latest live event (``live_label_events``);
- ``lease_conflicts``: label events submitted without holding the image's lease (kept, since
  human work is never thrown away, and shown to admins);
- ``annotators(name, token_hash, is_admin, created_at)``: who may use the annotation server;
  only a SHA-256 hash of each token is stored;
- ``remote_tasks(remote, sample_id, task_id, round_id, state, created_at)``: the tasks of an
  external annotation tool (``remote`` names the linked project there, e.g. a Label Studio
  project), one per sample, so that no sample is sent twice; ``round_id`` is the round whose
  prediction the task carries, ``state`` 'open' or 'marked' (left the queue while annotated);
- ``remote_annotations(remote, annotation_id, sample_id, kind, value, annotator, event_id,
  updated_at)``: what each external annotation last said (``kind`` 'label', 'skip',
  'rejected' for a label that is not a class, or 'deleted'), and the label event it made, so
  that reading the same annotation again changes nothing.

Samples and classes never change after ``ProjectStore.create``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import operator
import os
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

DATABASE_NAME = "project.sqlite"
SCHEMA_VERSION = 3
SPLITS = ("pool", "test")
ROUND_STATUSES = ("running", "done", "failed")
DEFAULT_LEASE_SECONDS = 600.0
# How a label stood to the image's lease when it was submitted (see ``submit_label``).
LEASE_HELD = "held"
LEASE_CONFLICTS = ("expired", "taken", "not_leased", "not_queued")
# Seconds a connection waits for another process's write transaction before giving up.
_BUSY_TIMEOUT = 60.0
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
CREATE TABLE scores (
    round_id INTEGER NOT NULL REFERENCES rounds (id),
    sample_id INTEGER NOT NULL REFERENCES samples (id),
    score REAL NOT NULL,
    PRIMARY KEY (round_id, sample_id)
) WITHOUT ROWID;
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
_UPGRADES = {1: _SCHEMA_V2, 2: _SCHEMA_V3}

Ids = NDArray[np.int64]


@dataclass(frozen=True)
class NewSample:
    """A sample to create: ``path`` relative to the image source, ``split`` 'pool' or 'test',
    ``known_label`` a class index (known from the source) or None."""

    path: str
    split: str
    known_label: int | None = None


@dataclass(frozen=True)
class Sample:
    """A sample of the project; ``id`` is its row in the packed image array."""

    id: int
    path: str
    split: str
    known_label: int | None


@dataclass(frozen=True)
class NewLabel:
    """A label to record: ``label_name`` must be one of the project's classes."""

    sample_id: int
    label_name: str
    annotator: str
    source: str
    request_id: str | None = None
    # When the label was given (unix seconds), if not now: an external tool's own time.
    created_at: float | None = None


@dataclass(frozen=True)
class LabelEvent:
    """One entry of the label log; ``label`` is the class index, ``created_at`` unix seconds."""

    id: int
    sample_id: int
    label: int
    label_name: str
    annotator: str
    source: str
    created_at: float
    request_id: str | None


@dataclass(frozen=True)
class RoundRecord:
    """One round; times are unix seconds, accuracies fractions in [0, 1] (None if unknown)."""

    id: int
    status: str
    started_at: float
    finished_at: float | None
    strategy: str
    query_size: int
    n_labels: int | None
    val_accuracy: float | None
    test_accuracy: float | None
    folder: str | None
    config: dict[str, Any]
    error: str | None


@dataclass(frozen=True)
class QueueItem:
    """A queued sample, ``position`` 0 first; ``leased_by`` the annotator holding it (or None)
    until ``lease_expires`` (unix seconds)."""

    sample_id: int
    round_id: int
    position: int
    score: float | None
    leased_by: str | None
    lease_expires: float | None

    def is_leased(self, now: float) -> bool:
        """Whether an annotator holds an unexpired lease at time ``now`` (unix seconds)."""
        return (
            self.leased_by is not None
            and self.lease_expires is not None
            and self.lease_expires > now
        )


@dataclass(frozen=True)
class Submission:
    """The answer to ``submit_label``: the stored ``event``, how it stood to the lease
    (``lease``: "held" or one of ``LEASE_CONFLICTS``; ``holder``: who held it instead), and
    whether the request id had been seen before (``duplicate``: nothing new was stored)."""

    event: LabelEvent
    lease: str
    holder: str | None
    duplicate: bool


@dataclass(frozen=True)
class Activity:
    """One thing an annotator did: ``kind`` "label" (``retracted`` if undone) or "skip", at
    ``created_at`` (unix seconds)."""

    created_at: float
    annotator: str
    kind: str
    sample_id: int
    retracted: bool


@dataclass(frozen=True)
class LabelConflict:
    """A sample that annotators labeled differently: ``labels`` maps annotator -> class name
    (each annotator's latest live label)."""

    sample_id: int
    labels: dict[str, str]


REMOTE_KINDS = ("label", "skip", "rejected")


@dataclass(frozen=True)
class RemoteTask:
    """A sample's task in an external tool: ``round_id`` is the round whose prediction it
    carries (None: none), ``state`` 'open' or 'marked'."""

    sample_id: int
    task_id: int
    round_id: int | None
    state: str


@dataclass(frozen=True)
class RemoteAnnotation:
    """What an external annotation says now: ``kind`` 'label' (``value`` a class name),
    'skip' (``value`` None) or 'rejected' (``value`` the label given, not one of ours);
    ``updated_at`` unix seconds, the tool's time of this version."""

    annotation_id: int
    sample_id: int
    kind: str
    value: str | None
    annotator: str
    updated_at: float


@dataclass
class RemoteChanges:
    """What applying remote annotations did, by annotation id: new labels, changed labels
    (a new event), skips, rejected ones (annotation id -> label given), deletions followed,
    and how many were as before."""

    labeled: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    rejected: dict[int, str] = field(default_factory=dict)
    deleted: list[int] = field(default_factory=list)
    n_unchanged: int = 0

    @property
    def n_changes(self) -> int:
        return (
            len(self.labeled)
            + len(self.updated)
            + len(self.skipped)
            + len(self.rejected)
            + len(self.deleted)
        )


@dataclass(frozen=True)
class Annotator:
    """A registered annotator; ``is_admin`` may start rounds and manage annotators."""

    name: str
    is_admin: bool
    created_at: float


class ProjectStore:
    """An open project database. Use ``ProjectStore.create`` or ``ProjectStore.open``.

    Safe to share between threads (calls are serialized) and to open from several processes
    at once (SQLite locking; writers wait up to a minute for each other). Close it with
    ``close()`` or use it as a context manager.
    """

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        # Private: use create() or open().
        self.path = path
        self._db = connection
        self._lock = threading.RLock()
        self._round_lock_file: IO[bytes] | None = None
        self._round_lock_id: int | None = None
        self._class_names = tuple(
            str(name) for (name,) in self._db.execute("SELECT name FROM classes ORDER BY id")
        )
        self._class_ids = {name: index for index, name in enumerate(self._class_names)}
        splits = self._db.execute("SELECT split FROM samples ORDER BY id").fetchall()
        self._is_test = np.array([split == "test" for (split,) in splits], dtype=bool)

    # --- opening and closing -------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        *,
        class_names: Sequence[str],
        samples: Sequence[NewSample],
        meta: Mapping[str, str] | None = None,
    ) -> ProjectStore:
        """Create a project database at ``path`` (a file, or a folder to hold ``project.sqlite``).

        Sample ``i`` of ``samples`` gets id ``i``. The database is built under a temporary name
        and renamed into place when complete, so a crash never leaves a half-made one. Raises
        ValueError on bad classes or samples, or when a database already exists there.
        """
        target = _database_path(path)
        names = check_class_names(class_names)
        rows = _check_new_samples(samples, n_classes=len(names))
        meta_items = _check_meta(meta or {})
        if target.exists():
            raise ValueError(f"{target} already exists; refusing to replace a project database")
        if not target.parent.is_dir():
            raise ValueError(f"cannot create {target}: folder {target.parent} does not exist")

        temp = target.parent / f".{target.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            connection = _connect(temp)
            try:
                connection.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
                connection.execute("BEGIN IMMEDIATE")
                _run_schema(connection)
                connection.executemany(
                    "INSERT INTO classes (id, name) VALUES (?, ?)", list(enumerate(names))
                )
                connection.executemany(
                    "INSERT INTO samples (id, path, split, known_label) VALUES (?, ?, ?, ?)",
                    ((index, *row) for index, row in enumerate(rows)),
                )
                connection.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?)",
                    {"created_at": repr(time.time()), **dict(meta_items)}.items(),
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
        logger.debug("created %s: %d classes, %d samples", target, len(names), len(rows))
        return cls.open(target)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> ProjectStore:
        """Open the project database at ``path`` (a file, or a project folder).

        Rounds left 'running' by a process that no longer runs are marked failed
        ("interrupted"). Raises ValueError when ``path`` is not a project database.
        """
        target = _database_path(path)
        if not target.is_file():
            raise ValueError(f"{target} does not exist; not a project (create one with init)")
        try:
            connection = _connect(target)
        except sqlite3.DatabaseError as error:
            raise ValueError(f"{target} is not a readable project database: {error}") from error
        try:
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
            store = cls(target, connection)
        except sqlite3.DatabaseError as error:
            connection.close()
            raise ValueError(f"{target} is not a readable project database: {error}") from error
        except BaseException:
            connection.close()
            raise
        store._mark_interrupted_rounds()
        return store

    def close(self) -> None:
        """Close the database (and drop this store's round lock, if it holds one)."""
        with self._lock:
            self._release_round_lock()
            self._db.close()

    def __enter__(self) -> ProjectStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ProjectStore({str(self.path)!r})"

    # --- classes, samples, meta ----------------------------------------------------------

    @property
    def class_names(self) -> tuple[str, ...]:
        """Class names; a label's class index is its position here."""
        return self._class_names

    @property
    def n_samples(self) -> int:
        """Number of samples, pool and test together (ids are ``0 .. n_samples - 1``)."""
        return int(self._is_test.shape[0])

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        """The meta value stored under ``key``, or ``default`` when there is none."""
        row = self._query_one("SELECT value FROM meta WHERE key = ?", (key,))
        return default if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Store ``value`` under ``key`` (replacing an old value)."""
        ((key, value),) = _check_meta({key: value})
        with self._transaction() as db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def get_samples(self, split: str | None = None) -> list[Sample]:
        """All samples (or those of ``split``), by id."""
        sql = "SELECT id, path, split, known_label FROM samples"
        params: tuple[Any, ...] = ()
        if split is not None:
            sql += " WHERE split = ?"
            params = (_check_split(split),)
        return [Sample(*row) for row in self._query(sql + " ORDER BY id", params)]

    def get_sample(self, sample_id: int) -> Sample:
        """The sample with id ``sample_id``; ValueError naming the valid range if none."""
        index = self._check_sample_id(sample_id)
        row = self._query_one(
            "SELECT id, path, split, known_label FROM samples WHERE id = ?", (index,)
        )
        assert row is not None  # ids are 0 .. n_samples - 1
        return Sample(*row)

    def find_sample(self, ref: str | int) -> Sample:
        """The sample named by ``ref``: an id (int, or a string of digits) or its path.

        Raises ValueError naming ``ref`` when no sample matches.
        """
        if isinstance(ref, str) and not ref.strip().isdigit():
            row = self._query_one(
                "SELECT id, path, split, known_label FROM samples WHERE path = ?", (ref,)
            )
            if row is None:
                raise ValueError(
                    f"no sample has the path {ref!r}; give a sample id (0 to "
                    f"{self.n_samples - 1}) or a path as the project lists it"
                )
            return Sample(*row)
        return self.get_sample(int(ref))

    def get_sample_ids(self, split: str | None = None) -> Ids:
        """Sample ids of ``split`` (or all), ascending, int64 ``[n]``."""
        if split is None:
            return np.arange(self.n_samples, dtype=np.int64)
        is_test = _check_split(split) == "test"
        return np.flatnonzero(self._is_test == is_test).astype(np.int64)

    def get_known_labels(self, split: str | None = None) -> tuple[Ids, Ids]:
        """``(sample_ids, labels)`` of the samples of ``split`` (or all) whose label the
        source knew; int64 ``[n]`` each, by ascending id."""
        sql = "SELECT id, known_label FROM samples WHERE known_label IS NOT NULL"
        params: tuple[Any, ...] = ()
        if split is not None:
            sql += " AND split = ?"
            params = (_check_split(split),)
        return _pairs_to_arrays(self._query(sql + " ORDER BY id", params))

    # --- labels --------------------------------------------------------------------------

    def add_label(
        self,
        sample_id: int,
        label_name: str,
        *,
        annotator: str,
        source: str,
        request_id: str | None = None,
    ) -> LabelEvent:
        """Record one label and return its event (committed when this returns).

        A ``request_id`` seen before returns the event it created, so a resubmission is
        harmless; reusing it for a different sample or label raises ValueError. Labeling
        removes the sample from the queue.
        """
        label = NewLabel(sample_id, label_name, annotator, source, request_id)
        with self._transaction() as db:
            events = self._insert_labels(db, [label])
        return events[0]

    def add_labels(self, pairs: Sequence[tuple[int, str]], *, annotator: str, source: str) -> int:
        """Record ``(sample_id, label_name)`` pairs in one transaction; return how many.

        All or nothing: every pair is checked first, and any bad one raises ValueError (naming
        its position) with nothing recorded.
        """
        labels = []
        for position, pair in enumerate(pairs):
            try:
                sample_id, label_name = pair
            except (TypeError, ValueError):
                raise ValueError(
                    f"pair {position}: expected (sample_id, label_name), got {pair!r}"
                ) from None
            labels.append(NewLabel(sample_id, label_name, annotator, source))
        return self.add_label_events(labels)

    def add_label_events(self, labels: Sequence[NewLabel]) -> int:
        """Record ``labels`` (each with its own annotator and source) in one transaction.

        All or nothing, like ``add_labels``. Returns how many labels were given (resubmitted
        request ids count, though they add no new event).
        """
        if not labels:
            return 0
        with self._transaction() as db:
            return len(self._insert_labels(db, labels))

    def get_current_labels(self) -> tuple[Ids, Ids]:
        """``(sample_ids, labels)`` of every labeled sample, its latest live (not retracted)
        label event winning; int64 ``[n_labeled]`` each, by ascending sample id."""
        return _pairs_to_arrays(
            self._query(
                "SELECT e.sample_id, e.label FROM live_label_events AS e "
                "JOIN (SELECT MAX(id) AS id FROM live_label_events GROUP BY sample_id) AS last "
                "ON e.id = last.id ORDER BY e.sample_id"
            )
        )

    def get_current_label_events(self) -> list[LabelEvent]:
        """The latest live (not retracted) label event of every labeled sample, by ascending
        sample id."""
        rows = self._query(
            "SELECT e.id, e.sample_id, e.label, e.annotator, e.source, e.created_at, "
            "e.request_id FROM live_label_events AS e "
            "JOIN (SELECT MAX(id) AS id FROM live_label_events GROUP BY sample_id) AS last "
            "ON e.id = last.id ORDER BY e.sample_id"
        )
        return [self._make_event(row) for row in rows]

    def get_unlabeled_ids(self) -> Ids:
        """Ids of the pool samples with no label event yet, ascending, int64 ``[n]``."""
        labeled, _ = self.get_current_labels()
        pool = self.get_sample_ids("pool")
        return pool[~np.isin(pool, labeled)]

    def get_label_history(self, sample_id: int) -> list[LabelEvent]:
        """Every label event of ``sample_id``, oldest first."""
        index = self._check_sample_id(sample_id)
        rows = self._query(
            "SELECT id, sample_id, label, annotator, source, created_at, request_id "
            "FROM label_events WHERE sample_id = ? ORDER BY id",
            (index,),
        )
        return [self._make_event(row) for row in rows]

    def get_label_events(self, *, after_id: int = 0) -> list[LabelEvent]:
        """Label events with ``id > after_id``, oldest first (to follow the log)."""
        rows = self._query(
            "SELECT id, sample_id, label, annotator, source, created_at, request_id "
            "FROM label_events WHERE id > ? ORDER BY id",
            (int(after_id),),
        )
        return [self._make_event(row) for row in rows]

    def count_labels(self) -> dict[str, int]:
        """Number of currently labeled samples per class name (every class, zeros included)."""
        _, labels = self.get_current_labels()
        counts = np.bincount(labels, minlength=len(self._class_names))
        return {name: int(count) for name, count in zip(self._class_names, counts, strict=True)}

    # --- rounds --------------------------------------------------------------------------

    def start_round(self, *, strategy: str, query_size: int, config: Mapping[str, Any]) -> int:
        """Record a new running round and return its id.

        This store holds the project's round lock until ``finish_round`` / ``fail_round`` (or
        ``close``), so another process opening the project knows the round is alive. Raises
        ValueError when another round is running.
        """
        if not isinstance(strategy, str) or not strategy:
            raise ValueError(f"strategy must be a non-empty string, got {strategy!r}")
        query_size = _check_count("query_size", query_size, minimum=1)
        try:
            config_json = json.dumps(dict(config), sort_keys=False)
        except (TypeError, ValueError) as error:
            raise ValueError(f"round config is not JSON-ready: {error}") from error
        with self._lock:
            if self._round_lock_id is not None:
                raise ValueError(f"round {self._round_lock_id} is still running in this process")
            self._acquire_round_lock()
            try:
                self._mark_interrupted_rounds()
                with self._transaction() as db:
                    running = db.execute(
                        "SELECT id FROM rounds WHERE status = 'running'"
                    ).fetchone()
                    if running is not None:
                        raise ValueError(
                            f"round {running[0]} is still running; wait for it to finish"
                        )
                    cursor = db.execute(
                        "INSERT INTO rounds (status, started_at, strategy, query_size, "
                        "config_json) VALUES ('running', ?, ?, ?, ?)",
                        (time.time(), strategy, query_size, config_json),
                    )
                    round_id = int(cursor.lastrowid or 0)
            except BaseException:
                self._release_round_lock()
                raise
            self._round_lock_id = round_id
        logger.info("round %d started (%s, query size %d)", round_id, strategy, query_size)
        return round_id

    def finish_round(
        self,
        round_id: int,
        *,
        folder: str,
        n_labels: int,
        val_accuracy: float | None,
        test_accuracy: float | None,
        scored_ids: Any,
        scores: Any,
        selected_ids: Any,
    ) -> None:
        """Store a round's results in one transaction and mark it done.

        ``scored_ids`` ``[n]`` and ``scores`` ``[n]`` (higher = more informative) are kept in
        ``scores``; the queue is replaced by ``selected_ids`` (best first), each with its
        score. Queued items of earlier rounds are dropped, except those an annotator holds an
        unexpired lease on: they keep the lease (and, when not selected again, go after the new
        batch). Selected samples labeled while the round ran are left out. ``folder`` is the
        round's folder relative to the project.
        """
        ids = _as_id_array("scored_ids", scored_ids, n_samples=self.n_samples)
        values = np.asarray(scores, dtype=np.float64)
        if values.shape != ids.shape:
            raise ValueError(
                f"scores has shape {values.shape}, expected {ids.shape} like scored_ids"
            )
        if not np.all(np.isfinite(values)):
            bad = ids[~np.isfinite(values)][:5].tolist()
            raise ValueError(f"scores must be finite; not so for samples {bad}")
        if np.unique(ids).shape != ids.shape:
            raise ValueError("scored_ids holds duplicates")
        selected = _as_id_array("selected_ids", selected_ids, n_samples=self.n_samples)
        if np.unique(selected).shape != selected.shape:
            raise ValueError("selected_ids holds duplicates")
        if np.any(self._is_test[selected]):
            bad = selected[self._is_test[selected]][:5].tolist()
            raise ValueError(f"test samples cannot be queued for labeling: {bad}")
        n_labels = _check_count("n_labels", n_labels, minimum=0)
        accuracies = [
            _check_fraction(name, value)
            for name, value in (("val_accuracy", val_accuracy), ("test_accuracy", test_accuracy))
        ]
        score_of = dict(zip(ids.tolist(), values.tolist(), strict=True))

        with self._transaction() as db:
            self._check_running(db, round_id)
            db.executemany(
                "INSERT INTO scores (round_id, sample_id, score) VALUES (?, ?, ?)",
                ((round_id, sample, value) for sample, value in score_of.items()),
            )
            labeled = {
                sample
                for (sample,) in db.execute("SELECT DISTINCT sample_id FROM live_label_events")
            }
            now = time.time()
            held = {
                sample: (annotator, expires)
                for sample, annotator, expires in db.execute(
                    "SELECT sample_id, leased_by, lease_expires FROM queue "
                    "WHERE leased_by IS NOT NULL AND lease_expires > ? ORDER BY position",
                    (now,),
                )
            }
            db.execute("DELETE FROM queue")
            queued = [sample for sample in selected.tolist() if sample not in labeled]
            kept = [sample for sample in held if sample not in set(queued)]
            db.executemany(
                "INSERT INTO queue (sample_id, round_id, position, score, leased_by, "
                "lease_expires) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    (
                        sample,
                        round_id,
                        position,
                        score_of.get(sample),
                        *held.get(sample, (None,) * 2),
                    )
                    for position, sample in enumerate(queued + kept)
                ),
            )
            db.execute(
                "UPDATE rounds SET status = 'done', finished_at = ?, folder = ?, n_labels = ?, "
                "val_accuracy = ?, test_accuracy = ? WHERE id = ?",
                (time.time(), str(folder), n_labels, *accuracies, round_id),
            )
        self._end_round(round_id)
        if len(queued) < len(selected):
            logger.info(
                "round %d: %d selected samples were labeled meanwhile and are not queued",
                round_id,
                len(selected) - len(queued),
            )
        logger.info("round %d done: %d samples queued", round_id, len(queued))

    def fail_round(self, round_id: int, error: str) -> None:
        """Mark a running round failed with ``error`` (a one-line reason)."""
        with self._transaction() as db:
            self._check_running(db, round_id)
            db.execute(
                "UPDATE rounds SET status = 'failed', finished_at = ?, error = ? WHERE id = ?",
                (time.time(), str(error), round_id),
            )
        self._end_round(round_id)
        logger.info("round %d failed: %s", round_id, error)

    def get_rounds(self) -> list[RoundRecord]:
        """Every round, oldest first."""
        return [self._make_round(row) for row in self._query(_ROUND_SELECT + " ORDER BY id")]

    def get_round(self, round_id: int) -> RoundRecord:
        """The round ``round_id``; ValueError if there is none."""
        row = self._query_one(_ROUND_SELECT + " WHERE id = ?", (int(round_id),))
        if row is None:
            raise ValueError(f"there is no round {round_id}")
        return self._make_round(row)

    def get_last_done_round(self) -> RoundRecord | None:
        """The latest round with status 'done', or None."""
        row = self._query_one(_ROUND_SELECT + " WHERE status = 'done' ORDER BY id DESC LIMIT 1")
        return None if row is None else self._make_round(row)

    def get_scores(self, round_id: int) -> tuple[Ids, NDArray[np.float64]]:
        """``(sample_ids, scores)`` a round stored, by ascending sample id."""
        rows = self._query(
            "SELECT sample_id, score FROM scores WHERE round_id = ? ORDER BY sample_id",
            (int(round_id),),
        )
        ids = np.array([row[0] for row in rows], dtype=np.int64)
        return ids, np.array([row[1] for row in rows], dtype=np.float64)

    # --- queue and leases ----------------------------------------------------------------

    def get_queue(self) -> list[QueueItem]:
        """The queue, in order (position 0 first)."""
        return [QueueItem(*row) for row in self._query(_QUEUE_SELECT + " ORDER BY position")]

    def get_queue_item(self, sample_id: int) -> QueueItem | None:
        """The queue entry of ``sample_id``, or None when it is not queued."""
        row = self._query_one(_QUEUE_SELECT + " WHERE sample_id = ?", (int(sample_id),))
        return None if row is None else QueueItem(*row)

    def count_queue(self, *, now: float | None = None) -> tuple[int, int]:
        """``(waiting, leased)``: queued samples free to hand out, and those under an unexpired
        lease at ``now`` (unix seconds, default the clock)."""
        now = time.time() if now is None else float(now)
        with self._lock:
            (total,) = self._db.execute("SELECT COUNT(*) FROM queue").fetchone()
            # A lease's end is set together with its holder and cleared with it.
            (leased,) = self._db.execute(
                "SELECT COUNT(*) FROM queue WHERE lease_expires > ?", (now,)
            ).fetchone()
        return int(total) - int(leased), int(leased)

    def lease_next(
        self,
        annotator: str,
        n: int,
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        now: float | None = None,
    ) -> list[QueueItem]:
        """Lease up to ``n`` queued samples to ``annotator`` for ``lease_seconds``.

        The annotator's own unexpired leases come first (renewed, so reloading a page does not
        grab more), then free or expired items in queue order; items leased to others, and
        items this annotator skipped, are passed over. ``now``: unix seconds (default the
        clock).
        """
        annotator = _check_name("annotator", annotator)
        n = _check_count("n", n, minimum=0)
        if not (lease_seconds > 0 and math.isfinite(lease_seconds)):
            raise ValueError(f"lease_seconds must be positive, got {lease_seconds!r}")
        now = time.time() if now is None else float(now)
        expires = now + lease_seconds
        with self._transaction() as db:
            rows = db.execute(
                "SELECT sample_id FROM queue WHERE leased_by = ? AND lease_expires > ? "
                "ORDER BY position LIMIT ?",
                (annotator, now, n),
            ).fetchall()
            if len(rows) < n:
                rows += db.execute(
                    "SELECT sample_id FROM queue "
                    "WHERE (leased_by IS NULL OR lease_expires IS NULL OR lease_expires <= ?) "
                    "AND sample_id NOT IN (SELECT sample_id FROM skips WHERE annotator = ?) "
                    "ORDER BY position LIMIT ?",
                    (now, annotator, n - len(rows)),
                ).fetchall()
            ids = [row[0] for row in rows]
            if not ids:
                return []
            db.executemany(
                "UPDATE queue SET leased_by = ?, lease_expires = ? WHERE sample_id = ?",
                ((annotator, expires, sample) for sample in ids),
            )
            items = [
                QueueItem(*row)
                for row in db.execute(
                    _QUEUE_SELECT + f" WHERE sample_id IN ({','.join('?' * len(ids))}) "
                    "ORDER BY position",
                    ids,
                )
            ]
        return items

    def release_lease(self, sample_id: int, annotator: str) -> bool:
        """Give back ``annotator``'s lease on ``sample_id``; False if they held none."""
        index = self._check_sample_id(sample_id)
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE queue SET leased_by = NULL, lease_expires = NULL "
                "WHERE sample_id = ? AND leased_by = ?",
                (index, annotator),
            )
            return cursor.rowcount > 0

    # --- annotation: submissions, skips, undo -------------------------------------------

    def submit_label(
        self,
        sample_id: int,
        label_name: str,
        *,
        annotator: str,
        source: str,
        request_id: str | None = None,
        now: float | None = None,
    ) -> Submission:
        """Record an annotator's label and how it stood to the image's lease, in one
        transaction (committed when this returns).

        The label is stored whatever the lease: ``lease`` is ``"held"`` when ``annotator``
        held an unexpired lease, else one of ``LEASE_CONFLICTS`` (``"expired"``: theirs ran
        out; ``"taken"``: someone else holds it; ``"not_leased"``: queued but leased to nobody;
        ``"not_queued"``: not in the queue), recorded for the dashboard. A ``request_id`` seen
        before returns the first answer with ``duplicate`` True and stores nothing.
        """
        now = time.time() if now is None else float(now)
        label = NewLabel(sample_id, label_name, annotator, source, request_id)
        with self._transaction() as db:
            if request_id is not None:
                previous = self._find_request(db, request_id)
                if previous is not None:
                    event = self._get_event(db, previous)
                    _check_same_request(
                        event,
                        self._check_sample_id(sample_id),
                        self._check_label(label_name),
                        request_id,
                    )
                    return Submission(event, *self._get_lease_conflict(db, event.id), True)
            index = self._check_sample_id(sample_id)
            row = db.execute(
                "SELECT leased_by, lease_expires FROM queue WHERE sample_id = ?", (index,)
            ).fetchone()
            lease, holder = _classify_lease(row, annotator, now)
            (event,) = self._insert_labels(db, [label])
            if lease != LEASE_HELD:
                db.execute(
                    "INSERT INTO lease_conflicts (event_id, kind, holder) VALUES (?, ?, ?)",
                    (event.id, lease, holder),
                )
        return Submission(event, lease, holder, False)

    def skip_sample(self, sample_id: int, *, annotator: str, request_id: str | None = None) -> bool:
        """Record that ``annotator`` passed over ``sample_id`` and give back their lease on it;
        the image is never leased to them again (others still get it). Returns False when
        ``request_id`` was seen before (nothing is stored twice)."""
        index = self._check_sample_id(sample_id)
        if self._is_test[index]:
            raise ValueError(f"sample {index} is in the test split and cannot be skipped")
        annotator = _check_name("annotator", annotator)
        with self._transaction() as db:
            if request_id is not None:
                request_id = _check_name("request_id", request_id)
                row = db.execute(
                    "SELECT sample_id, annotator FROM skips WHERE request_id = ?", (request_id,)
                ).fetchone()
                if row is not None:
                    if tuple(row) != (index, annotator):
                        raise ValueError(
                            f"request id {request_id!r} was already used for another skip"
                        )
                    return False
            db.execute(
                "INSERT INTO skips (sample_id, annotator, created_at, request_id) "
                "VALUES (?, ?, ?, ?)",
                (index, annotator, time.time(), request_id),
            )
            db.execute(
                "UPDATE queue SET leased_by = NULL, lease_expires = NULL "
                "WHERE sample_id = ? AND leased_by = ?",
                (index, annotator),
            )
        return True

    def undo_last_label(
        self,
        annotator: str,
        *,
        request_id: str | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> LabelEvent | None:
        """Retract ``annotator``'s latest live label event and return it (None: they have none).

        The log keeps the event; a retraction marks it. When the sample is left with no live
        label it goes back to the front of the queue, leased to ``annotator``, so that they can
        label it again. A ``request_id`` seen before returns the event it retracted.
        """
        annotator = _check_name("annotator", annotator)
        if request_id is not None:
            request_id = _check_name("request_id", request_id)
        with self._transaction() as db:
            if request_id is not None:
                row = db.execute(
                    "SELECT event_id FROM retractions WHERE request_id = ?", (request_id,)
                ).fetchone()
                if row is not None:
                    return self._get_event(db, int(row[0]))
            row = db.execute(
                "SELECT id FROM live_label_events WHERE annotator = ? ORDER BY id DESC LIMIT 1",
                (annotator,),
            ).fetchone()
            if row is None:
                return None
            event = self._get_event(db, int(row[0]))
            now = time.time()
            db.execute(
                "INSERT INTO retractions (event_id, annotator, created_at, request_id) "
                "VALUES (?, ?, ?, ?)",
                (event.id, annotator, now, request_id),
            )
            still_labeled = db.execute(
                "SELECT 1 FROM live_label_events WHERE sample_id = ? LIMIT 1", (event.sample_id,)
            ).fetchone()
            last_round = db.execute("SELECT MAX(id) FROM rounds").fetchone()[0]
            if still_labeled is None and last_round is not None:
                db.execute(
                    "INSERT OR REPLACE INTO queue (sample_id, round_id, position, score, "
                    "leased_by, lease_expires) VALUES (?, ?, "
                    "(SELECT COALESCE(MIN(position), 0) - 1 FROM queue), NULL, ?, ?)",
                    (event.sample_id, last_round, annotator, now + lease_seconds),
                )
        return event

    def get_activity(self) -> list[Activity]:
        """Every label event (retracted ones marked) and skip, oldest first: the raw material
        of per-annotator statistics."""
        rows = self._query(
            "SELECT created_at, annotator, 'label', sample_id, "
            "id IN (SELECT event_id FROM retractions) FROM label_events "
            "UNION ALL SELECT created_at, annotator, 'skip', sample_id, 0 FROM skips "
            "ORDER BY 1"
        )
        return [Activity(float(t), str(a), str(k), int(i), bool(r)) for t, a, k, i, r in rows]

    def get_label_conflicts(self) -> list[LabelConflict]:
        """Samples whose live labels from different annotators disagree, by sample id."""
        rows = self._query(
            "SELECT sample_id, label, annotator FROM live_label_events WHERE sample_id IN ("
            "SELECT sample_id FROM live_label_events GROUP BY sample_id "
            "HAVING COUNT(DISTINCT label) > 1 AND COUNT(DISTINCT annotator) > 1) "
            "ORDER BY sample_id, id"
        )
        by_sample: dict[int, dict[str, str]] = {}
        for sample_id, label, annotator in rows:
            by_sample.setdefault(int(sample_id), {})[str(annotator)] = self._class_names[label]
        return [LabelConflict(sample, labels) for sample, labels in by_sample.items()]

    def get_lease_conflicts(self) -> list[tuple[LabelEvent, str, str | None]]:
        """Label events submitted without holding the lease: ``(event, kind, holder)``,
        oldest first; ``kind`` is one of ``LEASE_CONFLICTS``."""
        rows = self._query(
            "SELECT e.id, e.sample_id, e.label, e.annotator, e.source, e.created_at, "
            "e.request_id, c.kind, c.holder FROM lease_conflicts AS c "
            "JOIN label_events AS e ON e.id = c.event_id ORDER BY e.id"
        )
        return [(self._make_event(row[:7]), str(row[7]), row[8]) for row in rows]

    # --- annotators ----------------------------------------------------------------------

    def add_annotator(self, name: str, *, token_hash: str, is_admin: bool = False) -> None:
        """Register ``name`` with the hash of their token; ValueError if the name is taken."""
        name = _check_name("annotator name", name)
        if not _TOKEN_HASH.fullmatch(str(token_hash)):
            raise ValueError("token_hash must be 64 lowercase hex digits (a SHA-256 digest)")
        try:
            with self._transaction() as db:
                db.execute(
                    "INSERT INTO annotators (name, token_hash, is_admin, created_at) "
                    "VALUES (?, ?, ?, ?)",
                    (name, token_hash, int(bool(is_admin)), time.time()),
                )
        except sqlite3.IntegrityError:
            raise ValueError(f"an annotator called {name!r} exists already") from None

    def remove_annotator(self, name: str) -> bool:
        """Revoke ``name``'s token; False if there was no such annotator. Their labels stay."""
        with self._transaction() as db:
            return db.execute("DELETE FROM annotators WHERE name = ?", (name,)).rowcount > 0

    def get_annotators(self) -> list[Annotator]:
        """Every registered annotator, by name."""
        rows = self._query("SELECT name, is_admin, created_at FROM annotators ORDER BY name")
        return [Annotator(str(n), bool(a), float(t)) for n, a, t in rows]

    def find_annotator(self, token_hash: str) -> Annotator | None:
        """The annotator whose token has this hash, or None."""
        row = self._query_one(
            "SELECT name, is_admin, created_at FROM annotators WHERE token_hash = ?",
            (str(token_hash),),
        )
        return None if row is None else Annotator(str(row[0]), bool(row[1]), float(row[2]))

    # --- an external annotation tool (Label Studio) -------------------------------------

    def get_remote_tasks(self, remote: str) -> list[RemoteTask]:
        """The tasks recorded for the linked project ``remote``, by sample id."""
        rows = self._query(
            "SELECT sample_id, task_id, round_id, state FROM remote_tasks WHERE remote = ? "
            "ORDER BY sample_id",
            (_check_name("remote", remote),),
        )
        return [RemoteTask(int(s), int(t), r, str(state)) for s, t, r, state in rows]

    def save_remote_tasks(self, remote: str, tasks: Sequence[RemoteTask]) -> None:
        """Record ``tasks`` (new, or replacing the record of the same sample) in one
        transaction."""
        remote = _check_name("remote", remote)
        rows = []
        for task in tasks:
            if task.state not in ("open", "marked"):
                raise ValueError(f"task state must be 'open' or 'marked', got {task.state!r}")
            sample_id = self._check_sample_id(task.sample_id)
            rows.append(
                (remote, sample_id, int(task.task_id), task.round_id, task.state, time.time())
            )
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO remote_tasks (remote, sample_id, task_id, round_id, state, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (remote, sample_id) DO UPDATE "
                "SET task_id = excluded.task_id, round_id = excluded.round_id, "
                "state = excluded.state",
                rows,
            )

    def remove_remote_tasks(self, remote: str, sample_ids: Sequence[int]) -> None:
        """Forget the tasks of ``sample_ids`` (removed from the remote project)."""
        remote = _check_name("remote", remote)
        with self._transaction() as db:
            db.executemany(
                "DELETE FROM remote_tasks WHERE remote = ? AND sample_id = ?",
                ((remote, int(sample)) for sample in sample_ids),
            )

    def get_remote_annotations(self, remote: str) -> dict[int, RemoteAnnotation]:
        """What each remote annotation last said, by annotation id (deleted ones left out)."""
        rows = self._query(
            "SELECT annotation_id, sample_id, kind, value, annotator, updated_at "
            "FROM remote_annotations WHERE remote = ? AND kind != 'deleted' "
            "ORDER BY annotation_id",
            (_check_name("remote", remote),),
        )
        return {int(row[0]): RemoteAnnotation(int(row[0]), int(row[1]), *row[2:]) for row in rows}

    def apply_remote_annotations(
        self,
        remote: str,
        annotations: Sequence[RemoteAnnotation],
        *,
        deleted_ids: Sequence[int] = (),
        source: str,
    ) -> RemoteChanges:
        """Bring the label log in line with what remote annotations say now, in one
        transaction; idempotent: applying the same annotations again changes nothing.

        A new label annotation appends a label event (``source``, the annotator, the tool's
        time); a changed one appends a new event and retracts the one it replaces; a skip is
        recorded as a skip, never a label; a 'rejected' one (a label that is not a class) is
        kept for the report only. ``deleted_ids``: annotations deleted remotely; their label
        event is retracted, and a sample left with no live label goes back to the front of
        the queue. Raises ValueError (storing nothing) on a bad sample or kind.
        """
        remote = _check_name("remote", remote)
        source = _check_name("source", source)
        for annotation in annotations:
            self._check_remote_annotation(annotation)
        changes = RemoteChanges()
        with self._transaction() as db:
            for annotation in annotations:
                row = db.execute(
                    "SELECT kind, value, event_id FROM remote_annotations "
                    "WHERE remote = ? AND annotation_id = ?",
                    (remote, annotation.annotation_id),
                ).fetchone()
                if row is not None and (row[0], row[1]) == (annotation.kind, annotation.value):
                    changes.n_unchanged += 1
                    continue
                if row is not None and row[2] is not None:
                    self._retract_remote_event(db, int(row[2]), annotation.annotator)
                event_id = self._record_remote_annotation(db, annotation, source)
                if annotation.kind == "label":
                    was_label = row is not None and row[0] == "label"
                    (changes.updated if was_label else changes.labeled).append(
                        annotation.annotation_id
                    )
                elif annotation.kind == "skip":
                    changes.skipped.append(annotation.annotation_id)
                else:
                    changes.rejected[annotation.annotation_id] = str(annotation.value)
                db.execute(
                    "INSERT INTO remote_annotations (remote, annotation_id, sample_id, kind, "
                    "value, annotator, event_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (remote, annotation_id) DO UPDATE SET kind = excluded.kind, "
                    "value = excluded.value, annotator = excluded.annotator, "
                    "event_id = excluded.event_id, updated_at = excluded.updated_at",
                    (
                        remote,
                        annotation.annotation_id,
                        annotation.sample_id,
                        annotation.kind,
                        annotation.value,
                        annotation.annotator,
                        event_id,
                        float(annotation.updated_at),
                    ),
                )
                self._requeue_if_unlabeled(db, annotation.sample_id)
            for annotation_id in deleted_ids:
                row = db.execute(
                    "SELECT sample_id, annotator, event_id FROM remote_annotations "
                    "WHERE remote = ? AND annotation_id = ? AND kind != 'deleted'",
                    (remote, int(annotation_id)),
                ).fetchone()
                if row is None:
                    continue
                sample_id, annotator, event_id = row
                if event_id is not None:
                    self._retract_remote_event(db, int(event_id), str(annotator))
                db.execute(
                    "UPDATE remote_annotations SET kind = 'deleted', event_id = NULL, "
                    "updated_at = ? WHERE remote = ? AND annotation_id = ?",
                    (time.time(), remote, int(annotation_id)),
                )
                self._requeue_if_unlabeled(db, int(sample_id))
                changes.deleted.append(int(annotation_id))
        return changes

    def _check_remote_annotation(self, annotation: RemoteAnnotation) -> None:
        where = f"annotation {annotation.annotation_id!r}: "
        try:
            if isinstance(annotation.annotation_id, bool) or not isinstance(
                annotation.annotation_id, int
            ):
                raise ValueError(f"the id must be an integer, got {annotation.annotation_id!r}")
            sample_id = self._check_sample_id(annotation.sample_id)
            if self._is_test[sample_id]:
                raise ValueError(f"sample {sample_id} is in the test split")
            if annotation.kind not in REMOTE_KINDS:
                raise ValueError(
                    f"unknown kind {annotation.kind!r}; the kinds are: {', '.join(REMOTE_KINDS)}"
                )
            if annotation.kind == "label":
                self._check_label(annotation.value)
            _check_name("annotator", annotation.annotator)
            if not math.isfinite(float(annotation.updated_at)):
                raise ValueError(f"updated_at must be unix seconds, got {annotation.updated_at}")
        except ValueError as error:
            raise ValueError(f"{where}{error}") from None

    def _record_remote_annotation(
        self, db: sqlite3.Connection, annotation: RemoteAnnotation, source: str
    ) -> int | None:
        """Write what a new or changed annotation says: the id of its label event, if any."""
        if annotation.kind == "label":
            label = NewLabel(
                annotation.sample_id,
                str(annotation.value),
                annotation.annotator,
                source,
                created_at=annotation.updated_at,
            )
            (event,) = self._insert_labels(db, [label])
            return event.id
        if annotation.kind == "skip":
            db.execute(
                "INSERT INTO skips (sample_id, annotator, created_at) VALUES (?, ?, ?)",
                (annotation.sample_id, annotation.annotator, float(annotation.updated_at)),
            )
        return None

    @staticmethod
    def _retract_remote_event(db: sqlite3.Connection, event_id: int, annotator: str) -> None:
        db.execute(
            "INSERT OR IGNORE INTO retractions (event_id, annotator, created_at) VALUES (?, ?, ?)",
            (event_id, annotator, time.time()),
        )

    @staticmethod
    def _requeue_if_unlabeled(db: sqlite3.Connection, sample_id: int) -> None:
        """Put a sample that has lost its last live label back at the front of the queue (a
        label taken back remotely: the image still needs one)."""
        labeled = db.execute(
            "SELECT 1 FROM live_label_events WHERE sample_id = ? LIMIT 1", (sample_id,)
        ).fetchone()
        queued = db.execute("SELECT 1 FROM queue WHERE sample_id = ?", (sample_id,)).fetchone()
        was_labeled = db.execute(
            "SELECT 1 FROM label_events WHERE sample_id = ? LIMIT 1", (sample_id,)
        ).fetchone()
        last_round = db.execute("SELECT MAX(id) FROM rounds").fetchone()[0]
        if labeled or queued or not was_labeled or last_round is None:
            return
        db.execute(
            "INSERT INTO queue (sample_id, round_id, position, score, leased_by, lease_expires) "
            "VALUES (?, ?, (SELECT COALESCE(MIN(position), 0) - 1 FROM queue), NULL, NULL, NULL)",
            (sample_id, last_round),
        )

    # --- internals -----------------------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed on success, rolled back on any error."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                # SQLite may have rolled back already (e.g. disk full); never leave one open.
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def _query_one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        with self._lock:
            row: tuple[Any, ...] | None = self._db.execute(sql, params).fetchone()
            return row

    def _check_sample_id(self, sample_id: Any) -> int:
        try:
            if isinstance(sample_id, bool):
                raise TypeError
            index = operator.index(sample_id)
        except TypeError:
            raise ValueError(f"sample id must be an integer, got {sample_id!r}") from None
        if not 0 <= index < self.n_samples:
            raise ValueError(
                f"there is no sample {index}; sample ids run from 0 to {self.n_samples - 1}"
            )
        return index

    def _check_label(self, label_name: Any) -> int:
        try:
            return self._class_ids[label_name]
        except (KeyError, TypeError):
            valid = ", ".join(self._class_names)
            raise ValueError(f"unknown label {label_name!r}; the classes are: {valid}") from None

    def _insert_labels(
        self, db: sqlite3.Connection, labels: Sequence[NewLabel]
    ) -> list[LabelEvent]:
        """Check every label, then insert them; inside a write transaction."""
        checked = []
        for position, label in enumerate(labels):
            where = "" if len(labels) == 1 else f"label {position}: "
            try:
                sample_id = self._check_sample_id(label.sample_id)
                if self._is_test[sample_id]:
                    raise ValueError(
                        f"sample {sample_id} is in the test split, which is held out to "
                        "measure accuracy and cannot be labeled"
                    )
                label_id = self._check_label(label.label_name)
                annotator = _check_name("annotator", label.annotator)
                source = _check_name("source", label.source)
                request_id = label.request_id
                if request_id is not None:
                    request_id = _check_name("request_id", request_id)
            except ValueError as error:
                raise ValueError(f"{where}{error}") from None
            checked.append((sample_id, label_id, annotator, source, request_id))

        events: list[LabelEvent] = []
        for (sample_id, label_id, annotator, source, request_id), label in zip(
            checked, labels, strict=True
        ):
            now = time.time() if label.created_at is None else float(label.created_at)
            if request_id is not None:
                row = db.execute(
                    "SELECT id, sample_id, label, annotator, source, created_at, request_id "
                    "FROM label_events WHERE request_id = ?",
                    (request_id,),
                ).fetchone()
                if row is not None:
                    event = self._make_event(row)
                    _check_same_request(event, sample_id, label_id, request_id)
                    events.append(event)
                    continue
            cursor = db.execute(
                "INSERT INTO label_events (sample_id, label, annotator, source, created_at, "
                "request_id) VALUES (?, ?, ?, ?, ?, ?)",
                (sample_id, label_id, annotator, source, now, request_id),
            )
            event_id = int(cursor.lastrowid or 0)
            events.append(
                LabelEvent(
                    event_id,
                    sample_id,
                    label_id,
                    self._class_names[label_id],
                    annotator,
                    source,
                    now,
                    request_id,
                )
            )
        _execute_in(db, "DELETE FROM queue WHERE sample_id IN ({})", [c[0] for c in checked])
        return events

    def _find_request(self, db: sqlite3.Connection, request_id: str) -> int | None:
        row = db.execute(
            "SELECT id FROM label_events WHERE request_id = ?", (str(request_id),)
        ).fetchone()
        return None if row is None else int(row[0])

    def _get_event(self, db: sqlite3.Connection, event_id: int) -> LabelEvent:
        row = db.execute(
            "SELECT id, sample_id, label, annotator, source, created_at, request_id "
            "FROM label_events WHERE id = ?",
            (event_id,),
        ).fetchone()
        return self._make_event(row)

    @staticmethod
    def _get_lease_conflict(db: sqlite3.Connection, event_id: int) -> tuple[str, str | None]:
        row = db.execute(
            "SELECT kind, holder FROM lease_conflicts WHERE event_id = ?", (event_id,)
        ).fetchone()
        return (LEASE_HELD, None) if row is None else (str(row[0]), row[1])

    def _make_event(self, row: Sequence[Any]) -> LabelEvent:
        event_id, sample_id, label, annotator, source, created_at, request_id = row
        return LabelEvent(
            int(event_id),
            int(sample_id),
            int(label),
            self._class_names[label],
            annotator,
            source,
            float(created_at),
            request_id,
        )

    @staticmethod
    def _make_round(row: Sequence[Any]) -> RoundRecord:
        values = list(row)
        values[10] = json.loads(values[10])
        return RoundRecord(*values)

    @staticmethod
    def _check_running(db: sqlite3.Connection, round_id: int) -> None:
        row = db.execute("SELECT status FROM rounds WHERE id = ?", (int(round_id),)).fetchone()
        if row is None:
            raise ValueError(f"there is no round {round_id}")
        if row[0] != "running":
            raise ValueError(f"round {round_id} is {row[0]}, not running")

    def _end_round(self, round_id: int) -> None:
        with self._lock:
            if self._round_lock_id == round_id:
                self._release_round_lock()

    def _round_lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".round-lock")

    def _acquire_round_lock(self) -> None:
        """Take the project's round lock, or raise ValueError if another process holds it."""
        if fcntl is None:  # pragma: no cover - Windows: rely on the 'running' status alone
            return
        lock_file = open(self._round_lock_path(), "ab")  # noqa: SIM115 - held across calls
        try:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.close()
            raise ValueError(
                f"another process is running a round of {self.path.parent}; wait for it"
            ) from None
        self._round_lock_file = lock_file

    def _release_round_lock(self) -> None:
        if self._round_lock_file is not None:
            self._round_lock_file.close()  # closing drops the flock
            self._round_lock_file = None
        self._round_lock_id = None

    def _mark_interrupted_rounds(self) -> None:
        """Mark failed the rounds left 'running' by processes that no longer run.

        A live round's process holds the round lock; when the lock is free, no process is
        running a round, so every 'running' row is a leftover of a killed one.
        """
        with self._lock:
            running = self._query("SELECT id FROM rounds WHERE status = 'running'")
            if not running:
                return
            owns_lock = self._round_lock_file is not None
            if not owns_lock:
                try:
                    self._acquire_round_lock()
                except ValueError:
                    return  # a live process is running its round
            try:
                with self._transaction() as db:
                    db.execute(
                        "UPDATE rounds SET status = 'failed', finished_at = ?, "
                        "error = 'interrupted' WHERE status = 'running'",
                        (time.time(),),
                    )
                for (round_id,) in running:
                    logger.warning("round %d was interrupted (its process stopped)", round_id)
            finally:
                if not owns_lock:
                    self._release_round_lock()


_ROUND_SELECT = (
    "SELECT id, status, started_at, finished_at, strategy, query_size, n_labels, val_accuracy, "
    "test_accuracy, folder, config_json, error FROM rounds"
)
_QUEUE_SELECT = "SELECT sample_id, round_id, position, score, leased_by, lease_expires FROM queue"
_TOKEN_HASH = re.compile(r"[0-9a-f]{64}")


def _check_same_request(event: LabelEvent, sample_id: int, label: int, request_id: str) -> None:
    """A request id seen before must come with the sample and label it first came with."""
    if (event.sample_id, event.label) != (sample_id, label):
        raise ValueError(
            f"request id {request_id!r} was already used to label sample "
            f"{event.sample_id} as {event.label_name!r}; use a new request id"
        )


def _classify_lease(
    row: Sequence[Any] | None, annotator: str, now: float
) -> tuple[str, str | None]:
    """How a submission by ``annotator`` stands to a queue row ``(leased_by, lease_expires)``:
    ``(kind, holder)`` with kind "held" or one of ``LEASE_CONFLICTS``."""
    if row is None:
        return "not_queued", None
    holder, expires = row
    live = holder is not None and expires is not None and expires > now
    if holder == annotator:
        return (LEASE_HELD, None) if live else ("expired", None)
    if live:
        return "taken", holder
    return "not_leased", None


def _database_path(path: str | os.PathLike[str]) -> Path:
    target = Path(path)
    return target / DATABASE_NAME if target.is_dir() else target


def _connect(path: Path) -> sqlite3.Connection:
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
    connection: sqlite3.Connection, schema: str = _SCHEMA + _SCHEMA_V2 + _SCHEMA_V3
) -> None:
    # executescript() would commit the open transaction first; run statement by statement.
    statement = ""
    for line in schema.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            connection.execute(statement)
            statement = ""


def _upgrade(connection: sqlite3.Connection) -> None:
    """Add the tables of each later version in turn (2: skips, retractions, lease conflicts,
    annotators; 3: the remote tool's tasks and annotations), in one transaction."""
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


def _execute_in(db: sqlite3.Connection, sql: str, values: Sequence[int]) -> None:
    # SQLite limits the number of parameters per statement; go in chunks.
    for start in range(0, len(values), 500):
        chunk = values[start : start + 500]
        db.execute(sql.format(",".join("?" * len(chunk))), chunk)


def _pairs_to_arrays(rows: Iterable[tuple[Any, ...]]) -> tuple[Ids, Ids]:
    array = np.array(list(rows), dtype=np.int64).reshape(-1, 2)
    return array[:, 0].copy(), array[:, 1].copy()


def _as_id_array(name: str, values: Any, *, n_samples: int) -> Ids:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must hold integer sample ids, got dtype {array.dtype}")
    ids = array.astype(np.int64)
    bad = ids[(ids < 0) | (ids >= n_samples)]
    if bad.size:
        raise ValueError(f"{name} holds ids outside 0 to {n_samples - 1}: {bad[:5].tolist()}")
    return ids


def _check_split(split: Any) -> str:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; the splits are: {', '.join(SPLITS)}")
    return str(split)


def _check_name(what: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    return value


def _check_count(what: str, value: Any, *, minimum: int) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{what} must be an integer >= {minimum}, got {value!r}")
    try:
        count = operator.index(value)
    except TypeError:
        raise ValueError(f"{what} must be an integer >= {minimum}, got {value!r}") from None
    if count < minimum:
        raise ValueError(f"{what} must be an integer >= {minimum}, got {value!r}")
    return count


def _check_fraction(what: str, value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"{what} must be a fraction in [0, 1] or None, got {value!r}")
    return number


def check_class_name(name: Any) -> str:
    """Return ``name`` if it can name a class (also as a folder name); else raise ValueError."""
    if not isinstance(name, str) or not name or name != name.strip():
        raise ValueError(
            f"class name {name!r} must be a non-empty string without surrounding spaces"
        )
    if name in (".", "..") or any(char in name for char in "/\\,") or not name.isprintable():
        raise ValueError(
            f"class name {name!r} may not be '.' or '..' nor hold '/', '\\', ',' or "
            "control characters (it names a folder and a --classes item)"
        )
    return name


def check_class_names(class_names: Sequence[str]) -> tuple[str, ...]:
    """Return ``class_names`` as a tuple of at least 2 unique valid names, or raise ValueError."""
    if isinstance(class_names, str):
        raise ValueError(f"class_names must be a sequence of names, got the string {class_names!r}")
    names = tuple(check_class_name(name) for name in class_names)
    if len(names) < 2:
        raise ValueError(f"a project needs at least 2 classes, got {list(names)}")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"class names must be unique; repeated: {', '.join(duplicates)}")
    return names


def _check_new_samples(
    samples: Sequence[NewSample], *, n_classes: int
) -> list[tuple[str, str, int | None]]:
    rows: list[tuple[str, str, int | None]] = []
    seen: set[str] = set()
    for index, sample in enumerate(samples):
        if not isinstance(sample.path, str) or not sample.path:
            raise ValueError(f"sample {index}: path must be a non-empty string")
        if sample.path in seen:
            raise ValueError(f"sample {index}: the path {sample.path!r} is listed twice")
        seen.add(sample.path)
        if sample.split not in SPLITS:
            raise ValueError(
                f"sample {index} ({sample.path}): unknown split {sample.split!r}; "
                f"the splits are: {', '.join(SPLITS)}"
            )
        label = sample.known_label
        if label is not None:
            if isinstance(label, bool) or not isinstance(label, int | np.integer):
                raise ValueError(f"sample {index}: known_label must be an int or None")
            if not 0 <= label < n_classes:
                raise ValueError(
                    f"sample {index} ({sample.path}): known_label {label} is not a class "
                    f"index (0 to {n_classes - 1})"
                )
            label = int(label)
        rows.append((sample.path, sample.split, label))
    return rows


def _check_meta(meta: Mapping[str, str]) -> list[tuple[str, str]]:
    items = []
    for key, value in meta.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"meta keys must be non-empty strings, got {key!r}")
        if not isinstance(value, str):
            raise ValueError(f"meta value of {key!r} must be a string, got {value!r}")
        items.append((key, value))
    return items
