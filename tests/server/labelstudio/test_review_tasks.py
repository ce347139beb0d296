"""Reviews through a real Label Studio 1.23.2: open reviews pushed as blind review tasks, their
answers brought back by webhook and by pull under the review queue's rules, and the tasks kept
in step with the reviews. The tests share one project and build on each other."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from label_studio_sdk import LabelStudio

from labeler.store.project import open_project
from server.labelstudio.link import get_task_kind
from server.live_server import LiveServer, start_server
from tests.server.labelstudio.conftest import (
    LabelStudioServer,
    LinkedProject,
    get_current,
    make_trained_project,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
LABEL_STUDIO_USER = "labeler@example.com"


@dataclass
class Reviewed(LinkedProject):
    """The linked project, its server, and the samples each test put under review."""

    server: LiveServer
    samples: dict[str, int] = field(default_factory=dict)

    def review_tasks(self) -> list[dict[str, Any]]:
        link = self.link()
        return [
            task
            for task in self.tasks()
            if get_task_kind(link, task["data"].get("sample_id"), task["data"].get("sample_key"))
            == "review"
        ]

    def open_reviews(self) -> dict[int, tuple[str, str]]:
        """Open reviews: sample -> (reason, who gave the label under review)."""
        with open_project(self.project) as project:
            return {r.sample_id: (r.reason, r.labeled_by) for r in project.store.get_reviews()}


@pytest.fixture(scope="module")
def reviewed(
    label_studio: LabelStudioServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Reviewed]:
    project = make_trained_project(tmp_path_factory.mktemp("reviews"))
    server = start_server(project)
    sdk = LabelStudio(base_url=label_studio.url, api_key=label_studio.token)
    shared = Reviewed(project, label_studio, sdk, server)
    code, _, err = shared.labeler("connect", "--url", label_studio.url, "--server-url", server.url)
    assert code == 0, err
    yield shared
    shared.server.stop()


def test_1_open_reviews_go_out_as_blind_review_tasks(reviewed: Reviewed) -> None:
    code, _, err = reviewed.labeler("push")
    assert code == 0, err
    # One label made in Label Studio by its user, whose review that user must not answer.
    queue_tasks = reviewed.tasks_by_sample()
    own = sorted(queue_tasks)[0]
    reviewed.annotate(queue_tasks[own], "class_0")
    current = get_current(reviewed.project)
    assert current[own] == "class_0"
    confirm, dispute = sorted(s for s in current if s != own)[:2]
    reviewed.samples.update(own=own, confirm=confirm, dispute=dispute)
    with open_project(reviewed.project) as project:
        project.store.add_reviews([confirm, dispute, own], reason="suspect")

    code, out, err = reviewed.labeler("push")
    assert code == 0, err
    assert "reviews: 3 open; 3 review tasks imported" in out
    tasks = reviewed.review_tasks()
    assert sorted(task["data"]["sample_id"] for task in tasks) == sorted([confirm, dispute, own])
    for task in tasks:
        # Blind: the reason and the image, never the label under review nor a guess.
        assert task["predictions"] == [] and task["annotations"] == []
        assert task["data"]["review"] == "suspect"
        assert set(task["data"]) == {"image", "sample_id", "sample_key", "review"}
    code, out, err = reviewed.labeler("push")
    assert code == 0, err
    assert "3 open; 0 review tasks imported" in out and "0 removed (their review closed)" in out
    assert len(reviewed.review_tasks()) == 3


def test_2_answers_arrive_by_webhook_under_the_review_rules(reviewed: Reviewed) -> None:
    samples = reviewed.samples
    current = get_current(reviewed.project)
    by_sample = {task["data"]["sample_id"]: task for task in reviewed.review_tasks()}
    other = {"class_0": "class_1", "class_1": "class_0"}
    reviewed.annotate(by_sample[samples["confirm"]], current[samples["confirm"]])
    reviewed.annotate(by_sample[samples["dispute"]], other[current[samples["dispute"]]])
    reviewed.annotate(by_sample[samples["own"]], "class_1")  # its user's own label

    reviews = reviewed.open_reviews()
    assert samples["confirm"] not in reviews  # confirmed: done
    assert reviews[samples["dispute"]] == ("dispute", LABEL_STUDIO_USER)
    assert reviews[samples["own"]] == ("suspect", LABEL_STUDIO_USER)  # refused: still open
    after = get_current(reviewed.project)
    assert after[samples["dispute"]] == other[current[samples["dispute"]]]
    assert after[samples["own"]] == "class_0"  # the refused answer is no label
    with open_project(reviewed.project) as project:
        answers = project.store.get_review_answers()
    assert sorted(outcome for _, _, _, outcome in answers) == ["confirmed", "disputed"]
    assert {reviewer for _, reviewer, _, _ in answers} == {LABEL_STUDIO_USER}


def test_3_pull_reports_the_refused_answer_and_changes_nothing(reviewed: Reviewed) -> None:
    reviews = reviewed.open_reviews()
    code, out, err = reviewed.labeler("pull")
    assert code == 0, err
    assert "0 new labels, 0 changed, 0 deleted" in out
    assert "review answers not stored" in err and "cannot review it" in err
    assert reviewed.open_reviews() == reviews


def test_4_push_sends_open_reviews_again_and_removes_closed_ones(reviewed: Reviewed) -> None:
    samples = reviewed.samples
    code, out, err = reviewed.labeler("push")
    assert code == 0, err
    # The dispute wants a third answer and the refused review another reviewer: new tasks.
    assert "reviews: 2 open; 2 review tasks imported" in out
    waiting = [task for task in reviewed.review_tasks() if not task["annotations"]]
    assert sorted(t["data"]["sample_id"] for t in waiting) == sorted(
        [samples["dispute"], samples["own"]]
    )
    # The dispute is settled on our page; its waiting task goes at the next push.
    with open_project(reviewed.project) as project:
        store = project.store
        history = store.get_label_history(samples["dispute"])
        store.submit_review(samples["dispute"], history[0].label_name, annotator="page-reviewer")
    code, out, err = reviewed.labeler("push")
    assert code == 0, err
    assert "reviews: 1 open; 0 review tasks imported" in out
    assert "1 removed (their review closed)" in out
    waiting = [task for task in reviewed.review_tasks() if not task["annotations"]]
    assert [t["data"]["sample_id"] for t in waiting] == [samples["own"]]
    # Answered review tasks stay in Label Studio: they hold the answers.
    assert sum(bool(task["annotations"]) for task in reviewed.review_tasks()) == 3


def test_5_deleting_an_answer_in_label_studio_reopens_its_review(reviewed: Reviewed) -> None:
    confirm = reviewed.samples["confirm"]
    (task,) = [
        t for t in reviewed.review_tasks() if t["data"]["sample_id"] == confirm and t["annotations"]
    ]
    (annotation,) = task["annotations"]
    reviewed.sdk.annotations.delete(annotation["id"])
    assert reviewed.open_reviews()[confirm][0] == "suspect"
    # Its task has no answer again, so it waits for one: nothing new to import.
    code, out, err = reviewed.labeler("push")
    assert code == 0 and "reviews: 2 open; 0 review tasks imported" in out, err
    waiting = [task for task in reviewed.review_tasks() if not task["annotations"]]
    assert sorted(t["data"]["sample_id"] for t in waiting) == sorted(
        [confirm, reviewed.samples["own"]]
    )
