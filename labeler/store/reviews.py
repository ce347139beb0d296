"""The review queue: labeled samples a second annotator labels again, blind, and the log of
their answers.

A review is served only to an annotator with no live label on the sample, and the page never
shows the label under review. The rule for the current label stays the label log's (the latest
live label: ``labeler.store.labels``), so a review answer works through it:
- an answer equal to the current label **confirms** it, and the review is done;
- another answer **disputes** it: it becomes the latest, so the current, label, and the sample
  goes back to the review queue (reason "dispute") for a third annotator, who has labeled it
  neither way. The third answer is then the latest: when it agrees with one of the two, two of
  three annotators stand behind the current label, and the review is done; a third class
  leaves it open for a fourth.
The answers are label events (source ``review``) plus a row of ``review_answers``; both logs
are append-only. Undoing an answer (``undo_last_label``) reopens its review, leased to the
reviewer, with the reason it had.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable

from generators.checks import check_int, check_number
from labeler.store.core import check_name
from labeler.store.labels import LabelLog
from labeler.store.records import (
    REVIEW_REASONS,
    NewLabel,
    OwnLabelError,
    ReviewAnswer,
    ReviewItem,
)

REVIEW_SOURCE = "review"
_REVIEW_SELECT = (
    "SELECT sample_id, reason, position, labeled_by, leased_by, lease_expires FROM reviews"
)
_OWN_LABEL = "SELECT 1 FROM live_label_events WHERE sample_id = ? AND annotator = ? LIMIT 1"


class ReviewQueue(LabelLog):
    """Sending labels to review, serving them blind, and recording the answers."""

    def add_reviews(self, sample_ids: Iterable[int], *, reason: str) -> int:
        """Queue the labeled ``sample_ids`` for review (after the open ones) with ``reason``
        (``REVIEW_REASONS``); samples already open are left as they are. Returns how many were
        added. ValueError, with nothing added, for an unlabeled or test sample."""
        if reason not in REVIEW_REASONS:
            raise ValueError(
                f"unknown review reason {reason!r}; valid ones: {', '.join(REVIEW_REASONS)}"
            )
        samples = [self._check_sample_id(sample) for sample in sample_ids]
        now = time.time()
        added = 0
        with self._transaction() as db:
            for sample in samples:
                current = _get_current(db, sample)
                if current is None:
                    raise ValueError(f"sample {sample} has no label to review")
                if _is_open(db, sample):
                    continue
                db.execute(
                    "INSERT OR REPLACE INTO reviews (sample_id, reason, state, position, "
                    "labeled_by, created_at, leased_by, lease_expires) VALUES (?, ?, 'open', "
                    "(SELECT COALESCE(MAX(position), -1) + 1 FROM reviews WHERE state = 'open'), "
                    "?, ?, NULL, NULL)",
                    (sample, reason, current[1], now),
                )
                added += 1
        return added

    def get_reviews(self) -> list[ReviewItem]:
        """The open reviews, in order."""
        rows = self._query(_REVIEW_SELECT + " WHERE state = 'open' ORDER BY position")
        return [ReviewItem(*row) for row in rows]

    def count_reviews(self, *, now: float | None = None) -> tuple[int, int]:
        """``(waiting, leased)`` open reviews."""
        now = time.time() if now is None else float(now)
        (total, leased) = self._query(
            "SELECT COUNT(*), COALESCE(SUM(lease_expires > ?), 0) FROM reviews "
            "WHERE state = 'open'",
            (now,),
        )[0]
        return int(total) - int(leased), int(leased)

    def get_review_answers(self) -> list[tuple[int, str, str, str]]:
        """``(event_id, reviewer, labeled_by, outcome)`` of every live review answer (an
        undone answer does not count), oldest first."""
        rows = self._query(
            "SELECT a.event_id, e.annotator, a.labeled_by, a.outcome FROM review_answers AS a "
            "JOIN live_label_events AS e ON e.id = a.event_id ORDER BY a.event_id"
        )
        return [(int(i), str(r), str(b), str(o)) for i, r, b, o in rows]

    def lease_reviews(
        self, annotator: str, n: int, *, lease_seconds: float, now: float | None = None
    ) -> list[ReviewItem]:
        """Lease up to ``n`` open reviews to ``annotator``: their own unexpired leases first,
        then free ones in order that they never labeled nor skipped."""
        annotator = check_name("annotator", annotator)
        n = check_int("n", n, low=0)
        lease_seconds = check_number("lease_seconds", lease_seconds, low=0, low_open=True)
        now = time.time() if now is None else float(now)
        # Every /api/next asks: without open reviews, take no write lock (a round may hold it).
        if not self._query("SELECT 1 FROM reviews WHERE state = 'open' LIMIT 1"):
            return []
        with self._transaction() as db:
            rows = db.execute(
                "SELECT sample_id FROM reviews WHERE state = 'open' AND leased_by = ? "
                "AND lease_expires > ? ORDER BY position LIMIT ?",
                (annotator, now, n),
            ).fetchall()
            if len(rows) < n:
                rows += db.execute(
                    "SELECT r.sample_id FROM reviews AS r WHERE r.state = 'open' "
                    "AND (r.leased_by IS NULL OR r.lease_expires <= ?) "
                    "AND NOT EXISTS (SELECT 1 FROM live_label_events AS e "
                    "WHERE e.sample_id = r.sample_id AND e.annotator = ?) "
                    "AND r.sample_id NOT IN (SELECT sample_id FROM skips WHERE annotator = ?) "
                    "ORDER BY r.position LIMIT ?",
                    (now, annotator, annotator, n - len(rows)),
                ).fetchall()
            ids = [int(row[0]) for row in rows]
            db.executemany(
                "UPDATE reviews SET leased_by = ?, lease_expires = ? WHERE sample_id = ?",
                ((annotator, now + lease_seconds, sample) for sample in ids),
            )
            return [
                ReviewItem(*db.execute(_REVIEW_SELECT + " WHERE sample_id = ?", (i,)).fetchone())
                for i in ids
            ]

    def get_review(self, sample_id: int) -> ReviewItem | None:
        """The open review of ``sample_id``, or None."""
        rows = self._query(
            _REVIEW_SELECT + " WHERE sample_id = ? AND state = 'open'",
            (self._check_sample_id(sample_id),),
        )
        return ReviewItem(*rows[0]) if rows else None

    def has_open_review(self, sample_id: int) -> bool:
        return self.get_review(sample_id) is not None

    def submit_review(
        self,
        sample_id: int,
        label_name: str,
        *,
        annotator: str,
        request_id: str | None = None,
    ) -> ReviewAnswer:
        """Record ``annotator``'s blind answer to the open review of ``sample_id`` (module
        docstring), in one transaction. A ``request_id`` seen before returns the first answer
        with ``duplicate`` True. ``OwnLabelError`` when ``annotator`` labeled the sample
        (reviews are blind second looks); ValueError when it has no open review."""
        label = NewLabel(sample_id, label_name, annotator, REVIEW_SOURCE, request_id)
        with self._transaction() as db:
            retried = self._find_retry(db, request_id, sample_id, label_name)
            if retried is not None:
                row = db.execute(
                    "SELECT outcome FROM review_answers WHERE event_id = ?", (retried.id,)
                ).fetchone()
                if row is None:
                    raise ValueError(
                        f"request id {request_id!r} was used for a label, not a review"
                    )
                return ReviewAnswer(retried, str(row[0]), True)
            return self._answer_review(db, label)

    def _answer_review(self, db: sqlite3.Connection, label: NewLabel) -> ReviewAnswer:
        """Store ``label`` as the answer to its sample's open review (module docstring),
        inside a write transaction; ``OwnLabelError`` or ValueError as ``submit_review``."""
        sample = self._check_sample_id(label.sample_id)
        annotator = check_name("annotator", label.annotator)
        review = db.execute(
            "SELECT reason FROM reviews WHERE sample_id = ? AND state = 'open'", (sample,)
        ).fetchone()
        if review is None:
            raise ValueError(f"sample {sample} has no open review")
        if db.execute(_OWN_LABEL, (sample, annotator)).fetchone():
            raise OwnLabelError(
                f"{annotator} labeled sample {sample} and cannot review it: reviews go to "
                "another annotator, blind"
            )
        current = _get_current(db, sample)
        if current is None:  # not reached: undoing a sample's last label closes its review
            raise ValueError(f"sample {sample} has no label to review")
        labels_before = {
            int(row[0])
            for row in db.execute(
                "SELECT DISTINCT label FROM live_label_events WHERE sample_id = ?", (sample,)
            )
        }
        (event,) = self._insert_labels(db, [label])
        confirmed = event.label == current[0]
        reason = str(review[0])
        db.execute(
            "INSERT INTO review_answers (event_id, sample_id, outcome, reviewed_label, "
            "labeled_by, reason) VALUES (?, ?, ?, ?, ?, ?)",
            (
                event.id,
                sample,
                "confirmed" if confirmed else "disputed",
                current[0],
                current[1],
                reason,
            ),
        )
        # A dispute settles when the new answer sides with an earlier label.
        settled = confirmed or (reason == "dispute" and event.label in labels_before)
        if settled:
            db.execute(
                "UPDATE reviews SET state = 'done', leased_by = NULL, lease_expires = NULL "
                "WHERE sample_id = ?",
                (sample,),
            )
        else:
            db.execute(
                "UPDATE reviews SET reason = 'dispute', labeled_by = ?, leased_by = NULL, "
                "lease_expires = NULL WHERE sample_id = ?",
                (annotator, sample),
            )
        return ReviewAnswer(event, "confirmed" if confirmed else "disputed", False)


def reopen_review(
    db: sqlite3.Connection,
    event_id: int,
    *,
    leased_by: str | None = None,
    lease_expires: float | None = None,
) -> None:
    """When the retracted label event ``event_id`` answered a review, open that review again
    with the reason and label it had, at the front, leased to ``leased_by`` (None: to
    nobody); inside a write transaction."""
    row = db.execute(
        "SELECT sample_id, labeled_by, reason FROM review_answers WHERE event_id = ?",
        (event_id,),
    ).fetchone()
    if row is None:
        return
    sample, labeled_by, reason = row
    db.execute(
        "UPDATE reviews SET state = 'open', reason = ?, labeled_by = ?, leased_by = ?, "
        "lease_expires = ?, position = (SELECT COALESCE(MIN(position), 0) - 1 FROM reviews "
        "WHERE state = 'open') WHERE sample_id = ?",
        (reason, labeled_by, leased_by, lease_expires, sample),
    )


def close_review(db: sqlite3.Connection, sample_id: int) -> None:
    """Close the review of a sample left with no live label (nothing is left to review: it
    needs a first label again); inside a write transaction."""
    db.execute(
        "UPDATE reviews SET state = 'done', leased_by = NULL, lease_expires = NULL "
        "WHERE sample_id = ?",
        (sample_id,),
    )


def _get_current(db: sqlite3.Connection, sample: int) -> tuple[int, str] | None:
    """``(label, annotator)`` of the sample's current label (its latest live event)."""
    row = db.execute(
        "SELECT label, annotator FROM live_label_events WHERE sample_id = ? "
        "ORDER BY id DESC LIMIT 1",
        (sample,),
    ).fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


def _is_open(db: sqlite3.Connection, sample: int) -> bool:
    row = db.execute(
        "SELECT 1 FROM reviews WHERE sample_id = ? AND state = 'open'", (sample,)
    ).fetchone()
    return row is not None
