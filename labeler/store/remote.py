"""The link to an external annotation tool (Label Studio): the task each sample became there,
and what each remote annotation last said, so that reading the same annotations again changes
nothing. The tool's own JSON is read elsewhere (``server/labelstudio``); this is the store's
side.

An annotation of a review task (``RemoteAnnotation.review``) answers the sample's open review
exactly as ``submit_review`` does, blind rules included: an annotator's answer to the review of
their own label, or to a review that is closed, is refused (recorded, reported, never a
label). Taking such an answer back (a change or a deletion) reopens the review.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Sequence

from generators.checks import check_int
from labeler.store.core import check_name
from labeler.store.queue import requeue_at_front
from labeler.store.records import (
    REMOTE_KINDS,
    NewLabel,
    RemoteAnnotation,
    RemoteChanges,
    RemoteTask,
)
from labeler.store.reviews import REVIEW_SOURCE, ReviewQueue, close_review, reopen_review

REFUSED_REVIEW_ANSWER = "review answer refused"


class RemoteLinks(ReviewQueue):
    """The tasks and annotations of linked remote projects, each named by ``remote``."""

    def get_remote_tasks(self, remote: str) -> list[RemoteTask]:
        """The tasks recorded for the linked project ``remote``, by sample id."""
        rows = self._query(
            "SELECT sample_id, task_id, round_id, state FROM remote_tasks WHERE remote = ? "
            "ORDER BY sample_id",
            (check_name("remote", remote),),
        )
        return [RemoteTask(int(s), int(t), r, str(state)) for s, t, r, state in rows]

    def save_remote_tasks(self, remote: str, tasks: Sequence[RemoteTask]) -> None:
        """Record ``tasks`` (new, or replacing the record of the same sample) in one
        transaction."""
        remote = check_name("remote", remote)
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
        remote = check_name("remote", remote)
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
            (check_name("remote", remote),),
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
        remote = check_name("remote", remote)
        source = check_name("source", source)
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
                if row is not None and _says_the_same(row[0], row[1], annotation):
                    changes.n_unchanged += 1
                    continue
                if row is not None and row[2] is not None:
                    self._retract_remote_event(db, int(row[2]), annotation.annotator)
                kind, value, event_id = self._record_remote_annotation(db, annotation, source)
                if kind == "label":
                    was_label = row is not None and row[0] == "label"
                    (changes.updated if was_label else changes.labeled).append(
                        annotation.annotation_id
                    )
                elif kind == "skip":
                    changes.skipped.append(annotation.annotation_id)
                else:
                    changes.rejected[annotation.annotation_id] = str(value)
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
                        kind,
                        value,
                        annotation.annotator,
                        event_id,
                        float(annotation.updated_at),
                    ),
                )
                _requeue_if_unlabeled(db, annotation.sample_id)
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
                _requeue_if_unlabeled(db, int(sample_id))
                changes.deleted.append(int(annotation_id))
        return changes

    def _check_remote_annotation(self, annotation: RemoteAnnotation) -> None:
        where = f"annotation {annotation.annotation_id!r}: "
        try:
            check_int("the id", annotation.annotation_id)
            sample_id = self._check_sample_id(annotation.sample_id)
            if self._is_test[sample_id]:
                raise ValueError(f"sample {sample_id} is in the test split")
            if annotation.kind not in REMOTE_KINDS:
                raise ValueError(
                    f"unknown kind {annotation.kind!r}; the kinds are: {', '.join(REMOTE_KINDS)}"
                )
            if annotation.kind == "label":
                self._check_label(annotation.value)
            check_name("annotator", annotation.annotator)
            if not math.isfinite(float(annotation.updated_at)):
                raise ValueError(f"updated_at must be unix seconds, got {annotation.updated_at}")
        except ValueError as error:
            raise ValueError(f"{where}{error}") from None

    def _record_remote_annotation(
        self, db: sqlite3.Connection, annotation: RemoteAnnotation, source: str
    ) -> tuple[str, str | None, int | None]:
        """Write what a new or changed annotation says: the kind and value recorded, and the
        id of its label event, if any. A label answering a review task is that review's
        answer (source ``review``); one the review cannot take (the annotator's own label,
        or no open review) is recorded as refused, never as a label."""
        if annotation.kind == "label":
            label = NewLabel(
                annotation.sample_id,
                str(annotation.value),
                annotation.annotator,
                REVIEW_SOURCE if annotation.review else source,
                created_at=annotation.updated_at,
            )
            if not annotation.review:
                (event,) = self._insert_labels(db, [label])
                return "label", annotation.value, event.id
            try:
                answer = self._answer_review(db, label)
            except ValueError as error:  # OwnLabelError included
                return "rejected", make_refused_answer(label.label_name, str(error)), None
            return "label", annotation.value, answer.event.id
        if annotation.kind == "skip":
            db.execute(
                "INSERT INTO skips (sample_id, annotator, created_at) VALUES (?, ?, ?)",
                (annotation.sample_id, annotation.annotator, float(annotation.updated_at)),
            )
        return annotation.kind, annotation.value, None

    @staticmethod
    def _retract_remote_event(db: sqlite3.Connection, event_id: int, annotator: str) -> None:
        """Retract a remote annotation's label event; an answer to a review reopens it."""
        db.execute(
            "INSERT OR IGNORE INTO retractions (event_id, annotator, created_at) VALUES (?, ?, ?)",
            (event_id, annotator, time.time()),
        )
        reopen_review(db, event_id)


def make_refused_answer(label: str, why: str) -> str:
    """What a refused review answer is recorded as (the kind 'rejected' keeps it out of the
    label log): the label given, and why the review could not take it."""
    return f"{label} ({REFUSED_REVIEW_ANSWER}: {why})"


def is_refused_answer(value: str | None) -> bool:
    return value is not None and f"({REFUSED_REVIEW_ANSWER}: " in value


def _says_the_same(kind: str, value: str | None, annotation: RemoteAnnotation) -> bool:
    """Whether the recorded (``kind``, ``value``) is what ``annotation`` says now; a review
    answer refused once stays refused while its label is the same."""
    if (kind, value) == (annotation.kind, annotation.value):
        return True
    return (
        annotation.review
        and annotation.kind == "label"
        and kind == "rejected"
        and value is not None
        and value.startswith(f"{annotation.value} ({REFUSED_REVIEW_ANSWER}: ")
    )


def _requeue_if_unlabeled(db: sqlite3.Connection, sample_id: int) -> None:
    """Put a sample that has lost its last live label back at the front of the queue (a
    label taken back remotely: the image still needs one), and close its review."""
    labeled = db.execute(
        "SELECT 1 FROM live_label_events WHERE sample_id = ? LIMIT 1", (sample_id,)
    ).fetchone()
    if not labeled:
        close_review(db, sample_id)
    queued = db.execute("SELECT 1 FROM queue WHERE sample_id = ?", (sample_id,)).fetchone()
    was_labeled = db.execute(
        "SELECT 1 FROM label_events WHERE sample_id = ? LIMIT 1", (sample_id,)
    ).fetchone()
    if not (labeled or queued or not was_labeled):
        requeue_at_front(db, sample_id)
