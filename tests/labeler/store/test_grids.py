"""Grid labeling in the store: leases, blind slices, submissions, retries and undo."""

from __future__ import annotations

import random
import time

import numpy as np
import pytest

from labeler.store.database import ProjectStore
from labeler.store.grids import MAX_GRID_SIZE, GridLease
from tests.labeler.store.store_data import N_POOL, queue_round


def _lease(store: ProjectStore, annotator: str, ranked: list[int], n: int, **kwargs):
    return store.lease_grid(annotator, ranked, n, lease_seconds=60, rng=random.Random(0), **kwargs)


def test_a_grid_takes_the_most_confident_images_queued_or_not(store: ProjectStore) -> None:
    store.set_grid_settings(blind_share=0.0)
    queue_round(store, [5, 6, 7])
    store.add_label(0, "cat", annotator="ann", source="web")
    store.skip_sample(3, annotator="ann")
    # Ranked by the model: 0 is labeled and 3 was skipped by ann; 12 and up are test samples.
    lease = _lease(store, "ann", [0, 1, 3, 7, 12, 2, 6], 4)
    assert lease.tiles == [1, 7, 2, 6] and lease.blind == []
    queue = {item.sample_id: item for item in store.get_queue()}
    assert {1, 2, 6, 7} <= set(queue) and all(queue[s].leased_by == "ann" for s in (1, 2, 6, 7))
    # Pool images join the queue behind the images queued by the round.
    assert queue[1].position > queue[5].position and queue[2].position > queue[5].position
    # Bob never gets ann's images; ann gets her own back (a reloaded page).
    assert _lease(store, "bob", [1, 2, 5, 6, 7], 5).tiles == [5]
    assert _lease(store, "ann", [1, 2, 5, 6, 7], 5).tiles == [1, 2, 6, 7]


def test_the_grid_class_is_the_one_whose_next_grid_the_model_is_surest_of(
    store: ProjectStore,
) -> None:
    queue_round(store, [0])
    confidence = {0: 0.99, 1: 0.98, 2: 0.6, 3: 0.95, 4: 0.9, 5: 0.9, 12: 1.0}.__getitem__
    ranked = {0: [0, 1, 2], 1: [3, 4, 5]}
    # Class 0's next three average 0.857, class 1's 0.917.
    assert store.choose_grid_class("ann", ranked, confidence, 3) == 1
    # With grids of two, class 0's (0.985) beats class 1's (0.925).
    assert store.choose_grid_class("ann", ranked, confidence, 2) == 0
    # A tie goes to the lower class, whatever the order given.
    assert store.choose_grid_class("ann", {1: [4], 0: [5]}, confidence, 2) == 0
    # Images ann may not take do not count: 0 is labeled, 1 leased to bob.
    store.add_label(0, "cat", annotator="bob", source="web")
    _lease(store, "bob", [1], 1)
    assert store.choose_grid_class("ann", ranked, confidence, 2) == 1
    # Bob's own lease counts for bob; a test sample (12) never does.
    bobs = {0: [12, 1], 1: [3, 4, 5]}
    assert store.choose_grid_class("bob", bobs, confidence, 2) == 0
    assert store.choose_grid_class("ann", bobs, confidence, 2) == 1
    assert store.choose_grid_class("ann", {0: [12, 0]}, confidence, 2) is None
    with pytest.raises(ValueError, match=rf"n must be an integer in \[1, {MAX_GRID_SIZE}\]"):
        store.choose_grid_class("ann", ranked, confidence, MAX_GRID_SIZE + 1)


def test_the_surest_grid_is_chosen_and_leased_in_one_call(store: ProjectStore) -> None:
    store.set_grid_settings(blind_share=0.0)
    confidence = {0: 0.99, 1: 0.98, 2: 0.6, 3: 0.95, 4: 0.9, 5: 0.9}.__getitem__
    ranked = {0: [0, 1, 2], 1: [3, 4, 5]}
    # Before the first round no image can be leased, whichever class is surest.
    assert store.lease_surest_grid("ann", ranked, confidence, 2, lease_seconds=60) == (
        0,
        GridLease([], []),
    )
    queue_round(store, [5])
    label, lease = store.lease_surest_grid("ann", ranked, confidence, 2, lease_seconds=60)
    assert (label, lease.tiles) == (0, [0, 1])
    queue = {item.sample_id: item for item in store.get_queue()}
    assert queue[0].leased_by == queue[1].leased_by == "ann"
    # Bob may not take ann's leased images: class 0 has only image 2 (0.6) left for him.
    label, lease = store.lease_surest_grid("bob", ranked, confidence, 2, lease_seconds=60)
    assert (label, lease.tiles) == (1, [3, 4])
    assert store.lease_surest_grid("carl", {0: [0, 1, 3, 4]}, confidence, 2, lease_seconds=60) == (
        None,
        GridLease([], []),
    )


