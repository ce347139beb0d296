"""Gold items: test samples of known class, answered apart from the label log."""

from __future__ import annotations

import pytest

from labeler.store.database import ProjectStore
from tests.labeler.store.store_data import N_POOL, N_TEST


def test_gold_answers_stay_out_of_the_labels_and_can_be_undone(store: ProjectStore) -> None:
    gold = list(range(N_POOL, N_POOL + N_TEST))  # the test samples, all of known class
    assert store.count_gold_items() == N_TEST and store.get_gold_rate() == 0.0
    assert store.pick_gold_item("ann") == gold[0]
    known = store.get_sample(gold[0]).known_label
    name = store.class_names[known]
    answer, duplicate = store.submit_gold(gold[0], name, annotator="ann", request_id="g1")
    assert not duplicate and answer.label == answer.known == known
    assert store.submit_gold(gold[0], name, annotator="ann", request_id="g1")[1]  # a retry
    assert store.get_current_labels()[0].tolist() == []  # never a label
    assert store.pick_gold_item("ann") == gold[1]  # answered once per annotator
    assert store.pick_gold_item("bob") == gold[1]  # the least answered first
    store.add_labels([(0, "cat")], annotator="ann", source="t")
    assert not store.is_last_answer_gold("ann")
    wrong = store.class_names[(store.get_sample(gold[1]).known_label + 1) % 3]
    store.submit_gold(gold[1], wrong, annotator="ann")
    assert store.is_last_answer_gold("ann")
    assert [(a.sample_id, a.label == a.known) for a in store.get_gold_answers()] == [
        (gold[0], True),
        (gold[1], False),
    ]
    undone = store.undo_last_gold("ann")
    assert undone is not None and undone.sample_id == gold[1]
    assert len(store.get_gold_answers()) == 1 and store.pick_gold_item("ann") == gold[1]
    store.skip_sample(gold[1], annotator="ann")  # a gold item can be skipped, like any image
    assert store.pick_gold_item("ann") == gold[2]


def test_the_gold_rhythm_follows_the_rate(store: ProjectStore) -> None:
    assert not store.is_gold_due("ann")
    store.set_gold_rate(0.25)  # every fourth image
    due = []
    for sample in range(8):
        due.append(store.is_gold_due("ann"))
        if due[-1]:
            store.submit_gold(store.pick_gold_item("ann") or 0, "cat", annotator="ann")
        else:
            store.add_labels([(sample, "dog")], annotator="ann", source="t")
    assert due == [False, False, False, True, False, False, False, True]


def test_bad_gold_is_refused(store: ProjectStore) -> None:
    with pytest.raises(ValueError, match=r"gold rate must be a finite number in \[0, 0\.5\]"):
        store.set_gold_rate(0.6)
    with pytest.raises(ValueError, match="sample 0 is not a gold item"):
        store.submit_gold(0, "cat", annotator="ann")
    with pytest.raises(ValueError, match="unknown label"):
        store.submit_gold(N_POOL, "wolf", annotator="ann")
