"""The queue: leases, submissions, skips, undo, and leases kept across rounds."""

from __future__ import annotations

import time

import numpy as np
import pytest

from labeler.store.database import (
    DATABASE_NAME,
    NewSample,
    ProjectStore,
    QueueItem,
)
from tests.labeler.store.store_data import (
    CLASSES,
    N_POOL,
    finish,
    queue_round,
)


def test_leases_hand_out_each_item_once(store: ProjectStore) -> None:
    round_id = store.start_round(strategy="entropy", query_size=5, config={})
    finish(store, round_id, [0, 1, 2, 3, 4])
    ann = store.lease_next("ann", 2, lease_seconds=60, now=1000.0)
    assert [item.sample_id for item in ann] == [0, 1]
    assert all(item.leased_by == "ann" and item.lease_expires == 1060.0 for item in ann)
    bob = store.lease_next("bob", 2, lease_seconds=60, now=1000.0)
    assert [item.sample_id for item in bob] == [2, 3]
    # Asking again returns ann's own leases first (renewed), not new ones.
    again = store.lease_next("ann", 2, lease_seconds=60, now=1010.0)
    assert [(item.sample_id, item.lease_expires) for item in again] == [(0, 1070.0), (1, 1070.0)]
    assert [item.sample_id for item in store.lease_next("ann", 3, now=1010.0)] == [0, 1, 4]
    assert store.lease_next("cid", 5, now=1010.0) == []
    # Bob's leases expire; cid gets them.
    assert [item.sample_id for item in store.lease_next("cid", 5, now=1061.0)] == [2, 3]
    item = store.get_queue()[0]  # renewed by the default lease (300 s) at 1010
    assert item == QueueItem(0, round_id, 0, 0.0, "ann", 1310.0)
    assert item.is_leased(1309.0) and not item.is_leased(1310.0)
    with pytest.raises(ValueError, match="n must be an integer >= 0"):
        store.lease_next("ann", -1)
    with pytest.raises(ValueError, match="annotator must be a non-empty string"):
        store.lease_next("", 1)


# --- annotation: submissions, skips, undo, annotators -------------------------------------------


def test_submit_label_says_how_it_stood_to_the_lease(store: ProjectStore) -> None:
    queue_round(store, [0, 1, 2, 3, 4])
    now = time.time()
    store.lease_next("ann", 2, lease_seconds=60, now=now)  # 0, 1
    store.lease_next("bob", 1, lease_seconds=60, now=now)  # 2
    store.lease_next("cid", 1, lease_seconds=60, now=now - 120)  # 3, already expired
    held = store.submit_label(0, "cat", annotator="ann", source="web", request_id="r1")
    assert (held.lease, held.holder, held.duplicate) == ("held", None, False)
    taken = store.submit_label(2, "dog", annotator="ann", source="web")
    assert (taken.lease, taken.holder) == ("taken", "bob")
    expired = store.submit_label(3, "dog", annotator="cid", source="web")
    assert expired.lease == "expired"
    free = store.submit_label(4, "fox", annotator="ann", source="web")
    assert free.lease == "not_leased"
    gone = store.submit_label(0, "dog", annotator="bob", source="web")  # labeled: left the queue
    assert (gone.lease, gone.holder) == ("not_queued", None)
    # Every label is kept, and the conflicts are listed for the dashboard.
    assert len(store.get_label_events()) == 5
    conflicts = [
        (event.sample_id, kind, holder) for event, kind, holder in store.get_lease_conflicts()
    ]
    assert conflicts == [(2, "taken", "bob"), (3, "expired", None), (4, "not_leased", None),
                         (0, "not_queued", None)]  # fmt: skip


def test_a_retried_submission_stores_nothing_twice(store: ProjectStore) -> None:
    queue_round(store, [5])
    store.lease_next("ann", 1)
    first = store.submit_label(5, "fox", annotator="ann", source="web", request_id="req-1")
    again = store.submit_label(5, "fox", annotator="ann", source="web", request_id="req-1")
    assert again.duplicate and again.event == first.event and again.lease == "held"
    assert len(store.get_label_events()) == 1
    with pytest.raises(ValueError, match="already used to label sample 5"):
        store.submit_label(5, "cat", annotator="ann", source="web", request_id="req-1")
    with pytest.raises(ValueError, match="unknown label 'wolf'"):
        store.submit_label(5, "wolf", annotator="ann", source="web", request_id="req-2")
    with pytest.raises(ValueError, match="test split"):
        store.submit_label(N_POOL, "cat", annotator="ann", source="web", request_id="req-3")
    assert len(store.get_label_events()) == 1


