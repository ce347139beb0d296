"""The review queue: blind second looks at labels, confirmed or disputed, settled by a third."""

from __future__ import annotations

import pytest

from labeler.store.database import ProjectStore
from labeler.store.records import OwnLabelError

LEASE = 300.0


def current(store: ProjectStore, sample: int) -> str | None:
    events = {event.sample_id: event.label_name for event in store.get_current_label_events()}
    return events.get(sample)


def test_a_review_goes_blind_to_another_annotator_and_an_equal_answer_confirms(
    store: ProjectStore,
) -> None:
    store.add_labels([(0, "cat"), (1, "dog")], annotator="ann", source="t")
    assert store.add_reviews([0, 1], reason="suspect") == 2
    assert store.add_reviews([0], reason="calibration") == 0  # already open
    assert [(r.sample_id, r.reason, r.labeled_by) for r in store.get_reviews()] == [
        (0, "suspect", "ann"),
        (1, "suspect", "ann"),
    ]
    assert store.lease_reviews("ann", 5, lease_seconds=LEASE) == []  # never their own labels
    leased = store.lease_reviews("bob", 1, lease_seconds=LEASE)
    assert [item.sample_id for item in leased] == [0] and leased[0].leased_by == "bob"
    assert store.count_reviews() == (1, 1)
    answer = store.submit_review(0, "cat", annotator="bob", request_id="b-1")
    assert answer.outcome == "confirmed" and answer.event.source == "review"
    assert [r.sample_id for r in store.get_reviews()] == [1]
    again = store.submit_review(0, "cat", annotator="bob", request_id="b-1")
    assert again.duplicate and again.event.id == answer.event.id
    assert store.get_review_answers() == [(answer.event.id, "bob", "ann", "confirmed")]


def test_a_dispute_goes_to_a_third_annotator_whose_answer_stands(store: ProjectStore) -> None:
    store.add_labels([(2, "cat")], annotator="ann", source="t")
    store.add_reviews([2], reason="suspect")
    disputed = store.submit_review(2, "fox", annotator="bob")
    assert disputed.outcome == "disputed"
    assert current(store, 2) == "fox"  # the latest live label is the current one
    (review,) = store.get_reviews()
    assert review.reason == "dispute" and review.labeled_by == "bob"
    # Neither ann nor bob may settle it.
    assert store.lease_reviews("ann", 1, lease_seconds=LEASE) == []
    assert store.lease_reviews("bob", 1, lease_seconds=LEASE) == []
    third = store.submit_review(2, "cat", annotator="cid")
    assert third.outcome == "disputed"  # against bob's, the current label then
    assert current(store, 2) == "cat" and store.get_reviews() == []  # two of three: cat


def test_a_third_class_leaves_the_dispute_open(store: ProjectStore) -> None:
    store.add_labels([(3, "cat")], annotator="ann", source="t")
    store.add_reviews([3], reason="calibration")
    store.submit_review(3, "dog", annotator="bob")
    store.submit_review(3, "fox", annotator="cid")
    (review,) = store.get_reviews()
    assert review.reason == "dispute" and current(store, 3) == "fox"


def test_a_reviewer_cannot_review_their_own_label(store: ProjectStore) -> None:
    store.add_labels([(4, "dog")], annotator="ann", source="t")
    store.add_reviews([4], reason="suspect")
    with pytest.raises(OwnLabelError, match="ann labeled sample 4 and cannot review it"):
        store.submit_review(4, "dog", annotator="ann")
    assert len(store.get_reviews()) == 1 and store.get_review_answers() == []


def test_undoing_an_answer_reopens_the_review_for_the_reviewer(store: ProjectStore) -> None:
    store.add_labels([(5, "fox")], annotator="ann", source="t")
    store.add_reviews([5], reason="suspect")
    store.submit_review(5, "cat", annotator="bob")
    assert store.undo_last_label("bob") is not None
    (review,) = store.get_reviews()
    assert (review.reason, review.labeled_by, review.leased_by) == ("suspect", "ann", "bob")
    assert current(store, 5) == "fox" and store.get_review_answers() == []
    # Undoing the only label instead closes the review: the sample needs a first label.
    assert store.undo_last_label("ann") is not None
    assert store.get_reviews() == []


def test_a_skip_gives_the_review_back_and_bad_reviews_are_refused(store: ProjectStore) -> None:
    store.add_labels([(6, "cat")], annotator="ann", source="t")
    store.add_reviews([6], reason="suspect")
    store.lease_reviews("bob", 1, lease_seconds=LEASE)
    store.skip_sample(6, annotator="bob")
    assert store.get_reviews()[0].leased_by is None
    assert store.lease_reviews("bob", 1, lease_seconds=LEASE) == []  # skipped: never again
    assert [r.sample_id for r in store.lease_reviews("cid", 1, lease_seconds=LEASE)] == [6]
    with pytest.raises(ValueError, match="sample 7 has no label to review"):
        store.add_reviews([7], reason="suspect")
    with pytest.raises(ValueError, match="unknown review reason 'hunch'"):
        store.add_reviews([6], reason="hunch")
    with pytest.raises(ValueError, match="sample 0 has no open review"):
        store.submit_review(0, "cat", annotator="cid")
