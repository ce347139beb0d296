"""Rounds in the store: results, the queue they leave, failures and the round lock."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from labeler.store.database import (
    DATABASE_NAME,
    ProjectStore,
)
from tests.labeler.store.store_data import (
    CLASSES,
    N_POOL,
    REPO_ROOT,
    finish,
    make_samples,
)

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
    (record,) = store.get_rounds()
    assert (record.id, record.status, record.error) == (round_id, "failed", "out of memory")
    assert store.get_last_done_round() is None


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
        assert [(r.id, r.status) for r in other.get_rounds()] == [(round_id, "running")]
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
