"""The label log: every label ever given, append-only, and the rule that decides a sample's
current label (its latest live event: not retracted), read the same way by every caller."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence

import numpy as np

from labeler.store.core import (
    LABEL_EVENT_COLUMNS,
    StoreCore,
    check_name,
    execute_in,
    get_label_event_columns,
    pairs_to_arrays,
)
from labeler.store.records import Activity, Ids, LabelConflict, LabelEvent, NewLabel

# The rule for a sample's current label, as a FROM clause: its latest live event, ``e``.
_CURRENT_EVENTS = (
    "FROM live_label_events AS e "
    "JOIN (SELECT MAX(id) AS id FROM live_label_events GROUP BY sample_id) AS last "
    "ON e.id = last.id"
)


class LabelLog(StoreCore):
    """Recording labels and reading the log."""

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
        return pairs_to_arrays(
            self._query(f"SELECT e.sample_id, e.label {_CURRENT_EVENTS} ORDER BY e.sample_id")
        )

    def get_current_label_events(self) -> list[LabelEvent]:
        """The latest live (not retracted) label event of every labeled sample, by ascending
        sample id."""
        rows = self._query(
            f"SELECT {get_label_event_columns('e')} {_CURRENT_EVENTS} ORDER BY e.sample_id"
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
            f"SELECT {LABEL_EVENT_COLUMNS} FROM label_events WHERE sample_id = ? ORDER BY id",
            (index,),
        )
        return [self._make_event(row) for row in rows]

    def get_label_events(self, *, after_id: int = 0) -> list[LabelEvent]:
        """Label events with ``id > after_id``, oldest first (to follow the log)."""
        rows = self._query(
            f"SELECT {LABEL_EVENT_COLUMNS} FROM label_events WHERE id > ? ORDER BY id",
            (int(after_id),),
        )
        return [self._make_event(row) for row in rows]

    def count_labels(self) -> dict[str, int]:
        """Number of currently labeled samples per class name (every class, zeros included)."""
        _, labels = self.get_current_labels()
        counts = np.bincount(labels, minlength=len(self._class_names))
        return {name: int(count) for name, count in zip(self._class_names, counts, strict=True)}

    # --- rounds --------------------------------------------------------------------------

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

    def get_annotator_labels(self) -> list[tuple[int, str, int]]:
        """``(sample_id, annotator, label)``: each annotator's latest live label of every
        sample they labeled, by sample id then annotator."""
        rows = self._query(
            "SELECT e.sample_id, e.annotator, e.label FROM live_label_events AS e "
            "JOIN (SELECT MAX(id) AS id FROM live_label_events GROUP BY sample_id, annotator) "
            "AS last ON e.id = last.id ORDER BY e.sample_id, e.annotator"
        )
        return [(int(sample), str(annotator), int(label)) for sample, annotator, label in rows]

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
                annotator = check_name("annotator", label.annotator)
                source = check_name("source", label.source)
                request_id = label.request_id
                if request_id is not None:
                    request_id = check_name("request_id", request_id)
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
                    f"SELECT {LABEL_EVENT_COLUMNS} FROM label_events WHERE request_id = ?",
                    (request_id,),
                ).fetchone()
                if row is not None:
                    event = self._make_event(row)
                    check_same_request(event, sample_id, label_id, request_id)
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
        execute_in(db, "DELETE FROM queue WHERE sample_id IN ({})", [c[0] for c in checked])
        return events

    def _find_retry(
        self, db: sqlite3.Connection, request_id: str | None, sample_id: int, label_name: str
    ) -> LabelEvent | None:
        """The event a retried ``request_id`` made (checked to carry the same sample and
        label), or None when the request is new; inside a transaction."""
        if request_id is None:
            return None
        previous = self._find_request(db, request_id)
        if previous is None:
            return None
        event = self._get_event(db, previous)
        check_same_request(
            event, self._check_sample_id(sample_id), self._check_label(label_name), request_id
        )
        return event

    def _find_request(self, db: sqlite3.Connection, request_id: str) -> int | None:
        row = db.execute(
            "SELECT id FROM label_events WHERE request_id = ?", (str(request_id),)
        ).fetchone()
        return None if row is None else int(row[0])


def check_same_request(event: LabelEvent, sample_id: int, label: int, request_id: str) -> None:
    """A request id seen before must come with the sample and label it first came with."""
    if (event.sample_id, event.label) != (sample_id, label):
        raise ValueError(
            f"request id {request_id!r} was already used to label sample "
            f"{event.sample_id} as {event.label_name!r}; use a new request id"
        )
