from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from labeler.store.database import (
    DATABASE_NAME,
    SCHEMA_VERSION,
    NewLabel,
    NewSample,
    ProjectStore,
    QueueItem,
)

CLASSES = ("cat", "dog", "fox")
# Subprocesses run from the repository root, so that they import this checkout's labeler.
REPO_ROOT = Path(__file__).resolve().parents[3]
N_POOL = 12
N_TEST = 4


def make_samples() -> list[NewSample]:
    pool = [NewSample(f"pool/{index:03d}.png", "pool", index % 3) for index in range(N_POOL)]
    test = [NewSample(f"test/{index:03d}.png", "test", index % 3) for index in range(N_TEST)]
    return pool + test


@pytest.fixture
def store(tmp_path: Path):
    with ProjectStore.create(
        tmp_path / DATABASE_NAME,
        class_names=CLASSES,
        samples=make_samples(),
        meta={"owner": "tests"},
    ) as opened:
        yield opened


def finish(store: ProjectStore, round_id: int, selected: list[int], **overrides) -> None:
    scored = store.get_unlabeled_ids()
    arguments = {
        "folder": f"rounds/round-{round_id:04d}",
        "n_labels": 3,
        "val_accuracy": 0.5,
        "test_accuracy": 0.25,
        "scored_ids": scored,
        "scores": scored / 100.0,
        "selected_ids": selected,
    }
    arguments.update(overrides)
    store.finish_round(round_id, **arguments)


# --- creating and opening ----------------------------------------------------------------------


def test_create_stores_classes_samples_and_meta(store: ProjectStore, tmp_path: Path) -> None:
    assert store.class_names == CLASSES
    assert store.n_samples == N_POOL + N_TEST
    assert store.get_meta("owner") == "tests"
    assert store.get_meta("missing") is None
    assert float(store.get_meta("created_at") or 0) > 0
    samples = store.get_samples()
    assert [sample.id for sample in samples] == list(range(N_POOL + N_TEST))
    assert samples[13].path == "test/001.png"
    assert samples[13].split == "test"
    assert samples[13].known_label == 1
    np.testing.assert_array_equal(store.get_sample_ids("test"), np.arange(N_POOL, N_POOL + N_TEST))
    np.testing.assert_array_equal(store.get_sample_ids("pool"), np.arange(N_POOL))
    ids, labels = store.get_known_labels("pool")
    np.testing.assert_array_equal(ids, np.arange(N_POOL))
    np.testing.assert_array_equal(labels, np.arange(N_POOL) % 3)
    assert ids.dtype == np.int64 and labels.dtype == np.int64
    # Reopened from the folder, the same.
    store.close()
    with ProjectStore.open(tmp_path) as reopened:
        assert reopened.class_names == CLASSES
        assert reopened.get_samples() == samples


def test_database_is_wal_with_foreign_keys(store: ProjectStore) -> None:
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert store._db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_create_refuses_an_existing_database(store: ProjectStore, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="already exists"):
        ProjectStore.create(tmp_path / DATABASE_NAME, class_names=CLASSES, samples=[])
    assert store.n_samples == N_POOL + N_TEST  # untouched
    assert sorted(path.name for path in tmp_path.iterdir() if ".tmp-" in path.name) == []


