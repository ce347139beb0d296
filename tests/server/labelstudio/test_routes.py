"""What Label Studio calls on our server, through Flask's test client on a real project store:
the webhook (secret, idempotence, foreign tasks, unknown users), the ML backend protocol and
the keyed images. Bodies are shaped as Label Studio 1.23 sends them."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from labeler.store.project import open_project
from server.labelstudio import format
from server.labelstudio.link import Link, make_sample_key, save_link
from server.state import ModelGuesses, ServerState

PROJECT_ID = 5
USER_ID = 1
SECRET = "shared-secret-" + "x" * 20


@pytest.fixture
def link(project: Path) -> Link:
    made = Link("abc", "http://ls.test/", PROJECT_ID, SECRET, "http://us.test/", {USER_ID: "a@b.c"})
    with open_project(project) as opened:
        save_link(opened.store, made)
    return made


def get_queued(project: Path) -> list[int]:
    with open_project(project) as opened:
        return [item.sample_id for item in opened.store.get_queue()]


def make_event(sample_id: int, choice: str, *, annotation_id: int = 70, **extra: Any) -> dict:
    task = {
        "id": 300 + sample_id,
        "data": {"sample_id": sample_id, "sample_key": make_sample_key(SECRET, sample_id)},
    }
    annotation = {
        "id": annotation_id,
        "task": task["id"],
        "completed_by": USER_ID,
        "was_cancelled": False,
        "updated_at": "2026-12-01T10:00:00Z",
        "result": format.make_choice_result(choice),
        **extra,
    }
    return {
        "action": "ANNOTATION_CREATED",
        "project": {"id": PROJECT_ID},
        "annotation": annotation,
        "task": task,
    }


def post_webhook(app: Flask, body: Any, secret: str | None = SECRET) -> Any:
    headers = {} if secret is None else {format.SECRET_HEADER: secret}
    return app.test_client().post("/labelstudio/webhook", json=body, headers=headers)


def test_a_webhook_stores_a_label_once(app: Flask, project: Path, link: Link) -> None:
    sample_id = get_queued(project)[0]
    answer = post_webhook(app, make_event(sample_id, "class_1"))
    assert answer.status_code == 200 and answer.json["labeled"] == [70]
    again = post_webhook(app, make_event(sample_id, "class_1"))
    assert again.json["labeled"] == [] and again.json["unchanged"] == 1
    with open_project(project) as opened:
        (event,) = opened.store.get_label_history(sample_id)
        assert (event.label_name, event.annotator, event.source) == (
            "class_1",
            "a@b.c",
            "labelstudio",
        )
        assert event.created_at == format.parse_time("2026-12-01T10:00:00Z")
        assert opened.store.get_queue_item(sample_id) is None


def test_a_webhook_without_the_secret_is_refused(app: Flask, project: Path, link: Link) -> None:
    sample_id = get_queued(project)[0]
    # A secret of non-ASCII bytes is a wrong one, not a crash (found by fuzzing).
    for secret in (None, "wrong", "\x80é"):
        answer = post_webhook(app, make_event(sample_id, "class_1"), secret)
        assert answer.status_code == 401 and format.SECRET_HEADER in answer.json["error"]
    with open_project(project) as opened:
        assert opened.store.get_label_history(sample_id) == []


def test_a_webhook_of_another_project_or_a_bad_body_is_a_400(app: Flask, link: Link) -> None:
    other = {**make_event(1, "class_0"), "project": {"id": PROJECT_ID + 1}}
    answer = post_webhook(app, other)
    assert answer.status_code == 400 and f"project {PROJECT_ID + 1}" in answer.json["error"]
    bad = post_webhook(app, {"action": "ANNOTATION_CREATED", "annotation": "x"})
    assert bad.status_code == 400 and "webhook body" in bad.json["error"]


def test_foreign_tasks_are_ignored_and_unknown_users_deferred(
    app: Flask, project: Path, link: Link
) -> None:
    sample_id = get_queued(project)[0]
    forged = make_event(sample_id, "class_0")
    forged["task"]["data"]["sample_key"] = "guess"
    assert post_webhook(app, forged).json["ignored"] == [70]
    stranger = make_event(sample_id, "class_0", annotation_id=71, completed_by=99)
    assert post_webhook(app, stranger).json["deferred"] == [71]
    with open_project(project) as opened:
        assert opened.store.get_label_history(sample_id) == []


def test_a_foreign_label_is_reported_and_a_deletion_followed(
    app: Flask, project: Path, link: Link
) -> None:
    first, second = get_queued(project)[:2]
    assert post_webhook(app, make_event(first, "wolf")).json["rejected"] == {"70": "wolf"}
    post_webhook(app, make_event(second, "class_0", annotation_id=71))
    deleted = post_webhook(app, {"action": "ANNOTATIONS_DELETED", "annotations": [{"id": 71}]})
    assert deleted.json["deleted"] == [71]
    with open_project(project) as opened:
        assert opened.store.get_queue_item(second) is not None
        assert opened.store.get_label_history(first) == []


def test_without_a_link_the_routes_say_how_to_connect(app: Flask) -> None:
    answer = app.test_client().post("/labelstudio/webhook", json={"action": "x"})
    assert answer.status_code == 404 and "labeler ls connect" in answer.json["error"]
    assert app.test_client().get("/labelstudio/nothing").is_json  # JSON errors here too


def basic_auth(password: str) -> dict[str, str]:
    encoded = base64.b64encode(f"labelstudio:{password}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def post_ml(client: FlaskClient, action: str, body: Any) -> Any:
    """Call our model as Label Studio does, with the link's secret."""
    return client.post(f"/labelstudio/ml/{action}", json=body, headers=basic_auth(SECRET))


