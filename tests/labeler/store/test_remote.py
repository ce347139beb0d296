"""The store's record of an external annotation tool: tasks (one per sample) and annotations
applied exactly once, with updates, skips, rejections and deletions followed."""

from __future__ import annotations

from pathlib import Path

import pytest

from labeler.store.database import (
    DATABASE_NAME,
    ProjectStore,
    RemoteAnnotation,
    RemoteTask,
)
from labeler.store.remote import is_refused_answer
from tests.labeler.store.store_data import CLASSES, N_POOL, make_samples

REMOTE = "labelstudio:abc"
SOURCE = "labelstudio"


@pytest.fixture
def store(tmp_path: Path):
    with ProjectStore.create(
        tmp_path / DATABASE_NAME, class_names=CLASSES, samples=make_samples()
    ) as opened:
        round_id = opened.start_round(strategy="initial-random", query_size=4, config={})
        opened.finish_round(
            round_id,
            folder="rounds/round-0001",
            n_labels=0,
            val_accuracy=None,
            test_accuracy=None,
            scored_ids=[],
            scores=[],
            selected_ids=[0, 1, 2, 3],
        )
        yield opened


def label(annotation_id: int, sample_id: int, value: str, *, at: float = 100.0):
    return RemoteAnnotation(annotation_id, sample_id, "label", value, "ann@x.org", at)


def current_label(store: ProjectStore, sample_id: int) -> str | None:
    ids, labels = store.get_current_labels()
    hits = labels[ids == sample_id]
    return None if hits.size == 0 else CLASSES[int(hits[0])]


def test_tasks_are_recorded_once_per_sample_and_can_be_marked_or_removed(store) -> None:
    store.save_remote_tasks(REMOTE, [RemoteTask(0, 10, 1, "open"), RemoteTask(1, 11, 1, "open")])
    store.save_remote_tasks(REMOTE, [RemoteTask(1, 11, 2, "marked")])
    assert store.get_remote_tasks(REMOTE) == [
        RemoteTask(0, 10, 1, "open"),
        RemoteTask(1, 11, 2, "marked"),
    ]
    assert store.get_remote_tasks("labelstudio:other") == []
    store.remove_remote_tasks(REMOTE, [0])
    assert [task.sample_id for task in store.get_remote_tasks(REMOTE)] == [1]
    with pytest.raises(ValueError, match="'gone'"):
        store.save_remote_tasks(REMOTE, [RemoteTask(2, 12, 1, "gone")])


def test_a_label_is_stored_once_with_the_tools_annotator_and_time(store) -> None:
    changes = store.apply_remote_annotations(REMOTE, [label(7, 2, "dog")], source=SOURCE)
    assert changes.labeled == [7] and changes.n_changes == 1
    again = store.apply_remote_annotations(REMOTE, [label(7, 2, "dog")], source=SOURCE)
    assert again.n_changes == 0 and again.n_unchanged == 1
    (event,) = store.get_label_history(2)
    assert (event.label_name, event.annotator, event.source, event.created_at) == (
        "dog",
        "ann@x.org",
        SOURCE,
        100.0,
    )
    assert store.get_queue_item(2) is None  # labeled: out of the queue


def test_an_update_appends_an_event_and_retracts_the_old_one(store) -> None:
    store.apply_remote_annotations(REMOTE, [label(7, 2, "dog")], source=SOURCE)
    changes = store.apply_remote_annotations(REMOTE, [label(7, 2, "fox", at=200.0)], source=SOURCE)
    assert changes.updated == [7]
    assert [e.label_name for e in store.get_label_history(2)] == ["dog", "fox"]
    assert current_label(store, 2) == "fox"
    assert store.get_label_conflicts() == []  # the old event no longer counts


def test_a_skip_is_not_a_label(store) -> None:
    skip = RemoteAnnotation(8, 3, "skip", None, "ann@x.org", 100.0)
    changes = store.apply_remote_annotations(REMOTE, [skip], source=SOURCE)
    assert changes.skipped == [8]
    assert current_label(store, 3) is None
    assert store.get_queue_item(3) is not None
    assert [a.kind for a in store.get_activity()] == ["skip"]


def test_a_label_that_is_no_class_is_reported_not_stored(store) -> None:
    wolf = RemoteAnnotation(9, 1, "rejected", "wolf", "ann@x.org", 100.0)
    changes = store.apply_remote_annotations(REMOTE, [wolf], source=SOURCE)
    assert changes.rejected == {9: "wolf"}
    assert store.get_label_history(1) == []
    # A label kind must be one of our classes: the caller cannot slip one in.
    with pytest.raises(ValueError, match="annotation 10: unknown label 'wolf'"):
        store.apply_remote_annotations(REMOTE, [label(10, 1, "wolf")], source=SOURCE)


def test_a_deletion_unlabels_the_sample_and_puts_it_back_in_the_queue(store) -> None:
    store.apply_remote_annotations(REMOTE, [label(7, 2, "dog")], source=SOURCE)
    changes = store.apply_remote_annotations(REMOTE, [], deleted_ids=[7, 99], source=SOURCE)
    assert changes.deleted == [7]  # 99 was never seen: nothing to follow
    assert current_label(store, 2) is None
    item = store.get_queue_item(2)
    assert item is not None and item.position == min(i.position for i in store.get_queue())
    assert store.get_remote_annotations(REMOTE) == {}
    again = store.apply_remote_annotations(REMOTE, [], deleted_ids=[7], source=SOURCE)
    assert again.n_changes == 0


