"""The label log: recording labels, request ids, the current-label rule, append-only logs."""

from __future__ import annotations

import sqlite3
import time

import numpy as np
import pytest

from labeler.store.database import (
    NewLabel,
    ProjectStore,
)
from tests.labeler.store.store_data import (
    N_POOL,
)

# --- labels ------------------------------------------------------------------------------------


def test_add_label_records_an_event_and_latest_wins(store: ProjectStore) -> None:
    first = store.add_label(4, "cat", annotator="ann", source="web")
    assert (first.sample_id, first.label, first.label_name) == (4, 0, "cat")
    assert first.created_at == pytest.approx(time.time(), abs=60)
    store.add_label(2, "fox", annotator="bob", source="web")
    second = store.add_label(4, "dog", annotator="bob", source="cli")
    assert second.id > first.id
    ids, labels = store.get_current_labels()
    np.testing.assert_array_equal(ids, [2, 4])
    np.testing.assert_array_equal(labels, [2, 1])
    assert [event.label_name for event in store.get_label_history(4)] == ["cat", "dog"]
    assert store.count_labels() == {"cat": 0, "dog": 1, "fox": 1}
    np.testing.assert_array_equal(store.get_unlabeled_ids(), [0, 1, 3, *range(5, N_POOL)])
    current = store.get_current_label_events()
    assert [(event.sample_id, event.annotator) for event in current] == [(2, "bob"), (4, "bob")]


def test_no_labels_gives_empty_int64_arrays(store: ProjectStore) -> None:
    ids, labels = store.get_current_labels()
    assert ids.shape == labels.shape == (0,)
    assert ids.dtype == labels.dtype == np.int64
    assert store.count_labels() == {"cat": 0, "dog": 0, "fox": 0}


def test_request_id_makes_a_submission_idempotent(store: ProjectStore) -> None:
    first = store.add_label(1, "dog", annotator="ann", source="web", request_id="req-1")
    again = store.add_label(1, "dog", annotator="ann", source="web", request_id="req-1")
    assert again == first
    assert len(store.get_label_history(1)) == 1
    with pytest.raises(ValueError, match="already used to label sample 1 as 'dog'"):
        store.add_label(1, "cat", annotator="ann", source="web", request_id="req-1")
    # A conflict found after other labels of the batch were inserted rolls them all back.
    batch = [NewLabel(5, "fox", "ann", "web"), NewLabel(1, "cat", "ann", "web", "req-1")]
    with pytest.raises(ValueError, match="already used"):
        store.add_label_events(batch)
    assert len(store.get_label_events()) == 1
    assert store.get_label_history(5) == []


@pytest.mark.parametrize(
    ("sample_id", "label", "message"),
    [
        (0, "wolf", "unknown label 'wolf'; the classes are: cat, dog, fox"),
        (99, "cat", "there is no sample 99; sample ids run from 0 to 15"),
        (-1, "cat", "there is no sample -1"),
        ("3", "cat", "must be an integer"),
        (True, "cat", "must be an integer"),
        (N_POOL, "cat", "test split"),
    ],
)
def test_add_label_rejects_bad_input(store: ProjectStore, sample_id, label, message) -> None:
    with pytest.raises(ValueError, match=message):
        store.add_label(sample_id, label, annotator="ann", source="web")
    assert store.get_label_events() == []


def test_add_label_accepts_numpy_ints(store: ProjectStore) -> None:
    event = store.add_label(np.int64(3), "cat", annotator="ann", source="web")
    assert event.sample_id == 3 and isinstance(event.sample_id, int)


def test_add_labels_is_all_or_nothing(store: ProjectStore) -> None:
    assert store.add_labels([(0, "cat"), (1, "dog")], annotator="imp", source="import") == 2
    with pytest.raises(ValueError, match="label 2: unknown label 'cow'"):
        store.add_labels(
            [(3, "cat"), (4, "dog"), (5, "cow"), (6, "fox")], annotator="imp", source="import"
        )
    with pytest.raises(ValueError, match="label 1: sample 12 is in the test split"):
        store.add_labels([(3, "cat"), (N_POOL, "dog")], annotator="imp", source="import")
    with pytest.raises(ValueError, match="annotator must be a non-empty string"):
        store.add_labels([(3, "cat")], annotator="", source="import")
    ids, _ = store.get_current_labels()
    np.testing.assert_array_equal(ids, [0, 1])
    assert store.add_labels([], annotator="imp", source="import") == 0


def test_add_label_events_keeps_each_annotator(store: ProjectStore) -> None:
    labels = [NewLabel(0, "cat", "ann", "import"), NewLabel(1, "fox", "bob", "import")]
    assert store.add_label_events(labels) == 2
    events = store.get_label_events()
    assert [(event.annotator, event.label_name) for event in events] == [
        ("ann", "cat"),
        ("bob", "fox"),
    ]
    assert store.get_label_events(after_id=events[0].id) == events[1:]


def test_label_log_is_append_only(store: ProjectStore) -> None:
    store.add_label(0, "cat", annotator="ann", source="web")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store._db.execute("UPDATE label_events SET label = 1")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store._db.execute("DELETE FROM label_events")
    assert store.get_label_history(0)[0].label_name == "cat"


def test_skips_and_retractions_are_append_only(store: ProjectStore) -> None:
    store.add_label(1, "dog", annotator="ann", source="web")
    store.skip_sample(2, annotator="ann")
    assert store.undo_last_label("ann") is not None
    for statement in (
        "DELETE FROM skips",
        "UPDATE skips SET annotator = 'x'",
        "DELETE FROM retractions",
        "UPDATE retractions SET annotator = 'x'",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            store._db.execute(statement)
