"""The queue of images waiting for annotators, the leases that keep two annotators off one
image, and what annotators do with them: submit, skip, undo."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from typing import Any

from generators.checks import check_int, check_number
from labeler.store.core import check_name, get_label_event_columns
from labeler.store.labels import LabelLog
from labeler.store.records import LEASE_HELD, LabelEvent, NewLabel, QueueItem, Submission
from labeler.store.reviews import close_review, reopen_review

# How long an annotator holds the images they were handed (seconds); the server's default.
DEFAULT_LEASE_SECONDS = 300.0
_QUEUE_SELECT = "SELECT sample_id, round_id, position, score, leased_by, lease_expires FROM queue"


class AnnotationQueue(LabelLog):
    """The queue in order, leases on its items, and annotators' submissions, skips and undo."""

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
        annotator = check_name("annotator", annotator)
        n = check_int("n", n, low=0)
        lease_seconds = check_number("lease_seconds", lease_seconds, low=0, low_open=True)
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
            retried = self._find_retry(db, request_id, sample_id, label_name)
            if retried is not None:
                return Submission(retried, *self._get_lease_conflict(db, retried.id), True)
            index = self._check_sample_id(sample_id)
            row = db.execute(
                "SELECT leased_by, lease_expires FROM queue WHERE sample_id = ?", (index,)
            ).fetchone()
            lease, holder = classify_lease(row, annotator, now)
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
        # A test sample of known class may be a gold item (``labeler.store.gold``): skippable.
        is_gold = self._query(
            "SELECT 1 FROM samples WHERE id = ? AND known_label IS NOT NULL", (index,)
        )
        if self._is_test[index] and not is_gold:
            raise ValueError(f"sample {index} is in the test split and cannot be skipped")
        annotator = check_name("annotator", annotator)
        with self._transaction() as db:
            if request_id is not None:
                request_id = check_name("request_id", request_id)
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
            for table in ("queue", "reviews"):
                db.execute(
                    f"UPDATE {table} SET leased_by = NULL, lease_expires = NULL "
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
        label it again. When the event came from a grid (``labeler.store.grids``), the grid's
        other live events are retracted with it: one undo takes back one action. A
        ``request_id`` seen before returns the event it retracted.
        """
        annotator = check_name("annotator", annotator)
        if request_id is not None:
            request_id = check_name("request_id", request_id)
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
            # The grid's other images, last first, so that they come back in the grid's order.
            grid = [
                self._get_event(db, int(other))
                for (other,) in db.execute(
                    "SELECT e.id FROM grid_labels AS g JOIN live_label_events AS e "
                    "ON e.id = g.event_id WHERE g.grid_request_id = (SELECT grid_request_id "
                    "FROM grid_labels WHERE event_id = ?) AND e.id != ? ORDER BY e.id DESC",
                    (event.id, event.id),
                )
            ]
            for retracted, retraction_request in [(event, request_id)] + [(e, None) for e in grid]:
                _retract(db, retracted, annotator, retraction_request, now, now + lease_seconds)
        return event

    def queue_first(self, sample_ids: Sequence[int]) -> int:
        """Put the unlabeled pool samples among ``sample_ids`` at the front of the queue, in
        the given order (first id first), keeping any lease on them; labeled and test samples
        are passed over. Returns how many were put first. ValueError before the first round
        (the queue starts with it) or for an unknown sample id, with nothing changed."""
        ids = [self._check_sample_id(sample) for sample in sample_ids]
        with self._transaction() as db:
            last_round = db.execute("SELECT MAX(id) FROM rounds").fetchone()[0]
            if last_round is None:
                raise ValueError("the queue starts with the first round: run one first")
            labeled = {int(s) for (s,) in db.execute("SELECT sample_id FROM live_label_events")}
            queued = {int(s) for (s,) in db.execute("SELECT sample_id FROM queue")}
            chosen = [s for s in dict.fromkeys(ids) if not self._is_test[s] and s not in labeled]
            (front,) = db.execute("SELECT COALESCE(MIN(position), 0) FROM queue").fetchone()
            for offset, sample in enumerate(reversed(chosen), start=1):
                position = front - offset
                if sample in queued:
                    db.execute(
                        "UPDATE queue SET position = ? WHERE sample_id = ?", (position, sample)
                    )
                else:
                    db.execute(
                        "INSERT INTO queue (sample_id, round_id, position, score, leased_by, "
                        "lease_expires) VALUES (?, ?, ?, NULL, NULL, NULL)",
                        (sample, last_round, position),
                    )
        return len(chosen)

    def get_lease_conflicts(self) -> list[tuple[LabelEvent, str, str | None]]:
        """Label events submitted without holding the lease: ``(event, kind, holder)``,
        oldest first; ``kind`` is one of ``LEASE_CONFLICTS``."""
        rows = self._query(
            f"SELECT {get_label_event_columns('e')}, c.kind, c.holder FROM lease_conflicts AS c "
            "JOIN label_events AS e ON e.id = c.event_id ORDER BY e.id"
        )
        return [(self._make_event(row[:7]), str(row[7]), row[8]) for row in rows]

    # --- annotators ----------------------------------------------------------------------

    @staticmethod
    def _get_lease_conflict(db: sqlite3.Connection, event_id: int) -> tuple[str, str | None]:
        row = db.execute(
            "SELECT kind, holder FROM lease_conflicts WHERE event_id = ?", (event_id,)
        ).fetchone()
        return (LEASE_HELD, None) if row is None else (str(row[0]), row[1])


def _retract(
    db: sqlite3.Connection,
    event: LabelEvent,
    annotator: str,
    request_id: str | None,
    now: float,
    lease_expires: float,
) -> None:
    """Retract one label event, inside a write transaction: a sample left with no live label
    goes back to the front of the queue, leased to ``annotator``; an undone review answer
    reopens its review."""
    db.execute(
        "INSERT INTO retractions (event_id, annotator, created_at, request_id) VALUES (?, ?, ?, ?)",
        (event.id, annotator, now, request_id),
    )
    still_labeled = db.execute(
        "SELECT 1 FROM live_label_events WHERE sample_id = ? LIMIT 1", (event.sample_id,)
    ).fetchone()
    if still_labeled is None:
        requeue_at_front(db, event.sample_id, leased_by=annotator, lease_expires=lease_expires)
        close_review(db, event.sample_id)
    # An undone review answer: the review comes back to the reviewer.
    reopen_review(db, event.id, leased_by=annotator, lease_expires=lease_expires)


def classify_lease(row: Sequence[Any] | None, annotator: str, now: float) -> tuple[str, str | None]:
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


def requeue_at_front(
    db: sqlite3.Connection,
    sample_id: int,
    *,
    leased_by: str | None = None,
    lease_expires: float | None = None,
) -> None:
    """Put ``sample_id`` at the front of the queue (ahead of position 0, as a sample that was
    labeled and lost its label needs one again), leased to ``leased_by`` until
    ``lease_expires`` if given; inside a write transaction. Before the first round there is no
    queue to go back to, and nothing is done."""
    last_round = db.execute("SELECT MAX(id) FROM rounds").fetchone()[0]
    if last_round is None:
        return
    db.execute(
        "INSERT OR REPLACE INTO queue (sample_id, round_id, position, score, leased_by, "
        "lease_expires) VALUES (?, ?, (SELECT COALESCE(MIN(position), 0) - 1 FROM queue), "
        "NULL, ?, ?)",
        (sample_id, last_round, leased_by, lease_expires),
    )
