"""Grid labeling over the API: leases, blind slices, submissions, undo and the admin switch."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from labeler.store.grids import MAX_GRID_SIZE
from labeler.store.project import open_project
from labeler.store.project_files import RoundFolder
from tests.server.model_guesses import add_guessing_round


def _grid(api, query: str = "") -> dict:
    response = api.get("/api/grid" + query)
    assert response.status_code == 200, response.json
    return response.json


def test_a_grid_holds_images_the_model_puts_in_one_class(api_as, project: Path) -> None:
    guesses = add_guessing_round(project, wrong_share=0.0)
    ann, bob = api_as("ann"), api_as("bob")
    grid = _grid(ann, "?n=8&label=class_1")
    assert grid["label"] == "class_1" and grid["blind_share"] == 0.05
    assert len(grid["tiles"]) == 7 and len(grid["blind"]) == 1
    for tile in grid["tiles"]:
        assert guesses[tile["sample_id"]] == 1 and tile["kind"] == "grid"
        assert tile["guess"]["label"] == "class_1" and tile["lease_expires"] is not None
    confidences = [tile["guess"]["confidence"] for tile in grid["tiles"]]
    assert confidences == sorted(confidences, reverse=True)
    (blind,) = grid["blind"]
    assert blind["kind"] == "blind" and blind["guess"] is None
    # Two annotators never get the same image.
    other = _grid(bob, "?n=8&label=class_1")
    mine = {t["sample_id"] for t in grid["tiles"] + grid["blind"]}
    theirs = {t["sample_id"] for t in other["tiles"] + other["blind"]}
    assert theirs and not mine & theirs
    # Without a class, the grid is of the class whose next two images the model is surest
    # of (ann's and bob's leases are not boss's to take), not the class of the queue's next
    # image (here the least confident image of another class).
    held = mine | theirs
    with open_project(project) as opened:
        folder = RoundFolder.of(project, opened.store.get_last_done_round().folder)
        confidences = {s: c for s, (_, c) in folder.read_guesses().items() if s not in held}
        by_class: dict[int, list[float]] = {}
        for sample, confidence in sorted(confidences.items(), key=lambda item: -item[1]):
            by_class.setdefault(guesses[sample], []).append(confidence)
        surest = max(sorted(by_class), key=lambda c: np.mean(by_class[c][:2]))
        unsure = min(confidences, key=lambda s: confidences[s] if guesses[s] != surest else 2)
        opened.store.queue_first([unsure])
        assert guesses[opened.store.get_queue()[0].sample_id] != surest
    assert _grid(api_as("boss"), "?n=2")["label"] == f"class_{surest}"


def test_a_grid_submission_stores_each_image_and_undo_takes_it_back(api_as, project) -> None:
    add_guessing_round(project, wrong_share=0.0)
    ann = api_as("ann")
    grid = _grid(ann, "?n=6&label=class_0")
    tiles = [t["sample_id"] for t in grid["tiles"]]
    body = {"label": "class_0", "accepted": tiles[1:], "rejected": tiles[:1], "request_id": "g1"}
    answer = ann.post("/api/grid", body)
    assert answer.status_code == 200, answer.json
    assert answer.json["stored"] == len(tiles) - 1 and not answer.json["duplicate"]
    assert all(r["lease"] == "held" and r["message"] == "stored" for r in answer.json["results"])
    assert ann.post("/api/grid", body).json["duplicate"]
    # The blind image is labeled on its own, kept apart as blind.
    (blind,) = grid["blind"]
    single = {"sample_id": blind["sample_id"], "label": "class_0", "request_id": "b1"}
    assert ann.post("/api/labels", {**single, "blind": True}).status_code == 200
    # The rejected image comes next, one at a time.
    assert ann.get("/api/next").json["tasks"][0]["sample_id"] == tiles[0]
    with open_project(project) as opened:
        sources = {e.sample_id: e.source for e in opened.store.get_label_events()}
    assert sources == {**{s: "grid" for s in tiles[1:]}, blind["sample_id"]: "blind"}
    # Undo takes back the blind label, then the whole grid.
    assert (
        ann.post("/api/undo", {"request_id": "u1"}).json["undone"]["sample_id"]
        == blind["sample_id"]
    )
    undone = ann.post("/api/undo", {"request_id": "u2"}).json
    assert undone["undone"]["grid"] == tiles[1:]
    with open_project(project) as opened:
        assert opened.store.get_current_labels()[0].tolist() == []


def test_a_grid_of_images_not_leased_to_the_caller_is_stored_and_reported(api_as, project) -> None:
    add_guessing_round(project, wrong_share=0.0)
    ann, bob = api_as("ann"), api_as("bob")
    grid = _grid(ann, "?n=3&label=class_0")
    taken = [t["sample_id"] for t in grid["tiles"]]
    answer = bob.post("/api/grid", {"label": "class_0", "accepted": taken, "request_id": "x"})
    assert answer.status_code == 200
    assert {(r["lease"], r["holder"]) for r in answer.json["results"]} == {("taken", "ann")}
    assert "another annotator" in answer.json["results"][0]["message"]


def test_bad_grid_requests_get_a_json_error(api_as, project) -> None:
    ann = api_as("ann")
    no_round = ann.get("/api/grid")
    assert no_round.status_code == 409 and "after the first round" in no_round.json["error"]
    add_guessing_round(project, wrong_share=0.0)
    too_many = ann.get(f"/api/grid?n={MAX_GRID_SIZE + 1}")
    assert too_many.status_code == 400 and str(MAX_GRID_SIZE) in too_many.json["error"]
    assert "class_0" in ann.get("/api/grid?label=wolf").json["error"]
    cases = [
        ({"label": "class_0", "accepted": list(range(MAX_GRID_SIZE + 1))}, "at most"),
        ({"label": "class_0", "accepted": [1], "rejected": [1]}, "more than once"),
        ({"label": "class_0", "accepted": ["1"]}, "list of sample ids"),
        ({"label": "wolf", "accepted": [1]}, "class name"),
        ({"label": "class_0", "accepted": [10**6]}, "no sample"),
        ({"label": "class_0"}, "1 to"),
    ]
    for index, (body, message) in enumerate(cases):
        answer = ann.post("/api/grid", {**body, "request_id": f"bad-{index}"})
        assert answer.status_code == 400 and message in answer.json["error"], (body, answer.json)
    blind = ann.post("/api/labels", {"sample_id": 1, "label": "class_0", "request_id": "b",
                                     "blind": "yes"})  # fmt: skip
    assert blind.status_code == 400 and "blind must be true or false" in blind.json["error"]
    with open_project(project) as opened:
        assert opened.store.get_label_events() == []


def test_an_admin_turns_grid_labeling_off(api_as, project) -> None:
    add_guessing_round(project, wrong_share=0.0)
    boss, ann = api_as("boss"), api_as("ann")
    assert boss.get("/api/admin/grid").json == {"enabled": True, "blind_share": 0.05}
    assert ann.post("/api/admin/grid", {"enabled": False}).status_code == 403
    turned = boss.post("/api/admin/grid", {"enabled": False, "blind_share": 0.2})
    assert turned.json == {"enabled": False, "blind_share": 0.2}
    refused = ann.get("/api/grid")
    assert refused.status_code == 403 and "turned off" in refused.json["error"]
    for body in ({"blind_share": 2}, {"blind_share": "x"}, {"enabled": "no"}, {"colour": 1}):
        answer = boss.post("/api/admin/grid", body)
        assert answer.status_code == 400 and "error" in answer.json, body