def test_a_skipped_image_goes_to_others_only(store: ProjectStore) -> None:
    queue_round(store, [0, 1])
    assert [item.sample_id for item in store.lease_next("ann", 1)] == [0]
    assert store.skip_sample(0, annotator="ann", request_id="s1")
    assert not store.skip_sample(0, annotator="ann", request_id="s1")  # a retry
    assert [item.sample_id for item in store.lease_next("ann", 2)] == [1]
    assert [item.sample_id for item in store.lease_next("bob", 2)] == [0]
    skips = [a for a in store.get_activity() if a.kind == "skip"]
    assert [(a.annotator, a.sample_id) for a in skips] == [("ann", 0)]
    assert store.get_current_labels()[0].size == 0  # a skip is not a label
    # A test sample of known class is a gold item, served and skipped like any image.
    assert store.skip_sample(N_POOL, annotator="ann")


def test_a_test_sample_of_unknown_class_cannot_be_skipped(tmp_path) -> None:
    samples = [NewSample("pool/a.png", "pool", None), NewSample("test/b.png", "test", None)]
    with (
        ProjectStore.create(
            tmp_path / DATABASE_NAME, class_names=CLASSES, samples=samples
        ) as store,
        pytest.raises(ValueError, match="test split"),
    ):
        store.skip_sample(1, annotator="ann")


def test_undo_retracts_the_last_label_and_requeues_it(store: ProjectStore) -> None:
    queue_round(store, [0, 1, 2])
    store.lease_next("ann", 3)
    store.submit_label(0, "cat", annotator="ann", source="web")
    store.submit_label(1, "dog", annotator="ann", source="web")
    undone = store.undo_last_label("ann", request_id="u1")
    assert undone is not None and (undone.sample_id, undone.label_name) == (1, "dog")
    assert store.undo_last_label("ann", request_id="u1") == undone  # a retry retracts no more
    np.testing.assert_array_equal(store.get_current_labels()[0], [0])
    # Sample 1 is back at the front of the queue, leased to ann.
    assert [(item.sample_id, item.leased_by) for item in store.get_queue()][:2] == [
        (1, "ann"),
        (2, "ann"),
    ]
    assert [item.sample_id for item in store.lease_next("ann", 1)] == [1]
    queued = store.get_queue_item(1)
    assert queued is not None and queued.leased_by == "ann"
    assert store.get_queue_item(0) is None
    assert len(store.get_label_events()) == 2  # the log keeps the retracted event
    assert [a.retracted for a in store.get_activity()] == [False, True]
    assert store.undo_last_label("ann") is not None  # then sample 0
    assert store.undo_last_label("ann") is None
    assert store.undo_last_label("bob") is None


def test_undo_keeps_another_annotators_label(store: ProjectStore) -> None:
    queue_round(store, [3])
    store.submit_label(3, "cat", annotator="bob", source="web")
    store.submit_label(3, "dog", annotator="ann", source="web")
    assert [(c.sample_id, c.labels) for c in store.get_label_conflicts()] == [
        (3, {"bob": "cat", "ann": "dog"})
    ]
    store.undo_last_label("ann")
    ids, labels = store.get_current_labels()
    assert (ids.tolist(), labels.tolist()) == ([3], [0])  # bob's cat counts again
    assert store.get_queue() == []  # still labeled, so not requeued
    assert store.get_label_conflicts() == []


def test_a_new_round_keeps_leases_in_progress(store: ProjectStore) -> None:
    queue_round(store, [0, 1, 2])
    now = time.time()
    store.lease_next("ann", 1, lease_seconds=600, now=now)  # 0, live
    store.lease_next("bob", 1, lease_seconds=600, now=now - 1200)  # 1, expired
    queue_round(store, [5, 6, 2])
    queue = [(item.sample_id, item.leased_by) for item in store.get_queue()]
    assert queue == [(5, None), (6, None), (2, None), (0, "ann")]
    assert store.count_queue(now=now) == (3, 1)
    assert store.count_queue(now=now + 601) == (4, 0)
    assert store.submit_label(0, "cat", annotator="ann", source="web").lease == "held"


def test_queue_first_puts_unlabeled_pool_samples_at_the_front_keeping_leases(
    store: ProjectStore,
) -> None:
    with pytest.raises(ValueError, match="first round"):
        store.queue_first([1])
    queue_round(store, [0, 1, 2])
    store.lease_next("ann", 1, lease_seconds=60)  # 0
    store.add_label(5, "cat", annotator="ann", source="web")
    # 5 is labeled and 13 a test sample: passed over; 2 moves up, 7 and 8 join.
    assert store.queue_first([7, 2, 5, 13, 8, 7]) == 3
    queue = store.get_queue()
    assert [item.sample_id for item in queue] == [7, 2, 8, 0, 1]
    assert queue[3].leased_by == "ann"
    with pytest.raises(ValueError, match="no sample 99"):
        store.queue_first([1, 99])