def test_a_slice_of_every_grid_is_set_aside_to_label_blind(store: ProjectStore) -> None:
    queue_round(store, [0])
    assert store.get_grid_settings().blind_share == 0.05
    lease = _lease(store, "ann", list(range(N_POOL)), 10)
    # 5% of 10 rounds to 0, but every grid of two or more keeps one blind image.
    assert len(lease.blind) == 1 and len(lease.tiles) == 9
    assert set(lease.tiles) | set(lease.blind) == set(range(10))
    store.set_grid_settings(blind_share=0.5)
    lease = _lease(store, "bob", list(range(N_POOL)), 2)
    assert len(lease.blind) == 1 and len(lease.tiles) == 1
    with pytest.raises(ValueError, match="blind share"):
        store.set_grid_settings(blind_share=0.9)
    with pytest.raises(ValueError, match=f"n must be an integer in \\[1, {MAX_GRID_SIZE}\\]"):
        _lease(store, "ann", [1], MAX_GRID_SIZE + 1)


def test_no_grid_before_the_first_round(store: ProjectStore) -> None:
    assert _lease(store, "ann", [0, 1, 2], 3).tiles == []


def test_grid_settings_can_turn_it_off(store: ProjectStore) -> None:
    assert store.get_grid_settings().enabled
    assert not store.set_grid_settings(enabled=False).enabled
    assert store.get_grid_settings().blind_share == 0.05
    with pytest.raises(ValueError, match="enabled must be true or false"):
        store.set_grid_settings(enabled="no")  # type: ignore[arg-type]


def test_a_grid_submission_stores_one_event_per_image(store: ProjectStore) -> None:
    queue_round(store, [0, 1, 2, 3])
    now = time.time()
    store.set_grid_settings(blind_share=0.0)
    store.lease_grid("ann", [0, 1, 2], 3, lease_seconds=60, now=now)
    store.lease_next("bob", 1, lease_seconds=60, now=now)  # 3
    answer = store.submit_grid(
        "dog", accepted=[0, 1, 3], rejected=[2], annotator="ann", request_id="g1"
    )
    assert not answer.duplicate and answer.label == "dog" and answer.rejected == [2]
    leases = {result.sample_id: (result.lease, result.holder) for result in answer.results}
    assert leases == {0: ("held", None), 1: ("held", None), 3: ("taken", "bob")}
    events = store.get_label_events()
    assert [(e.sample_id, e.label_name, e.source) for e in events] == [
        (0, "dog", "grid"),
        (1, "dog", "grid"),
        (3, "dog", "grid"),
    ]
    # The rejected image is first in the queue, leased to ann for one-at-a-time labeling.
    first = store.get_queue()[0]
    assert (first.sample_id, first.leased_by) == (2, "ann")
    assert store.get_grid_sample_ids(events[1].id) == [0, 1, 3]
    # A retry answers as the first did and stores nothing.
    again = store.submit_grid(
        "dog", accepted=[3, 1, 0], rejected=[2], annotator="ann", request_id="g1"
    )
    assert again.duplicate and again.results == answer.results
    assert len(store.get_label_events()) == 3
    with pytest.raises(ValueError, match="already used for another grid"):
        store.submit_grid("cat", accepted=[0, 1, 3], annotator="ann", request_id="g1")


@pytest.mark.parametrize(
    ("accepted", "rejected", "message"),
    [
        ([], [], "a grid holds 1 to"),
        (list(range(MAX_GRID_SIZE + 1)), [], "a grid holds 1 to"),
        ([1, 2], [2], "named more than once: \\[2\\]"),
        ([1, 13], [], "test split"),
        ([1, 99], [], "99"),
    ],
)
def test_a_bad_grid_stores_nothing(
    store: ProjectStore, accepted: list[int], rejected: list[int], message: str
) -> None:
    queue_round(store, [0])
    with pytest.raises(ValueError, match=message):
        store.submit_grid(
            "cat", accepted=accepted, rejected=rejected, annotator="ann", request_id="bad"
        )
    assert store.get_label_events() == []


def test_undo_takes_back_the_whole_grid(store: ProjectStore) -> None:
    queue_round(store, [0, 1, 2, 3])
    store.add_label(5, "fox", annotator="ann", source="web")
    store.submit_grid("cat", accepted=[0, 1, 2], annotator="ann", request_id="g1")
    undone = store.undo_last_label("ann", request_id="u1")
    assert undone is not None and undone.sample_id == 2
    labeled, _ = store.get_current_labels()
    assert labeled.tolist() == [5]
    # Back at the front of the queue in the grid's order, leased to ann.
    queue = store.get_queue()
    assert [item.sample_id for item in queue[:3]] == [0, 1, 2]
    assert all(item.leased_by == "ann" for item in queue[:3])
    # A retried undo takes back nothing more; the next undo takes the single label.
    assert store.undo_last_label("ann", request_id="u1") == undone
    assert np.array_equal(store.get_current_labels()[0], [5])
    second = store.undo_last_label("ann", request_id="u2")
    assert second is not None and second.sample_id == 5


def test_review_agreement_is_counted_by_the_source_of_the_label(store: ProjectStore) -> None:
    queue_round(store, [0, 1, 2, 3])
    store.submit_grid("cat", accepted=[0, 1], annotator="ann", request_id="g1")
    store.submit_label(2, "fox", annotator="ann", source="blind")
    store.add_reviews([0, 1, 2], reason="calibration")
    store.submit_review(0, "cat", annotator="bob", request_id="r0")
    store.submit_review(1, "dog", annotator="bob", request_id="r1")
    store.submit_review(2, "fox", annotator="bob", request_id="r2")
    assert store.get_review_agreement_by_source() == {"grid": (2, 1), "blind": (1, 1)}
