"""The JSON API through Flask's test client: auth, leases, idempotent retries, bad input."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from labeler.store.project import open_project
from tests.server.conftest import QUEUE_SIZE, TOKENS

GET_CALLS = ["/api/next", "/api/stats", "/api/dashboard", "/api/images/0.png", "/api/openapi.json"]
POST_CALLS = ["/api/labels", "/api/skip", "/api/undo"]


def first_task(api) -> dict:
    response = api.get("/api/next")
    assert response.status_code == 200, response.json
    (task,) = response.json["tasks"]
    return task


def label(api, sample_id: int, name: str = "class_0", request_id: str = "r-1"):
    return api.post(
        "/api/labels", {"sample_id": sample_id, "label": name, "request_id": request_id}
    )


# --- auth ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "wrong-token", "Bearer"])
def test_every_call_needs_valid_credentials(make_app, token) -> None:
    from tests.server.conftest import Api

    # Enough attempts allowed that the throttle (tested below) stays out of the way.
    api = Api(make_app(LOGIN_FAILURES_ALLOWED=100).test_client(), token)
    for path in [*GET_CALLS, "/api/admin/rounds/current", "/api/admin/annotators"]:
        response = api.get(path)
        assert response.status_code == 401, path
        assert "error" in response.json
    for path in [*POST_CALLS, "/api/admin/rounds"]:
        assert api.post(path, {}).status_code == 401, path
    for page in ["/", "/dashboard"]:
        response = api.get(page)
        assert response.status_code == 401 and b"Log in" in response.data


def test_a_malformed_authorization_header_is_refused(app) -> None:
    client = app.test_client()
    response = client.get("/api/next", headers={"Authorization": "Basic abc"})
    assert response.status_code == 401
    assert "Bearer TOKEN" in response.json["error"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_stops_working_at_once(api_as, project: Path) -> None:
    api = api_as("bob")
    assert api.get("/api/stats").status_code == 200
    with open_project(project) as opened:
        assert opened.store.remove_annotator("bob")
    assert api.get("/api/stats").status_code == 401


def test_admin_calls_need_an_admin(api_as) -> None:
    ann = api_as("ann")
    assert ann.get("/api/admin/annotators").status_code == 403
    assert ann.get("/api/admin/rounds/current").status_code == 403
    response = ann.post("/api/admin/rounds", {"strategy": "margin", "query_size": 5})
    assert response.status_code == 403 and "not an admin" in response.json["error"]
    names = [a["name"] for a in api_as("boss").get("/api/admin/annotators").json["annotators"]]
    assert names == ["ann", "bob", "boss"]


def test_repeated_failed_logins_are_slowed_down(make_app) -> None:
    app = make_app(LOGIN_FAILURES_ALLOWED=3)
    client = app.test_client()
    codes = [
        client.get("/api/stats", headers={"Authorization": f"Bearer guess-{i}"}).status_code
        for i in range(4)
    ]
    assert codes == [401, 401, 401, 429]
    # Even the right token waits while the address is held back (1 s after the 3rd failure).
    right = {"Authorization": f"Bearer {TOKENS['ann']}"}
    held = client.get("/api/stats", headers=right)
    assert held.status_code == 429 and "try again in" in held.json["error"]
    assert held.headers["Retry-After"] == "1"
    login = client.post("/login", data={"token": TOKENS["ann"]})
    assert login.status_code == 429
    time.sleep(1.1)
    assert client.get("/api/stats", headers=right).status_code == 200


# --- leases -------------------------------------------------------------------------------------


def test_two_annotators_never_get_the_same_image(api_as) -> None:
    ann, bob = api_as("ann"), api_as("bob")
    ann_tasks = ann.get("/api/next?n=5").json["tasks"]
    bob_tasks = bob.get("/api/next?n=5").json["tasks"]
    ann_ids = {t["sample_id"] for t in ann_tasks}
    bob_ids = {t["sample_id"] for t in bob_tasks}
    assert len(ann_ids) == len(bob_ids) == 5 and not ann_ids & bob_ids
    # Asking again returns one's own leases, not more images.
    assert {t["sample_id"] for t in ann.get("/api/next?n=5").json["tasks"]} == ann_ids
    stats = ann.get("/api/stats").json
    assert stats["queue"] == {"waiting": QUEUE_SIZE - 10, "leased": 10}


def test_an_expired_lease_returns_the_image_to_the_queue(make_app, project: Path) -> None:
    app = make_app(LEASE_SECONDS=0.3)
    ann = app.test_client()
    bob = app.test_client()
    headers = {name: {"Authorization": f"Bearer {TOKENS[name]}"} for name in TOKENS}
    first = ann.get("/api/next", headers=headers["ann"]).json["tasks"][0]["sample_id"]
    queue_order = [
        t["sample_id"] for t in bob.get("/api/next?n=10", headers=headers["bob"]).json["tasks"]
    ]
    assert first not in queue_order
    time.sleep(0.4)
    retaken = bob.get("/api/next?n=10", headers=headers["bob"]).json["tasks"]
    assert first in [t["sample_id"] for t in retaken]
    # Ann's late label is still stored, and says the lease was lost.
    response = ann.post(
        "/api/labels",
        json={"sample_id": first, "label": "class_1", "request_id": "late"},
        headers=headers["ann"],
    )
    assert response.status_code == 200
    assert response.json["lease"] == "taken" and response.json["holder"] == "bob"
    assert "another annotator" in response.json["message"]
    with open_project(project) as opened:
        ids, _ = opened.store.get_current_labels()
        assert ids.tolist() == [first]


def test_a_label_for_an_image_held_by_someone_else_is_kept_and_shown(api_as) -> None:
    ann, bob, boss = api_as("ann"), api_as("bob"), api_as("boss")
    held_by_bob = first_task(bob)["sample_id"]
    answer = label(ann, held_by_bob, request_id="x")
    assert answer.status_code == 200 and answer.json["lease"] == "taken"
    conflicts = boss.get("/api/dashboard").json["conflicts"]["leases"]
    assert conflicts == [
        {
            "sample_id": held_by_bob,
            "label": "class_0",
            "annotator": "ann",
            "kind": "taken",
            "holder": "bob",
            "created_at": conflicts[0]["created_at"],
        }
    ]


def test_the_dashboard_lists_labels_annotators_dispute(api_as) -> None:
    ann, bob, boss = api_as("ann"), api_as("bob"), api_as("boss")
    assert boss.get("/api/dashboard").json["suspects"]["n_labels"] == 0
    sample = first_task(ann)["sample_id"]
    assert label(ann, sample, request_id="a1").status_code == 200
    assert label(bob, sample, name="class_1", request_id="b1").status_code == 200
    suspects = boss.get("/api/dashboard").json["suspects"]
    assert suspects["n_labels"] == 1 and suspects["n_disputed"] == 1
    assert suspects["round_id"] is None and suspects["n_checked"] == 0
    (row,) = suspects["top"]
    assert row["sample"] == sample and row["label"] == "class_1"
    assert row["annotators"] == {"ann": "class_0", "bob": "class_1"}
    assert row["disagreement"] == 0.5 and row["image_url"] == f"/api/images/{sample}.png"
    assert boss.get(row["image_url"]).status_code == 200
    quality = boss.get("/api/dashboard").json["quality"]
    assert [q["name"] for q in quality["annotators"]] == ["ann", "bob"]
    assert quality["annotators"][0]["agreement"] == 0.0
    assert quality["pairs"] == [
        {"first": "ann", "second": "bob", "n_shared": 1, "agreement": 0.0, "kappa": None}
    ]


# --- submissions --------------------------------------------------------------------------------


def test_a_retried_submission_returns_the_same_answer_and_stores_once(api_as, project) -> None:
    ann = api_as("ann")
    task = first_task(ann)
    first = label(ann, task["sample_id"], "class_1", request_id="req-7")
    again = label(ann, task["sample_id"], "class_1", request_id="req-7")
    assert first.status_code == again.status_code == 200
    assert first.json["lease"] == "held" and not first.json["duplicate"]
    assert again.json["duplicate"] and again.json["event_id"] == first.json["event_id"]
    with open_project(project) as opened:
        assert len(opened.store.get_label_events()) == 1
    reused = label(ann, task["sample_id"], "class_0", request_id="req-7")
    assert reused.status_code == 400 and "already used" in reused.json["error"]


def test_skip_and_undo(api_as, project) -> None:
    ann = api_as("ann")
    tasks = ann.get("/api/next?n=3").json["tasks"]
    a, b, c = (t["sample_id"] for t in tasks)
    assert label(ann, a, request_id="l-a").json["stored"]
    skipped = ann.post("/api/skip", {"sample_id": b, "request_id": "s-b"})
    assert skipped.status_code == 200 and skipped.json["skipped"]
    assert ann.post("/api/skip", {"sample_id": b, "request_id": "s-b"}).json["duplicate"]
    # b never comes back to ann; it goes to bob.
    assert b not in [t["sample_id"] for t in ann.get("/api/next?n=10").json["tasks"]]
    assert b in [t["sample_id"] for t in api_as("bob").get("/api/next?n=10").json["tasks"]]
    undone = ann.post("/api/undo", {"request_id": "u-1"})
    assert undone.status_code == 200
    assert undone.json["undone"] == {"sample_id": a, "label": "class_0"}
    assert undone.json["task"]["sample_id"] == a
    assert first_task(ann)["sample_id"] == a  # back at the front, for ann
    assert ann.post("/api/undo", {"request_id": "u-2"}).json["undone"] is None
    stats = ann.get("/api/stats").json
    assert (stats["labels"], stats["skips"]) == (0, 1)
    with open_project(project) as opened:
        assert opened.store.get_current_labels()[0].size == 0
    del c


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"sample_id": 999, "label": "class_0", "request_id": "a"}, "there is no sample 999"),
        ({"sample_id": 0, "label": "class_9", "request_id": "a"}, "unknown label 'class_9'"),
        ({"sample_id": 45, "label": "class_0", "request_id": "a"}, "test split"),
        ({"sample_id": "../project.sqlite", "label": "class_0", "request_id": "a"}, "integer"),
        ({"sample_id": True, "label": "class_0", "request_id": "a"}, "integer"),
        ({"sample_id": 0, "label": ["class_0"], "request_id": "a"}, "class name"),
        ({"sample_id": 0, "label": "class_0"}, "request_id"),
        ({"sample_id": 0, "label": "class_0", "request_id": "../../etc"}, "request_id"),
        ([1, 2], "JSON object"),
    ],
)
def test_bad_submissions_get_400_naming_the_problem(api_as, project, body, fragment) -> None:
    response = api_as("ann").post("/api/labels", body)
    assert response.status_code == 400
    assert fragment in response.json["error"]
    with open_project(project) as opened:
        assert opened.store.get_label_events() == []


def test_malformed_json_and_oversized_bodies(api_as) -> None:
    ann = api_as("ann")
    broken = ann.client.post(
        "/api/labels",
        data=b'{"sample_id": 1,',
        headers={**ann._headers(), "Content-Type": "application/json"},
    )
    assert broken.status_code == 400 and "JSON object" in broken.json["error"]
    huge = {"sample_id": 0, "label": "class_0", "request_id": "a", "pad": "x" * 100_000}
    response = ann.post("/api/labels", huge)
    assert response.status_code == 413 and response.json == {"error": "request body too large"}


def test_images_are_served_by_pool_sample_id_only(api_as) -> None:
    ann = api_as("ann")
    response = ann.get("/api/images/3.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.data.startswith(b"\x89PNG")
    for path in [
        "/api/images/45.png",  # a test-split image
        "/api/images/999.png",
        "/api/images/-1.png",
        "/api/images/..%2Fproject.sqlite",
        "/api/images/../project.sqlite",
        "/api/images/3",
        "/project.sqlite",
        "/static/../project.sqlite",
    ]:
        assert ann.get(path).status_code == 404, path


def test_next_checks_its_count(api_as) -> None:
    ann = api_as("ann")
    assert ann.get("/api/next?n=0").json["error"] == "n must be an integer in [1, 10], got 0"
    assert ann.get("/api/next?n=two").json["error"] == "n must be an integer in [1, 10], got 'two'"


def test_an_empty_queue_says_so(api_as) -> None:
    ann = api_as("ann")
    tasks = (
        ann.get("/api/next?n=10").json["tasks"] + api_as("bob").get("/api/next?n=10").json["tasks"]
    )
    assert len(tasks) == QUEUE_SIZE
    assert ann.get("/api/next").json["tasks"][0]["sample_id"] in {t["sample_id"] for t in tasks}
    for index, task in enumerate(tasks):
        label(api_as("boss"), task["sample_id"], request_id=f"all-{index}")
    assert ann.get("/api/next").json == {
        "tasks": [],
        "queue": {"waiting": 0, "leased": 0},
        "reviews": {"waiting": 0, "leased": 0},
    }


# --- reviews ------------------------------------------------------------------------------------


def test_a_review_is_served_blind_to_another_annotator_before_new_images(api_as, project) -> None:
    ann, bob = api_as("ann"), api_as("bob")
    sample = first_task(ann)["sample_id"]
    assert label(ann, sample, request_id="a1").status_code == 200
    with open_project(project) as opened:
        assert opened.store.add_reviews([sample], reason="suspect") == 1
    # ann labeled it: she gets new images only, and a submission of it is refused.
    assert all(task["kind"] == "label" for task in ann.get("/api/next?n=3").json["tasks"])
    refused = label(ann, sample, name="class_1", request_id="a2")
    assert refused.status_code == 409 and "cannot review it" in refused.json["error"]
    answer = bob.get("/api/next?n=2").json
    first, second = answer["tasks"]
    assert first["sample_id"] == sample and first["kind"] == "review"
    assert first["guess"] is None and "label" not in first  # blind
    assert second["kind"] == "label" and answer["reviews"] == {"waiting": 0, "leased": 1}
    reviewed = label(bob, sample, name="class_1", request_id="b1")
    assert reviewed.status_code == 200 and reviewed.json["review"] == "disputed"
    # Undo brings the review back to bob, still blind.
    undone = bob.post("/api/undo", {"request_id": "b2"}).json
    assert undone["task"]["sample_id"] == sample and undone["task"]["kind"] == "review"
    assert label(bob, sample, name="class_0", request_id="b3").json["review"] == "confirmed"
    with open_project(project) as opened:
        assert opened.store.get_reviews() == []


# --- gold items ---------------------------------------------------------------------------------


def test_gold_items_are_served_like_any_image_and_kept_out_of_the_labels(api_as, project) -> None:
    ann, boss = api_as("ann"), api_as("boss")
    with open_project(project) as opened:
        opened.store.set_gold_rate(0.5)  # every second image
        gold_ids = {sample.id for sample in opened.store.get_samples("test")}
    served = []
    for index in range(4):
        task = first_task(ann)
        served.append(task)
        assert set(task) == {"sample_id", "image_url", "lease_expires", "kind", "round_id",
                             "score", "guess"} and task["kind"] == "label"  # fmt: skip
        answer = label(ann, task["sample_id"], request_id=f"g{index}")
        assert answer.status_code == 200 and answer.json["message"] == "stored"
    is_gold = [task["sample_id"] in gold_ids for task in served]
    assert is_gold == [False, True, False, True]
    gold_task = served[1]
    assert ann.get(gold_task["image_url"]).status_code == 200
    with open_project(project) as opened:
        labeled = set(opened.store.get_current_labels()[0].tolist())
        assert labeled == {served[0]["sample_id"], served[2]["sample_id"]}  # never gold
    # Undo takes back the latest answer, a gold one here, and serves that image again.
    undone = ann.post("/api/undo", {"request_id": "u1"}).json
    assert undone["undone"]["sample_id"] == served[3]["sample_id"]
    assert undone["task"]["sample_id"] == served[3]["sample_id"]
    # A retried undo answers the same and takes back nothing more (the label before stays).
    again = ann.post("/api/undo", {"request_id": "u1"}).json
    assert again["undone"] == undone["undone"]
    assert again["task"]["sample_id"] == undone["task"]["sample_id"]
    with open_project(project) as opened:
        assert served[2]["sample_id"] in set(opened.store.get_current_labels()[0].tolist())
    quality = {q["name"]: q for q in boss.get("/api/dashboard").json["quality"]["annotators"]}
    assert quality["ann"]["n_gold"] == 1 and quality["ann"]["gold_accuracy"] in (0.0, 1.0)


def test_the_served_document_states_the_projects_classes_and_ids(api_as) -> None:
    document = api_as("ann").get("/api/openapi.json").json
    body = document["paths"]["/api/labels"]["post"]["requestBody"]["content"]["application/json"]
    properties = body["schema"]["properties"]
    assert properties["label"]["enum"] == ["class_0", "class_1"]
    assert properties["sample_id"]["maximum"] == 59  # 40 pool and 20 test samples
