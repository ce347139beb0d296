"""Admin calls: a round started from the API runs as its own process and refills the queue."""

from __future__ import annotations

import json
import sys
import time

from labeler.selection.strategies import list_default_learner_strategies
from labeler.store.project import open_project
from labeler.store.project_files import RoundFolder
from server.api import OPENAPI_FILE


def wait_for_job(boss, *, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = boss.get("/api/admin/rounds/current").json["job"]
        if job["state"] != "running":
            return job
        time.sleep(0.2)
    raise AssertionError("the round did not finish")


def test_a_round_started_by_an_admin_runs_in_the_background(api_as, project) -> None:
    boss, ann = api_as("boss"), api_as("ann")
    # Label a few images of each class (the known labels), so the round can train.
    with open_project(project) as opened:
        ids, known = opened.store.get_known_labels("pool")
    for index, (sample, truth) in enumerate(zip(ids[:12], known[:12], strict=True)):
        body = {"sample_id": int(sample), "label": f"class_{truth}", "request_id": f"k-{index}"}
        assert boss.post("/api/labels", body).status_code == 200
    started = time.monotonic()
    response = boss.post("/api/admin/rounds", {"strategy": "entropy", "query_size": 6})
    assert response.status_code == 202, response.json
    assert time.monotonic() - started < 5  # the answer does not wait for training
    assert response.json["job"]["state"] == "running"
    # Labeling goes on while the round trains.
    assert ann.get("/api/stats").status_code == 200
    busy = boss.post("/api/admin/rounds", {"strategy": "margin", "query_size": 6})
    assert busy.status_code == 409
    job = wait_for_job(boss)
    assert job["state"] == "done", job
    assert "learned from 12 labels" in job["last_line"]
    assert job["last_line"].startswith("round 2: ")
    last = boss.get("/api/admin/rounds/current").json["last_round"]
    assert (last["id"], last["status"], last["strategy"]) == (2, "done", "entropy")
    tasks = ann.get("/api/next?n=10").json["tasks"]
    assert len(tasks) == 6
    assert all(task["guess"]["label"] in ("class_0", "class_1") for task in tasks if task["guess"])
    dashboard = boss.get("/api/dashboard").json
    assert [r["id"] for r in dashboard["rounds"]] == [1, 2]
    assert dashboard["round_job"]["state"] == "done"
    # One of the six (a tenth, rounded up) is the audit slice: its label scores the round.
    estimate = dashboard["accuracy_estimate"]
    assert estimate["audit"]["by_round"] == [{"round": 2, "n_drawn": 1, "n": 0, "correct": 0}]
    assert "no audit image labeled yet" in estimate["message"]
    audit_id = read_audit_ids(project)[0]
    # Served like the rest, but without the model's guess: its label must not lean on it.
    guess_of = {task["sample_id"]: task["guess"] for task in tasks}
    assert guess_of[audit_id] is None
    assert sum(guess is not None for guess in guess_of.values()) == 5
    truth = dict(zip(ids.tolist(), known.tolist(), strict=True))[audit_id]
    body = {"sample_id": audit_id, "label": f"class_{truth}", "request_id": "audit-1"}
    assert ann.post("/api/labels", body).status_code == 200
    audit = boss.get("/api/dashboard").json["accuracy_estimate"]["audit"]
    assert (audit["n"], audit["rounds"], audit["n_unlabeled"]) == (1, [2], 0)


def read_audit_ids(project) -> list[int]:
    """The audit slice the project's last round drew."""
    with open_project(project) as opened:
        last = opened.store.get_last_done_round()
        assert last is not None
        folder = RoundFolder.of(project, last.folder)
        drawn = None if folder is None else folder.read_audit()
    assert drawn is not None
    return drawn[0].tolist()


def test_a_failed_round_shows_its_error(make_app, project) -> None:
    from tests.server.conftest import TOKENS, Api

    # A round command that fails at once, standing in for a crash of the round.
    failing = [sys.executable, "-c", "import sys; print('labeler: error: boom'); sys.exit(2)"]
    boss = Api(make_app(ROUND_COMMAND=failing).test_client(), TOKENS["boss"])
    assert boss.post("/api/admin/rounds", {"query_size": 3}).status_code == 202
    job = wait_for_job(boss, timeout=30)
    assert (job["state"], job["exit_code"], job["last_line"]) == (
        "failed",
        2,
        "labeler: error: boom",
    )


def test_bad_round_requests(api_as) -> None:
    boss = api_as("boss")
    unknown = boss.post("/api/admin/rounds", {"strategy": "telepathy", "query_size": 3})
    assert unknown.status_code == 400 and "'telepathy'" in unknown.json["error"]
    assert "margin" in unknown.json["error"]
    # The dashboard's rounds use the default learner, which may have no dropout draws.
    bald = boss.post("/api/admin/rounds", {"strategy": "bald", "query_size": 3})
    assert bald.status_code == 400 and "'bald'" in bald.json["error"]
    for size in (0, -3, 10**6, "ten", True):
        response = boss.post("/api/admin/rounds", {"strategy": "margin", "query_size": size})
        assert response.status_code == 400 and "query_size" in response.json["error"]
    assert boss.get("/api/admin/rounds/current").json["job"] is None


def test_the_documented_strategies_are_the_ones_accepted() -> None:
    document = json.loads(OPENAPI_FILE.read_text())
    body = document["paths"]["/api/admin/rounds"]["post"]["requestBody"]
    strategy = body["content"]["application/json"]["schema"]["properties"]["strategy"]
    assert strategy["enum"] == list_default_learner_strategies()
    assert strategy["default"] == "auto"
