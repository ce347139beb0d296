"""Rounds: their records, results and the queue each one leaves, and the lock that tells other
processes a round is alive."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from generators.checks import check_fraction, check_int
from labeler.store.core import StoreCore
from labeler.store.records import Ids, RoundRecord

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

ROUND_STATUSES = ("running", "done", "failed")


class RoundLog(StoreCore):
    """Starting, finishing and reading rounds. A store that starts a round holds the project's
    round lock (a file lock beside the database) until the round ends or the store closes."""

    _round_lock_file: IO[bytes] | None = None
    _round_lock_id: int | None = None

    def start_round(self, *, strategy: str, query_size: int, config: Mapping[str, Any]) -> int:
        """Record a new running round and return its id.

        This store holds the project's round lock until ``finish_round`` / ``fail_round`` (or
        ``close``), so another process opening the project knows the round is alive. Raises
        ValueError when another round is running.
        """
        if not isinstance(strategy, str) or not strategy:
            raise ValueError(f"strategy must be a non-empty string, got {strategy!r}")
        query_size = check_int("query_size", query_size, low=1)
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

        ``scored_ids`` ``[n]`` and ``scores`` ``[n]`` (higher = more informative) give each
        queued sample its score (the round folder keeps them all); the queue is replaced by
        ``selected_ids`` (best first). Queued items of earlier rounds are dropped, except those
        an annotator holds an unexpired lease on: they keep the lease (and, when not selected
        again, go after the new batch). Selected samples labeled while the round ran are left
        out. ``folder`` is the round's folder relative to the project.
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
        n_labels = check_int("n_labels", n_labels, low=0)
        accuracies = [
            _check_accuracy(name, value)
            for name, value in (("val_accuracy", val_accuracy), ("test_accuracy", test_accuracy))
        ]
        score_of = dict(zip(ids.tolist(), values.tolist(), strict=True))

        with self._transaction() as db:
            self._check_running(db, round_id)
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

    def get_last_done_round(self) -> RoundRecord | None:
        """The latest round with status 'done', or None."""
        row = self._query_one(_ROUND_SELECT + " WHERE status = 'done' ORDER BY id DESC LIMIT 1")
        return None if row is None else self._make_round(row)

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


def _check_accuracy(what: str, value: Any) -> float | None:
    return None if value is None else check_fraction(what, value)
