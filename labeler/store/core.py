"""What every part of the project store shares: one connection, one lock, one transaction
helper, the project's classes and splits, and the checks of sample ids and labels.

The store is split by concern (``samples``, ``labels``, ``rounds``, ``queue``, ``annotators``,
``remote``); each concern is a class built on ``StoreCore``, and ``database.ProjectStore``
combines them into the one object callers hold.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from generators.checks import check_int
from labeler.store.records import Ids, LabelEvent

SPLITS = ("pool", "test")
# The columns of a label event, in the order ``StoreCore._make_event`` reads them.
_LABEL_EVENT_FIELDS = (
    "id",
    "sample_id",
    "label",
    "annotator",
    "source",
    "created_at",
    "request_id",
)
LABEL_EVENT_COLUMNS = ", ".join(_LABEL_EVENT_FIELDS)


def get_label_event_columns(table: str) -> str:
    """``LABEL_EVENT_COLUMNS`` qualified by a table's name or alias (for joins)."""
    return ", ".join(f"{table}.{name}" for name in _LABEL_EVENT_FIELDS)


class StoreCore:
    """An open project database: the connection, the lock that serializes its use between
    threads, and the project's classes and splits (which never change after creation)."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._db = connection
        self._lock = threading.RLock()
        self._class_names = tuple(
            str(name) for (name,) in self._db.execute("SELECT name FROM classes ORDER BY id")
        )
        self._class_ids = {name: index for index, name in enumerate(self._class_names)}
        splits = self._db.execute("SELECT split FROM samples ORDER BY id").fetchall()
        self._is_test = np.array([split == "test" for (split,) in splits], dtype=bool)

    @property
    def class_names(self) -> tuple[str, ...]:
        """Class names; a label's class index is its position here."""
        return self._class_names

    @property
    def n_samples(self) -> int:
        """Number of samples, pool and test together (ids are ``0 .. n_samples - 1``)."""
        return int(self._is_test.shape[0])

    def get_sample_ids(self, split: str | None = None) -> Ids:
        """Sample ids of ``split`` (or all), ascending, int64 ``[n]``."""
        if split is None:
            return np.arange(self.n_samples, dtype=np.int64)
        is_test = check_split(split) == "test"
        return np.flatnonzero(self._is_test == is_test).astype(np.int64)

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
        index = check_int("sample id", sample_id)
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

    def _make_event(self, row: Sequence[Any]) -> LabelEvent:
        """A ``LabelEvent`` from a row of ``LABEL_EVENT_COLUMNS``."""
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

    def _get_event(self, db: sqlite3.Connection, event_id: int) -> LabelEvent:
        row = db.execute(
            f"SELECT {LABEL_EVENT_COLUMNS} FROM label_events WHERE id = ?", (event_id,)
        ).fetchone()
        return self._make_event(row)


def check_split(split: Any) -> str:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; the splits are: {', '.join(SPLITS)}")
    return str(split)


def check_name(what: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    return value


def execute_in(db: sqlite3.Connection, sql: str, values: Sequence[int]) -> None:
    """Run ``sql`` (with one ``{}`` for a list of ``?``) over ``values`` in chunks: SQLite
    limits the number of parameters per statement."""
    for start in range(0, len(values), 500):
        chunk = values[start : start + 500]
        db.execute(sql.format(",".join("?" * len(chunk))), chunk)


def pairs_to_arrays(rows: Iterable[tuple[Any, ...]]) -> tuple[Ids, Ids]:
    array = np.array(list(rows), dtype=np.int64).reshape(-1, 2)
    return array[:, 0].copy(), array[:, 1].copy()
