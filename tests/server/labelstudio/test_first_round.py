"""The bridge from a project's very first round, in the README's order, against the session's
real Label Studio 1.23.2: ``init``, ``round --initial``, ``ls connect``, ``ls push`` (twice),
annotate in Label Studio, ``ls pull``; then a trained round, ``push`` and ``pull``. The initial
round has no model, so its tasks carry no predictions, and Label Studio refuses a model version
that no prediction carries: the push must leave the version alone until a trained round.

``labeler serve`` runs only while Label Studio talks to our model (test 3): the annotations'
webhooks are lost, so the labels here arrive by ``pull`` alone. The tests share one project
and build on the ones before them; the last one, ``sync`` before any round, has its own."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from label_studio_sdk import LabelStudio

from labeler.cli import main
from labeler.store.project import open_project
from server.labelstudio import format
from server.labelstudio.link import ML_USER, SOURCE
from server.live_server import start_server
from tests.server.labelstudio.conftest import (
    QUERY_SIZE,
    LabelStudioServer,
    LinkedProject,
    get_current,
    get_free_port,
    make_new_project,
    run_round,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

N_INITIAL = 10
# What the push says when nothing changed.
NOTHING_DONE = (
    "0 tasks imported, 0 found already there, 0 new predictions, 0 removed and 0 marked "
    "(out of the queue), 0 back in the queue"
)


@dataclass
class FirstRound(LinkedProject):
    """The project, and ``server_port``, where its ``labeler serve`` listens when it runs."""

    server_port: int = 0
    made: dict[str, Any] = field(default_factory=dict)

    @property
    def server_url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}/"

    def get_model_version(self) -> str | None:
        """The Label Studio project's model version (None when unset)."""
        return self.sdk.projects.get(self.link().project_id).model_version or None

    def get_queue(self) -> list[int]:
        with open_project(self.project) as project:
            return [item.sample_id for item in project.store.get_queue()]

    def snapshot(self) -> tuple[Any, ...]:
        """What a push could change: the tasks as Label Studio holds them, the project's
        model version, and the store's records of the tasks."""
        tasks = sorted(
            (t["id"], t["updated_at"], t["data"], t["meta"], t["predictions"], t["annotations"])
            for t in self.tasks()
        )
        with open_project(self.project) as project:
            records = project.store.get_remote_tasks(self.link().remote)
        return tasks, self.get_model_version(), records


@pytest.fixture(scope="module")
def first(label_studio: LabelStudioServer, tmp_path_factory: pytest.TempPathFactory) -> FirstRound:
    project = make_new_project(tmp_path_factory.mktemp("first-round"))
    assert main(["round", str(project), "--initial", str(N_INITIAL)]) == 0
    sdk = LabelStudio(base_url=label_studio.url, api_key=label_studio.token)
    return FirstRound(project, label_studio, sdk, server_port=get_free_port())


def test_1_the_initial_round_is_pushed_without_predictions_or_a_model_version(
    first: FirstRound,
) -> None:
    code, out, err = first.labeler(
        "connect", "--url", first.label_studio.url, "--server-url", first.server_url
    )
    assert code == 0 and "made Label Studio project" in out, err

    code, out, err = first.labeler("push")
    assert code == 0, err  # Label Studio answered 400 to the model version round-1 before
    assert f"push: {N_INITIAL} queued; {N_INITIAL} tasks imported" in out
    assert "model version none" in out
    assert "left as none, not round-1: round 1 has no model" in out
    tasks = first.tasks_by_sample()
    assert set(tasks) == set(first.get_queue()) and len(tasks) == N_INITIAL
    assert all(task["predictions"] == [] for task in tasks.values())
    assert all(task["data"]["round"] == 1 for task in tasks.values())
    assert first.get_model_version() is None


def test_2_a_second_push_after_the_initial_round_changes_nothing(first: FirstRound) -> None:
    before = first.snapshot()
    code, out, err = first.labeler("push")
    assert code == 0, err
    assert NOTHING_DONE in out and "left as none, not round-1" in out
    assert first.snapshot() == before


