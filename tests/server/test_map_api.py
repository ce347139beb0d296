"""The dashboard's map over the API: what it says before an embedding exists, the map made in
the background, what each point carries, lasso grids and queueing a selection."""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from labeler.cli import main as labeler_main
from labeler.store.project import open_project
from labeler.store.project_files import RoundFolder
from tests.server.conftest import TOKENS, Api
from tests.server.model_guesses import add_guessing_round

MAP_COMMAND = [sys.executable, "-m", "labeler.cli", "map", "--method", "pca"]


def _wait_for_map(api: Api) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answer = api.get("/api/map").json
        if answer["status"] != "making":
            return answer
        time.sleep(0.2)
    raise AssertionError("the map was not made in time")


def test_the_map_is_made_in_the_background_once_an_embedding_exists(make_app, project) -> None:
    app = make_app(MAP_COMMAND=MAP_COMMAND)
    ann = Api(app.test_client(), TOKENS["ann"])
    missing = ann.get("/api/map").json
    assert missing["status"] == "no_embedding"
    assert f"labeler embed {project} --kind pixels" in missing["message"]
    guesses = add_guessing_round(project, wrong_share=0.1)
    assert labeler_main(["embed", str(project), "--kind", "pixels"]) == 0
    assert ann.get("/api/map").json["status"] == "making"
    ready = _wait_for_map(ann)
    assert ready["status"] == "ready", ready
    assert ready["info"]["embedding"] == "pixels" and ready["info"]["method"] == "pca"
    with open_project(project) as opened:
        pool = opened.store.get_sample_ids("pool").tolist()
        queued = [item.sample_id for item in opened.store.get_queue()]
    assert ready["ids"] == pool and len(ready["x"]) == len(ready["y"]) == len(pool)
    assert all(0 <= v <= ready["scale"] for v in ready["x"] + ready["y"])
    assert ready["guess"] == [guesses.get(s, -1) for s in pool]
    assert set(ready["label"]) == {-1} and ready["queued"] == queued
    assert all(-1 <= score <= 1 for score in ready["score"])
    assert ready["stop_set"] == []  # no trained round has drawn one
    assert (project / "map" / "layout.npz").is_file()

    # A round with a stop set: its images are marked, with the guesses the round made for them.
    with open_project(project) as opened:
        last = opened.store.get_last_done_round()
        assert last is not None and last.folder is not None
        stop_ids = np.asarray(pool[-3:], dtype=np.int64)
        opened.store.set_meta("stop_set", json.dumps({"ids": stop_ids.tolist(), "seed": 0}))
        RoundFolder(project / last.folder).write_stop_guesses(stop_ids, np.array([1, 0, 1]))
    again = ann.get("/api/map").json
    assert again["stop_set"] == stop_ids.tolist()
    assert [again["guess"][again["ids"].index(s)] for s in stop_ids.tolist()] == [1, 0, 1]


def test_a_failed_map_says_why(make_app, project) -> None:
    failing = [sys.executable, "-c", "import sys; print('labeler: error: boom'); sys.exit(2)"]
    app = make_app(MAP_COMMAND=failing)
    ann = Api(app.test_client(), TOKENS["ann"])
    assert labeler_main(["embed", str(project), "--kind", "pixels"]) == 0
    assert ann.get("/api/map").json["status"] == "making"
    answer = _wait_for_map(ann)
    assert answer["status"] == "failed" and "boom" in answer["message"]


def test_a_lasso_becomes_a_grid_or_goes_first_in_the_queue(api_as, project) -> None:
    guesses = add_guessing_round(project, wrong_share=0.0)
    ann, boss = api_as("ann"), api_as("boss")
    chosen = [s for s, g in guesses.items() if g == 1][:3] + [
        s for s, g in guesses.items() if g == 0
    ][:1]
    grid = ann.get("/api/grid?n=10&ids=" + ",".join(map(str, chosen))).json
    assert grid["label"] == "class_1"  # what most of them are guessed as
    assert [t["sample_id"] for t in grid["tiles"] + grid["blind"]] != []
    assert {t["sample_id"] for t in grid["tiles"] + grid["blind"]} == set(chosen)
    bad = ann.get("/api/grid?ids=1,x")
    assert bad.status_code == 400 and "separated by commas" in bad.json["error"]
    assert "no sample 9999" in ann.get("/api/grid?ids=9999").json["error"]
    assert ann.post("/api/admin/queue", {"sample_ids": chosen}).status_code == 403
    answer = boss.post("/api/admin/queue", {"sample_ids": chosen[::-1]})
    assert answer.status_code == 200 and answer.json == {"queued": 4, "asked": 4}
    with open_project(project) as opened:
        assert [item.sample_id for item in opened.store.get_queue()[:4]] == chosen[::-1]
    for body in ({"sample_ids": []}, {"sample_ids": ["1"]}, {"sample_ids": [10**6]}, {}):
        refused = boss.post("/api/admin/queue", body)
        assert refused.status_code == 400 and "error" in refused.json, body