@pytest.mark.parametrize(
    ("class_names", "message"),
    [
        (["only"], "at least 2 classes"),
        (["a", "a"], "repeated: a"),
        (["a", ""], "non-empty"),
        (["a", "b/c"], "may not"),
        (["a", "b,c"], "may not"),
        ("ab", "sequence of names"),
    ],
)
def test_create_rejects_bad_class_names(tmp_path: Path, class_names, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ProjectStore.create(tmp_path / "x.sqlite", class_names=class_names, samples=[])
    assert not (tmp_path / "x.sqlite").exists()


@pytest.mark.parametrize(
    ("samples", "message"),
    [
        ([NewSample("a.png", "train", None)], "unknown split 'train'; the splits are: pool, test"),
        ([NewSample("a.png", "pool", 3)], "not a class index"),
        ([NewSample("a.png", "pool"), NewSample("a.png", "test", 0)], "listed twice"),
    ],
)
def test_create_rejects_bad_samples(tmp_path: Path, samples, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ProjectStore.create(tmp_path / "x.sqlite", class_names=["a", "b"], samples=samples)
    assert list(tmp_path.iterdir()) == []


def test_open_rejects_what_is_not_a_project(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        ProjectStore.open(tmp_path / "missing.sqlite")
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ValueError, match="not a readable project database"):
        ProjectStore.open(garbage)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE t (x)")
    connection.close()
    with pytest.raises(ValueError, match="not a labeler project"):
        ProjectStore.open(other)


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


def test_find_sample_by_id_or_path(store: ProjectStore) -> None:
    assert store.find_sample("5").id == 5
    assert store.find_sample(5).path == "pool/005.png"
    assert store.find_sample("test/002.png").id == N_POOL + 2
    with pytest.raises(ValueError, match=r"no sample has the path 'nope\.png'"):
        store.find_sample("nope.png")
    with pytest.raises(ValueError, match="no sample 16"):
        store.find_sample("16")


# --- rounds and the queue ----------------------------------------------------------------------


def test_finish_round_scores_and_replaces_the_queue(store: ProjectStore) -> None:
    first = store.start_round(strategy="entropy", query_size=3, config={"seed": 1})
    assert store.get_rounds()[0].status == "running"
    finish(store, first, [9, 3, 5])
    queue = store.get_queue()
    assert [(item.sample_id, item.position) for item in queue] == [(9, 0), (3, 1), (5, 2)]
    assert [item.score for item in queue] == pytest.approx([0.09, 0.03, 0.05])
    record = store.get_last_done_round()
    assert record is not None
    assert (record.id, record.status, record.strategy, record.query_size) == (
        first,
        "done",
        "entropy",
        3,
    )
    assert (record.n_labels, record.val_accuracy, record.test_accuracy) == (3, 0.5, 0.25)
    assert record.config == {"seed": 1}
    assert record.folder == "rounds/round-0001"
    assert record.finished_at is not None and record.finished_at >= record.started_at

    store.add_label(3, "cat", annotator="ann", source="web")  # labeling leaves the queue
    assert [item.sample_id for item in store.get_queue()] == [9, 5]

    second = store.start_round(strategy="random", query_size=2, config={})
    store.add_label(7, "dog", annotator="ann", source="web")  # labeled while the round ran
    finish(store, second, [7, 1, 2])
    # The old queue is gone; 7, labeled meanwhile, is left out.
    assert [(item.sample_id, item.round_id) for item in store.get_queue()] == [
        (1, second),
        (2, second),
    ]
    assert [item.position for item in store.get_queue()] == [0, 1]
    assert [record.id for record in store.get_rounds()] == [first, second]


def test_finish_round_rejects_bad_results_and_keeps_running(store: ProjectStore) -> None:
    round_id = store.start_round(strategy="entropy", query_size=3, config={})
    with pytest.raises(ValueError, match="test samples cannot be queued"):
        finish(store, round_id, [N_POOL])
    with pytest.raises(ValueError, match="finite"):
        finish(store, round_id, [1], scores=np.full(N_POOL, np.nan))
    with pytest.raises(ValueError, match="outside 0 to 15"):
        finish(store, round_id, [16])
    with pytest.raises(ValueError, match="duplicates"):
        finish(store, round_id, [1, 1])
    with pytest.raises(ValueError, match="val_accuracy must be a fraction"):
        finish(store, round_id, [1], val_accuracy=1.5)
    assert store.get_rounds()[0].status == "running"
    assert store.get_queue() == []
    finish(store, round_id, [1])
    with pytest.raises(ValueError, match="is done, not running"):
        finish(store, round_id, [1])


def test_fail_round_records_the_error(store: ProjectStore) -> None:
    round_id = store.start_round(strategy="entropy", query_size=3, config={})
    store.fail_round(round_id, "out of memory")
    record = store.get_round(round_id)
    assert (record.status, record.error) == ("failed", "out of memory")
    assert store.get_last_done_round() is None
    with pytest.raises(ValueError, match="there is no round 99"):
        store.get_round(99)


def test_start_round_checks_arguments(store: ProjectStore) -> None:
    with pytest.raises(ValueError, match="query_size must be an integer >= 1, got 0"):
        store.start_round(strategy="entropy", query_size=0, config={})
    with pytest.raises(ValueError, match="not JSON-ready"):
        store.start_round(strategy="entropy", query_size=1, config={"x": object()})
    assert store.get_rounds() == []


def test_a_live_round_blocks_others_and_is_not_marked_interrupted(tmp_path: Path) -> None:
    path = tmp_path / DATABASE_NAME
    ProjectStore.create(path, class_names=CLASSES, samples=make_samples()).close()
    runner = ProjectStore.open(path)
    round_id = runner.start_round(strategy="entropy", query_size=2, config={})
    with ProjectStore.open(path) as other:  # e.g. the annotator server
        assert other.get_round(round_id).status == "running"
        with pytest.raises(ValueError, match="another process is running a round"):
            other.start_round(strategy="entropy", query_size=2, config={})
    finish(runner, round_id, [0, 1])
    # Once finished, another store may start the next round.
    with ProjectStore.open(path) as other:
        next_id = other.start_round(strategy="entropy", query_size=2, config={})
        other.fail_round(next_id, "test")
    runner.close()


def test_closing_a_store_mid_round_frees_the_round(tmp_path: Path) -> None:
    path = tmp_path / DATABASE_NAME
    ProjectStore.create(path, class_names=CLASSES, samples=make_samples()).close()
    with ProjectStore.open(path) as runner:
        runner.start_round(strategy="entropy", query_size=2, config={})
    with ProjectStore.open(path) as reopened:
        assert reopened.get_rounds()[0].status == "failed"
        assert reopened.start_round(strategy="entropy", query_size=2, config={}) == 2


def test_a_round_left_running_is_marked_interrupted_on_open(tmp_path: Path) -> None:
    path = tmp_path / DATABASE_NAME
    ProjectStore.create(path, class_names=CLASSES, samples=make_samples()).close()
    script = textwrap.dedent(
        f"""
        import os
        from labeler.store.database import ProjectStore
        store = ProjectStore.open({str(path)!r})
        store.start_round(strategy="entropy", query_size=2, config={{}})
        os._exit(0)  # dies without finishing or closing
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=REPO_ROOT)
    with ProjectStore.open(path) as reopened:
        (record,) = reopened.get_rounds()
        assert (record.status, record.error) == ("failed", "interrupted")


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
    assert store.release_lease(0, "bob") is False
    assert store.release_lease(0, "ann") is True
    item = store.get_queue()[0]
    assert item == QueueItem(0, round_id, 0, 0.0, None, None)
    assert not item.is_leased(1010.0)
    with pytest.raises(ValueError, match="n must be an integer >= 0"):
        store.lease_next("ann", -1)
    with pytest.raises(ValueError, match="annotator must be a non-empty string"):
        store.lease_next("", 1)


def test_two_connections_see_each_others_labels(store: ProjectStore, tmp_path: Path) -> None:
    with ProjectStore.open(tmp_path) as other:
        other.add_label(0, "fox", annotator="ann", source="web")
        store.add_label(1, "cat", annotator="bob", source="web")
        ids, labels = other.get_current_labels()
    np.testing.assert_array_equal(ids, [0, 1])
    np.testing.assert_array_equal(labels, [2, 0])


def test_labels_survive_a_killed_process(tmp_path: Path) -> None:
    path = tmp_path / DATABASE_NAME
    ProjectStore.create(path, class_names=CLASSES, samples=make_samples()).close()
    # The writer prints each event id after add_label returns (= committed), then goes on.
    script = textwrap.dedent(
        f"""
        import sys
        from labeler.store.database import ProjectStore
        store = ProjectStore.open({str(path)!r})
        names = store.class_names
        index = 0
        while True:
            event = store.add_label(
                index % {N_POOL}, names[index % 3], annotator="bot", source="test",
                request_id=f"req-{{index}}",
            )
            print(event.id, event.sample_id, event.label, flush=True)
            index += 1
        """
    )
    writer = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT
    )
    assert writer.stdout is not None
    reported = []
    try:
        for line in writer.stdout:
            reported.append(tuple(int(value) for value in line.split()))
            if len(reported) >= 150:
                break
    finally:
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
    assert writer.returncode == -signal.SIGKILL
    # Read what was printed before the kill but not yet read.
    reported += [tuple(int(v) for v in line.split()) for line in writer.stdout.read().splitlines()]
    writer.stdout.close()

    with ProjectStore.open(path) as reopened:
        events = {event.id: event for event in reopened.get_label_events()}
        assert reopened._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert len(reported) >= 150
    for event_id, sample_id, label in reported:
        assert (events[event_id].sample_id, events[event_id].label) == (sample_id, label)
    # At most the one label in flight at the kill was committed without being reported.
    assert len(events) - len(reported) in (0, 1)


# --- annotation: submissions, skips, undo, annotators -------------------------------------------


def queue_round(store: ProjectStore, selected: list[int]) -> int:
    round_id = store.start_round(strategy="margin", query_size=len(selected), config={})
    finish(store, round_id, selected)
    return round_id


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
    with pytest.raises(ValueError, match="test split"):
        store.skip_sample(N_POOL, annotator="ann")


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


def test_annotators_are_stored_by_token_hash(store: ProjectStore) -> None:
    from labeler.store.tokens import hash_token, make_token

    token = make_token()
    assert len(token) >= 40 and make_token() != token
    store.add_annotator("ann", token_hash=hash_token(token), is_admin=True)
    store.add_annotator("bob", token_hash=hash_token(make_token()))
    found = store.find_annotator(hash_token(token))
    assert found is not None and (found.name, found.is_admin) == ("ann", True)
    assert store.find_annotator(hash_token("wrong")) is None
    assert [(a.name, a.is_admin) for a in store.get_annotators()] == [("ann", True), ("bob", False)]
    with pytest.raises(ValueError, match="'ann' exists already"):
        store.add_annotator("ann", token_hash=hash_token(make_token()))
    with pytest.raises(ValueError, match="SHA-256"):
        store.add_annotator("cid", token_hash=token)  # a token, not its hash
    assert store.remove_annotator("ann") and not store.remove_annotator("ann")
    assert store.find_annotator(hash_token(token)) is None
    raw = sqlite3.connect(store.path).execute("SELECT * FROM annotators").fetchall()
    assert token not in repr(raw)


def test_a_version_1_database_is_upgraded_on_open(tmp_path: Path) -> None:
    path = tmp_path / DATABASE_NAME
    ProjectStore.create(path, class_names=CLASSES, samples=make_samples()).close()
    raw = sqlite3.connect(path, isolation_level=None)
    for statement in (
        "DROP TABLE remote_tasks",
        "DROP TABLE remote_annotations",
        "DROP VIEW live_label_events",
        "DROP TABLE skips",
        "DROP TABLE retractions",
        "DROP TABLE lease_conflicts",
        "DROP TABLE annotators",
        "DROP INDEX queue_by_holder",
        "DROP INDEX queue_by_lease_end",
        "INSERT INTO label_events (sample_id, label, annotator, source, created_at) "
        "VALUES (2, 1, 'old', 'cli', 1.0)",
        "PRAGMA user_version = 1",
    ):
        raw.execute(statement)
    raw.close()
    with ProjectStore.open(path) as upgraded:
        assert upgraded.count_labels()["dog"] == 1
        assert upgraded.undo_last_label("old") is not None
        assert upgraded.count_labels()["dog"] == 0
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def test_a_version_3_database_drops_its_scores_table(tmp_path: Path) -> None:
    path = tmp_path / DATABASE_NAME
    ProjectStore.create(path, class_names=CLASSES, samples=make_samples()).close()
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute(
        "CREATE TABLE scores (round_id INTEGER NOT NULL, sample_id INTEGER NOT NULL, "
        "score REAL NOT NULL, PRIMARY KEY (round_id, sample_id)) WITHOUT ROWID"
    )
    raw.execute("PRAGMA user_version = 3")
    raw.close()
    ProjectStore.open(path).close()
    raw = sqlite3.connect(path)
    tables = {name for (name,) in raw.execute("SELECT name FROM sqlite_master")}
    assert "scores" not in tables and "queue" in tables
    assert raw.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,) == (4,)