def test_the_ml_backend_answers_health_setup_and_predict(app: Flask, link: Link) -> None:
    client = app.test_client()
    assert client.get("/labelstudio/ml/health").json["status"] == "UP"
    assert client.post("/labelstudio/ml/setup", json={}).status_code == 401
    wrong = client.post("/labelstudio/ml/predict", json={"tasks": []}, headers=basic_auth("no"))
    assert wrong.status_code == 401
    odd = client.post("/labelstudio/ml/predict", json={"tasks": []}, headers=basic_auth("é\x80"))
    assert odd.status_code == 401  # non-ASCII: a wrong password, not a crash
    bad = client.post("/labelstudio/ml/predict", json={"task": []}, headers=basic_auth(SECRET))
    assert bad.status_code == 400 and "'tasks'" in bad.json["error"]
    assert client.post("/labelstudio/ml/webhook", json={}).json == {"status": "ignored"}


def test_before_a_trained_round_the_model_says_so_and_predicts_nothing(
    app: Flask, project: Path, link: Link
) -> None:
    """The project's only round is the initial random one: no model, so no round version
    (Label Studio would take it for a model) and no prediction, not even for our own tasks."""
    client = app.test_client()
    setup = post_ml(client, "setup", {})
    assert setup.status_code == 200 and setup.json == {"model_version": format.NO_MODEL_VERSION}
    queued = get_queued(project)[0]
    tasks = [
        {"id": 1, "data": {"sample_id": queued, "sample_key": make_sample_key(SECRET, queued)}},
        {"id": 2, "data": {"sample_id": 0, "sample_key": "bad"}},
        {"id": 3},
    ]
    predict = post_ml(client, "predict", {"tasks": tasks})
    assert predict.status_code == 200 and predict.json == {"results": [[], [], []]}


def test_a_round_with_guesses_names_its_version_and_predicts_what_it_guessed(
    app: Flask, project: Path, link: Link, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rule the routes follow, with the round's guesses stood in for: the last round's
    version once it guessed, a prediction per guessed task, nothing for the others."""
    first, second = get_queued(project)[:2]
    stand_in = ModelGuesses(1, {first: (1, 0.75)})  # round 1 queued the tasks
    monkeypatch.setattr(ServerState, "get_model_guesses", lambda self: stand_in)
    client = app.test_client()
    setup = post_ml(client, "setup", {})
    assert setup.json == {"model_version": "round-1"}
    tasks = [
        {"id": 1, "data": {"sample_id": s, "sample_key": make_sample_key(SECRET, s)}}
        for s in (first, second)
    ]
    predict = post_ml(client, "predict", {"tasks": tasks})
    expected = format.make_prediction("class_1", 0.75, model_version="round-1")
    assert predict.json == {"results": [expected, []]}


def test_before_any_round_the_model_says_so_too(
    tiny_dataset: Path, tmp_path: Path, make_app: Any
) -> None:
    """A project just made by ``labeler init``: no round, no queue."""
    from labeler.cli import main

    fresh = tmp_path / "fresh"
    assert main(["init", str(fresh), "--images", str(tiny_dataset), "--image-size", "16"]) == 0
    with open_project(fresh) as opened:
        save_link(
            opened.store, Link("abc", "http://ls.test/", PROJECT_ID, SECRET, "http://us.test/")
        )
    client = make_app(PROJECT=str(fresh)).test_client()
    setup = post_ml(client, "setup", {})
    assert setup.json == {"model_version": format.NO_MODEL_VERSION}
    tasks = [{"id": 1, "data": {"sample_id": 0, "sample_key": make_sample_key(SECRET, 0)}}]
    predict = post_ml(client, "predict", {"tasks": tasks})
    assert predict.json == {"results": [[]]}


def test_images_open_with_their_own_key_only(app: Flask, link: Link) -> None:
    client = app.test_client()
    image = client.get(f"/labelstudio/images/3.png?key={make_sample_key(SECRET, 3)}")
    assert image.status_code == 200 and image.data[:4] == b"\x89PNG"
    other = client.get(f"/labelstudio/images/4.png?key={make_sample_key(SECRET, 3)}")
    assert other.status_code == 404 and other.is_json
    assert client.get("/labelstudio/images/3.png").status_code == 404
    assert client.get("/labelstudio/images/3.png?key=%80%C3%A9").status_code == 404