def test_3_our_model_before_a_trained_round_connects_and_predicts_nothing(
    first: FirstRound,
) -> None:
    link = first.link()
    server = start_server(first.project, port=first.server_port)
    try:
        settings = format.make_ml_backend(
            link.ml_backend_url, user=ML_USER, password=link.secret, title="guided-labeler"
        )
        backend = first.sdk.ml.create(project=link.project_id, **settings)
        connected = first.sdk.ml.get(backend.id)
        assert str(connected.state) in ("CO", "MLBackendState.CONNECTED"), connected.error_message
        assert connected.model_version == format.NO_MODEL_VERSION
        first.sdk.actions.create(
            id="retrieve_tasks_predictions",
            project=link.project_id,
            selected_items={"all": True, "excluded": []},
        )
        # Label Studio asked for every task; none got a prediction (an empty result would be
        # stored as one, with score 0, and would make "no-model-yet" a version to set).
        tasks = first.tasks_by_sample()
        assert len(tasks) == N_INITIAL
        assert all(task["predictions"] == [] for task in tasks.values())
        first.sdk.ml.delete(backend.id)
    finally:
        server.stop()


def test_4_pull_brings_the_initial_round_labels(first: FirstRound) -> None:
    tasks = first.tasks_by_sample()
    # Both classes, so that the next round can train.
    first.made["initial"] = {s: f"class_{i % 2}" for i, s in enumerate(sorted(tasks))}
    for sample_id, label in first.made["initial"].items():
        first.annotate(tasks[sample_id], label)
    assert get_current(first.project) == {}  # no server, no webhook

    code, out, err = first.labeler("pull")
    assert code == 0, err
    assert f"pull: {N_INITIAL} tasks; {N_INITIAL} new labels, 0 changed" in out
    assert get_current(first.project) == first.made["initial"]
    with open_project(first.project) as project:
        events = project.store.get_label_events()
    assert {(e.source, e.annotator) for e in events} == {(SOURCE, "labeler@example.com")}
    assert first.get_queue() == []


def test_5_a_trained_round_is_pushed_with_predictions_and_its_model_version(
    first: FirstRound,
) -> None:
    run_round(first.project)
    queue = first.get_queue()
    assert len(queue) == QUERY_SIZE and not set(queue) & set(first.made["initial"])

    code, out, err = first.labeler("push")
    assert code == 0, err
    assert f"{QUERY_SIZE} tasks imported" in out and f"{N_INITIAL} marked" in out
    assert "model version round-2 (set now)" in out and "left as" not in out
    tasks = first.tasks_by_sample()
    assert set(tasks) == set(queue) | set(first.made["initial"])
    with open_project(first.project) as project:
        class_names = project.class_names
    for sample_id in queue:
        (prediction,) = tasks[sample_id]["predictions"]
        assert prediction["model_version"] == "round-2"
        assert 0 < prediction["score"] <= 1
        assert prediction["result"][0]["value"]["choices"][0] in class_names
    for sample_id in first.made["initial"]:  # annotated, out of the queue: kept, marked
        assert tasks[sample_id]["meta"]["guided_labeler"]["out_of_queue"] == "labeled"
        assert tasks[sample_id]["predictions"] == []
    assert first.get_model_version() == "round-2"

    before = first.snapshot()
    code, out, err = first.labeler("push")
    assert code == 0 and NOTHING_DONE in out, err
    assert "model version round-2" in out and "(set now)" not in out
    assert first.snapshot() == before


def test_6_pull_brings_the_trained_round_labels(first: FirstRound) -> None:
    tasks = first.tasks_by_sample()
    labeled = dict(zip(first.get_queue()[:3], ("class_1", "class_0", "class_1"), strict=True))
    for sample_id, label in labeled.items():
        first.annotate(tasks[sample_id], label)
    code, out, err = first.labeler("pull")
    assert code == 0, err
    assert f"pull: {QUERY_SIZE + N_INITIAL} tasks; 3 new labels, 0 changed" in out
    assert get_current(first.project) == {**first.made["initial"], **labeled}
    assert not set(labeled) & set(first.get_queue())


def test_7_sync_before_any_round_sends_nothing_and_says_what_to_run(
    label_studio: LabelStudioServer, tmp_path: Path
) -> None:
    project = make_new_project(tmp_path, n_pool=30)
    sdk = LabelStudio(base_url=label_studio.url, api_key=label_studio.token)
    linked = LinkedProject(project, label_studio, sdk)
    url = f"http://127.0.0.1:{get_free_port()}/"
    code, out, err = linked.labeler("connect", "--url", label_studio.url, "--server-url", url)
    assert code == 0, err
    code, out, err = linked.labeler("sync")
    assert code == 0, err
    assert "pull: 0 tasks; 0 new labels" in out
    assert f"push: 0 queued; {NOTHING_DONE}; model version none" in out
    assert f"no round yet, so nothing to send: `labeler round {project} --initial N`" in out
    assert linked.tasks() == []
    assert not sdk.projects.get(linked.link().project_id).model_version