def test_a_deletion_that_unlabels_a_sample_closes_its_review(store) -> None:
    # Found by the store's stateful model: the review stayed open on an unlabeled sample.
    store.apply_remote_annotations(REMOTE, [label(7, 2, "dog")], source=SOURCE)
    assert store.add_reviews([2], reason="suspect") == 1
    store.apply_remote_annotations(REMOTE, [], deleted_ids=[7], source=SOURCE)
    assert store.get_reviews() == [] and not store.has_open_review(2)


def test_a_deletion_keeps_a_label_from_elsewhere(store) -> None:
    store.add_label(2, "cat", annotator="web-user", source="web")
    store.apply_remote_annotations(REMOTE, [label(7, 2, "dog")], source=SOURCE)
    store.apply_remote_annotations(REMOTE, [], deleted_ids=[7], source=SOURCE)
    assert current_label(store, 2) == "cat"
    assert store.get_queue_item(2) is None


def test_a_bad_annotation_stores_nothing(store) -> None:
    bad = RemoteAnnotation(11, N_POOL, "label", "cat", "ann@x.org", 1.0)  # a test sample
    with pytest.raises(ValueError, match="annotation 11: sample 12 is in the test split"):
        store.apply_remote_annotations(REMOTE, [label(7, 2, "dog"), bad], source=SOURCE)
    assert store.get_label_history(2) == []
    with pytest.raises(ValueError, match="unknown kind 'maybe'"):
        store.apply_remote_annotations(
            REMOTE, [RemoteAnnotation(1, 1, "maybe", None, "a", 1.0)], source=SOURCE
        )


def answer(annotation_id: int, sample_id: int, value: str, annotator: str, *, at: float = 200.0):
    """An annotation of a review task."""
    return RemoteAnnotation(annotation_id, sample_id, "label", value, annotator, at, review=True)


def test_a_review_tasks_annotation_answers_the_open_review(store) -> None:
    store.apply_remote_annotations(REMOTE, [label(1, 0, "cat")], source=SOURCE)
    store.add_reviews([0], reason="suspect")
    changes = store.apply_remote_annotations(
        REMOTE, [answer(2, 0, "dog", "bob@x.org")], source=SOURCE
    )
    assert changes.labeled == [2]
    (review,) = store.get_reviews()  # disputed: open for a third annotator
    assert (review.reason, review.labeled_by) == ("dispute", "bob@x.org")
    assert current_label(store, 0) == "dog"
    event = store.get_label_history(0)[-1]
    assert (event.source, event.annotator, event.created_at) == ("review", "bob@x.org", 200.0)
    store.apply_remote_annotations(REMOTE, [answer(3, 0, "cat", "cid@x.org")], source=SOURCE)
    assert store.get_reviews() == [] and current_label(store, 0) == "cat"
    outcomes = [outcome for _, _, _, outcome in store.get_review_answers()]
    assert outcomes == ["disputed", "disputed"]  # cid sided with ann against bob


def test_an_answer_to_the_review_of_ones_own_label_is_refused_and_stays_refused(store) -> None:
    store.apply_remote_annotations(REMOTE, [label(1, 0, "cat")], source=SOURCE)
    store.add_reviews([0], reason="suspect")
    own = answer(2, 0, "cat", "ann@x.org")
    changes = store.apply_remote_annotations(REMOTE, [own], source=SOURCE)
    assert changes.labeled == [] and list(changes.rejected) == [2]
    assert "ann@x.org labeled sample 0 and cannot review it" in changes.rejected[2]
    assert len(store.get_label_history(0)) == 1 and len(store.get_reviews()) == 1
    again = store.apply_remote_annotations(REMOTE, [own], source=SOURCE)
    assert again.n_changes == 0 and again.n_unchanged == 1
    assert is_refused_answer(store.get_remote_annotations(REMOTE)[2].value)
    # Another reviewer's answer is taken.
    store.apply_remote_annotations(REMOTE, [answer(3, 0, "cat", "bob@x.org")], source=SOURCE)
    assert store.get_reviews() == []


def test_an_answer_to_a_closed_review_is_refused(store) -> None:
    store.apply_remote_annotations(REMOTE, [label(1, 0, "cat")], source=SOURCE)
    store.add_reviews([0], reason="calibration")
    store.submit_review(0, "cat", annotator="page-reviewer")  # answered on our page first
    changes = store.apply_remote_annotations(
        REMOTE, [answer(2, 0, "dog", "bob@x.org")], source=SOURCE
    )
    assert "no open review" in changes.rejected[2]
    assert current_label(store, 0) == "cat"  # a late answer never overturns the review


def test_taking_a_review_answer_back_reopens_the_review(store) -> None:
    store.apply_remote_annotations(REMOTE, [label(1, 0, "cat")], source=SOURCE)
    store.add_reviews([0], reason="suspect")
    store.apply_remote_annotations(REMOTE, [answer(2, 0, "cat", "bob@x.org")], source=SOURCE)
    assert store.get_reviews() == []
    # Changed in the tool: the confirmation is retracted, the review reopens and takes the new
    # answer, a dispute.
    changed = store.apply_remote_annotations(
        REMOTE, [answer(2, 0, "dog", "bob@x.org", at=300.0)], source=SOURCE
    )
    assert changed.updated == [2]
    (review,) = store.get_reviews()
    assert review.reason == "dispute" and current_label(store, 0) == "dog"
    # Deleted in the tool: the dispute is retracted and the review is open as it was.
    deleted = store.apply_remote_annotations(REMOTE, [], deleted_ids=[2], source=SOURCE)
    assert deleted.deleted == [2]
    (review,) = store.get_reviews()
    assert (review.reason, review.labeled_by, review.leased_by) == ("suspect", "ann@x.org", None)
    assert current_label(store, 0) == "cat"
