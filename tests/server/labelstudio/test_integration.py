"""The bridge against a real Label Studio 1.23.2, a real ``labeler serve`` receiving its
webhooks, and the real project store, in the order of the issue's test plan. The tests share
one Label Studio and one project, and each builds on the ones before it."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
from label_studio_sdk import LabelStudio

from labeler.store.project import open_project
from labeler.store.project_files import RoundFolder
from server.labelstudio import format
from server.labelstudio.link import ML_USER, SOURCE
from server.live_server import LiveServer, start_server
from tests.server.labelstudio.conftest import (
    QUERY_SIZE,
    REPO_ROOT,
    LabelStudioServer,
    LinkedProject,
    get_current,
    get_label_log,
    make_trained_project,
    run_round,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@dataclass
class Bridge(LinkedProject):
    """The linked project, its running server, and what earlier tests made (annotation ids
    by role)."""

    server: LiveServer
    made: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="module")
def bridge(
    label_studio: LabelStudioServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Bridge]:
    project = make_trained_project(tmp_path_factory.mktemp("bridge"))
    server = start_server(project)
    sdk = LabelStudio(base_url=label_studio.url, api_key=label_studio.token)
    shared = Bridge(project, label_studio, sdk, server)
    yield shared
    shared.server.stop()  # the one running now (test 3 restarts it)


def get_guesses(project: Path, folder: str | None) -> dict[int, tuple[int, float]]:
    """The guesses a round left in its folder."""
    round_folder = RoundFolder.of(project, folder)
    assert round_folder is not None
    return round_folder.read_guesses()


# --- 1. connect, and push a round ---------------------------------------------------------


def test_1_connect_makes_the_project_once_and_push_sends_the_queue(bridge: Bridge) -> None:
    code, out, err = bridge.labeler(
        "connect", "--url", bridge.label_studio.url, "--server-url", bridge.server.url
    )
    assert code == 0, err
    assert "made Label Studio project" in out
    link = bridge.link()
    n_projects = len(list(bridge.sdk.projects.list()))
    code, out, err = bridge.labeler("connect", "--url", bridge.label_studio.url)
    assert code == 0 and "found Label Studio project" in out, err
    assert bridge.link() == link and len(list(bridge.sdk.projects.list())) == n_projects

    code, out, err = bridge.labeler("push")
    assert code == 0, err
    with open_project(bridge.project) as project:
        queue = {item.sample_id: item.score for item in project.store.get_queue()}
        last = project.store.get_last_done_round()
        assert last is not None and last.folder is not None
        guesses = get_guesses(project.path, last.folder)
        class_names = project.class_names
    tasks = bridge.tasks_by_sample()
    assert set(tasks) == set(queue) and len(queue) == QUERY_SIZE
    version = f"round-{last.id}"
    for sample_id, task in tasks.items():
        assert task["data"]["acquisition_score"] == pytest.approx(queue[sample_id])
        (prediction,) = task["predictions"]
        label, confidence = guesses[sample_id]
        assert prediction["model_version"] == version
        assert prediction["score"] == pytest.approx(confidence)
        assert prediction["result"][0]["value"]["choices"] == [class_names[label]]
        # The image is served by our server, by sample id, with the task's key.
        image = requests.get(task["data"]["image"], timeout=10)
        assert image.status_code == 200 and image.content[:4] == b"\x89PNG"
    assert bridge.sdk.projects.get(link.project_id).model_version == version

    code, out, err = bridge.labeler("push")
    assert code == 0 and "0 tasks imported" in out, err
    assert len(bridge.tasks()) == QUERY_SIZE


def test_1_both_kinds_of_token_connect_and_a_refused_one_says_which_kind(bridge: Bridge) -> None:
    bridge.sdk.jwt_settings.update(
        api_token_ttl_days=30, api_tokens_enabled=True, legacy_api_tokens_enabled=True
    )
    personal = bridge.sdk.tokens.create().token
    code, out, err = bridge.labeler("connect", "--url", bridge.label_studio.url, token=personal)
    assert code == 0 and "found Label Studio project" in out, err

    code, _, err = bridge.labeler("pull", token="0" * 40)
    assert code == 2
    assert "refused the legacy token (401" in err and bridge.label_studio.url in err
    assert len(err.strip().splitlines()) == 1
    expired = ".".join(
        base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
        for part in ({"alg": "HS256", "typ": "JWT"}, {"exp": 1, "token_type": "refresh"})
    )
    code, _, err = bridge.labeler("pull", token=expired + ".c2lnbmF0dXJl")
    assert code == 2 and "refused the personal access token (JWT) (401" in err


# --- 2 and 3. annotate in Label Studio; webhooks and pull bring the labels back -----------


def test_2_annotations_made_in_label_studio_arrive_by_webhook(bridge: Bridge) -> None:
    before = len(get_label_log(bridge.project))
    tasks = bridge.tasks_by_sample()
    samples = sorted(tasks)
    made = bridge.made
    made["labeled"] = {samples[0]: "class_0", samples[1]: "class_1"}
    for sample_id, label in made["labeled"].items():
        bridge.annotate(tasks[sample_id], label)
    made["skipped"] = samples[2]
    bridge.annotate(tasks[samples[2]], None)
    made["updated"] = samples[3]
    updated = bridge.annotate(tasks[samples[3]], "class_0")
    bridge.sdk.annotations.update(updated, result=format.make_choice_result("class_1"))
    made["deleted"] = samples[4]
    bridge.sdk.annotations.delete(bridge.annotate(tasks[samples[4]], "class_0"))
    made["wolf"] = samples[5]
    bridge.annotate(tasks[samples[5]], "wolf")

    current = get_current(bridge.project)
    assert current[samples[0]] == "class_0" and current[samples[1]] == "class_1"
    assert current[samples[3]] == "class_1"  # the update
    assert samples[2] not in current and samples[4] not in current and samples[5] not in current
    # 2 labels, the update's 2 events, the deleted one's event (retracted, still logged).
    assert len(get_label_log(bridge.project)) == before + 5


def test_3_pull_brings_what_a_lost_webhook_missed(bridge: Bridge) -> None:
    port = int(bridge.server.url.rstrip("/").rsplit(":", 1)[1])
    bridge.server.stop()  # the server is down: Label Studio's webhook call is lost
    tasks = bridge.tasks_by_sample()
    missed = sorted(tasks)[6]
    bridge.made["missed"] = missed
    bridge.annotate(tasks[missed], "class_1")
    bridge.server = start_server(bridge.project, port=port)
    assert missed not in get_current(bridge.project)

    code, out, err = bridge.labeler("pull")
    assert code == 0, err
    assert "1 new labels" in out and "0 changed" in out
    assert "'wolf'" in err  # reported, not stored
    assert get_current(bridge.project)[missed] == "class_1"


# --- 4. the labels in our store --------------------------------------------------------------


def test_4_the_store_holds_each_label_once_with_annotator_and_time(bridge: Bridge) -> None:
    made = bridge.made
    with open_project(bridge.project) as project:
        store = project.store
        ours = [e for e in store.get_label_events() if e.source == SOURCE]
        current = {e.sample_id: e for e in store.get_current_label_events()}
        queue = {item.sample_id for item in store.get_queue()}
        skips = [a for a in store.get_activity() if a.kind == "skip"]
    assert {e.annotator for e in ours} == {"labeler@example.com"}
    assert all(abs(e.created_at - time.time()) < 600 for e in ours)
    for sample_id, label in [*made["labeled"].items(), (made["missed"], "class_1")]:
        assert current[sample_id].label_name == label and current[sample_id].source == SOURCE
        assert sample_id not in queue
    assert [e.label_name for e in ours if e.sample_id == made["updated"]] == ["class_0", "class_1"]
    assert current[made["updated"]].label_name == "class_1"
    # The skip is not a label; the deleted label left its sample unlabeled and queued again.
    assert made["skipped"] not in current and [s.sample_id for s in skips] == [made["skipped"]]
    assert made["deleted"] not in current and made["deleted"] in queue
    assert made["wolf"] not in current


# --- 5. a second pull and a replayed webhook change nothing -------------------------------


def test_5_a_second_pull_and_a_replayed_webhook_change_nothing(bridge: Bridge) -> None:
    log = get_label_log(bridge.project)
    code, out, err = bridge.labeler("pull")
    assert code == 0 and "0 new labels, 0 changed, 0 deleted, 0 skips" in out, err

    link = bridge.link()
    task = bridge.tasks_by_sample()[bridge.made["updated"]]
    (annotation,) = task["annotations"]
    payload = {
        "action": "ANNOTATION_UPDATED",
        "project": {"id": link.project_id},
        "annotation": annotation,
        "task": task,
    }
    url = bridge.server.url + "labelstudio/webhook"
    replay = requests.post(url, json=payload, headers={"X-Labeler-Secret": link.secret}, timeout=5)
    assert replay.status_code == 200 and replay.json()["unchanged"] == 1, replay.text
    assert replay.json()["labeled"] == replay.json()["updated"] == []
    forged = requests.post(url, json=payload, headers={"X-Labeler-Secret": "guess"}, timeout=5)
    assert forged.status_code == 401 and "X-Labeler-Secret" in forged.json()["error"]
    assert get_label_log(bridge.project) == log


# --- 6. Label Studio uses our server as its model --------------------------------------------


def test_6_label_studio_gets_our_predictions_for_a_task(bridge: Bridge) -> None:
    link = bridge.link()
    settings = format.make_ml_backend(
        link.ml_backend_url, user=ML_USER, password=link.secret, title="guided-labeler"
    )
    backend = bridge.sdk.ml.create(project=link.project_id, **settings)
    assert str(bridge.sdk.ml.get(backend.id).state) in ("CO", "MLBackendState.CONNECTED"), (
        bridge.sdk.ml.get(backend.id).error_message
    )
    sample_id = bridge.made["deleted"]  # unlabeled, so the last round has a guess for it
    task = bridge.tasks_by_sample()[sample_id]
    for prediction in task["predictions"]:  # Label Studio asks only for tasks without one
        bridge.sdk.predictions.delete(prediction["id"])
    bridge.sdk.actions.create(
        id="retrieve_tasks_predictions",
        project=link.project_id,
        selected_items={"all": False, "included": [task["id"]]},
    )
    (prediction,) = bridge.tasks_by_sample()[sample_id]["predictions"]
    with open_project(bridge.project) as project:
        last = project.store.get_last_done_round()
        assert last is not None
        label, confidence = get_guesses(project.path, last.folder)[sample_id]
        class_names = project.class_names
    assert prediction["model_version"] == f"round-{last.id}"
    assert prediction["score"] == pytest.approx(confidence)
    assert prediction["result"][0]["value"]["choices"] == [class_names[label]]


# --- 7. restart Label Studio, sync, and a new round replaces the queue ----------------------


def test_7_after_a_restart_sync_works_and_a_new_round_replaces_the_tasks(bridge: Bridge) -> None:
    bridge.label_studio.stop()
    bridge.label_studio.start()
    log = get_label_log(bridge.project)
    code, out, err = bridge.labeler("sync")
    assert code == 0, err
    assert "0 new labels" in out and "0 tasks imported" in out
    assert get_label_log(bridge.project) == log

    before = bridge.tasks_by_sample()
    run_round(bridge.project)
    code, out, err = bridge.labeler("sync")
    assert code == 0, err
    with open_project(bridge.project) as project:
        queue = {item.sample_id for item in project.store.get_queue()}
        last = project.store.get_last_done_round()
    assert last is not None
    after = bridge.tasks_by_sample()
    assert queue <= set(after)
    for sample_id, task in after.items():
        if sample_id in queue:
            versions = {p["model_version"] for p in task["predictions"]}
            assert f"round-{last.id}" in versions
        else:
            # Out of the queue: kept only when annotated, and marked.
            assert task["annotations"], sample_id
            assert task["meta"]["guided_labeler"]["out_of_queue"]
    gone = [s for s, task in before.items() if not task["annotations"] and s not in queue]
    assert gone and not set(gone) & set(after)
    assert bridge.sdk.projects.get(bridge.link().project_id).model_version == f"round-{last.id}"


# --- 8. Label Studio stops in the middle of a push ---------------------------------------------


def test_8_a_push_cut_off_midway_is_completed_by_the_next_sync(bridge: Bridge) -> None:
    with open_project(bridge.project) as project:
        queued = [item.sample_id for item in project.store.get_queue()]
        # Label elsewhere (the oracle) what Label Studio holds, so that the next round queues
        # images that have no task yet.
        project.store.add_labels(
            [(s, "class_0") for s in queued], annotator="oracle", source="oracle"
        )
    run_round(bridge.project)
    n_before = len(bridge.tasks())
    command = [sys.executable, "-m", "labeler.cli", "ls", "push", str(bridge.project)]
    command += ["--token", bridge.label_studio.token, "--batch-size", "1", "--attempts", "2"]
    push = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT
    )
    deadline = time.monotonic() + 120
    while len(bridge.tasks()) <= n_before:
        assert push.poll() is None, push.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    bridge.label_studio.stop()
    _, err = push.communicate(timeout=120)
    assert push.returncode == 2, err
    last_line = err.strip().splitlines()[-1]  # after the progress lines, one error line
    assert last_line.startswith("labeler: error: Label Studio at " + bridge.label_studio.url)

    bridge.label_studio.start()
    code, out, err = bridge.labeler("sync")
    assert code == 0, err
    with open_project(bridge.project) as project:
        queue = {item.sample_id for item in project.store.get_queue()}
    after = bridge.tasks_by_sample()  # asserts one task per sample
    assert queue <= set(after)
    assert "tasks imported" in out and not out.startswith("push: 0 queued")
    code, out, err = bridge.labeler("sync")
    assert code == 0 and "0 tasks imported" in out, err
    assert np.array_equal(sorted(after), sorted(bridge.tasks_by_sample()))


def test_8_a_pull_killed_at_random_points_loses_nothing(bridge: Bridge) -> None:
    port = int(bridge.server.url.rstrip("/").rsplit(":", 1)[1])
    bridge.server.stop()  # webhooks lost: only a pull brings these annotations
    tasks = bridge.tasks_by_sample()
    current = get_current(bridge.project)
    missed = [sample for sample in sorted(tasks) if sample not in current][:4]
    assert len(missed) == 4
    for sample in missed:
        bridge.annotate(tasks[sample], "class_0")
    bridge.server = start_server(bridge.project, port=port)
    log = get_label_log(bridge.project)
    command = [sys.executable, "-m", "labeler.cli", "ls", "pull", str(bridge.project)]
    command += ["--token", bridge.label_studio.token]
    # A pull is mostly starting Python (as long as `labeler status`), then a few requests.
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "labeler.cli", "status", str(bridge.project)],
                   capture_output=True, cwd=REPO_ROOT, timeout=120, check=True)  # fmt: skip
    whole = time.perf_counter() - started
    rng = np.random.default_rng(0)
    for delay in rng.uniform(0.8, 1.3, 5) * whole:
        pull = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO_ROOT
        )
        time.sleep(delay)
        pull.kill()
        pull.wait(timeout=60)
        status = subprocess.run(
            [sys.executable, "-m", "labeler.cli", "status", str(bridge.project)],
            capture_output=True, text=True, cwd=REPO_ROOT, timeout=120, check=False,
        )  # fmt: skip
        assert status.returncode == 0, status.stderr
        now = get_label_log(bridge.project)
        assert now[: len(log)] == log  # nothing accepted before is lost
        pulled = [entry for entry in now[len(log) :] if entry[0] in missed]
        assert len(pulled) == len({entry[0] for entry in pulled})  # none twice
    code, _, err = bridge.labeler("pull")
    assert code == 0, err
    after = get_current(bridge.project)
    assert all(after[sample] == "class_0" for sample in missed)
    assert len([e for e in get_label_log(bridge.project) if e[0] in missed]) == 4


# --- and: the project changed or deleted by hand in Label Studio ----------------------------


def test_9_a_changed_config_or_a_deleted_project_is_named_and_force_rebuilds(
    bridge: Bridge,
) -> None:
    link = bridge.link()
    with open_project(bridge.project) as project:
        class_names = project.class_names
    changed = format.make_label_config((*class_names, "wolf"))
    bridge.sdk.projects.update(link.project_id, label_config=changed)
    code, _, err = bridge.labeler("pull")
    assert code == 2 and "offers the classes" in err and "'wolf'" in err and "--force" in err
    url = bridge.label_studio.url
    code, out, err = bridge.labeler("connect", "--url", url, "--force")
    assert code == 0 and "put our labeling config back" in out, err
    assert bridge.labeler("pull")[0] == 0

    bridge.sdk.projects.delete(link.project_id)
    code, _, err = bridge.labeler("push")
    assert code == 2 and f"project {link.project_id}" in err and "is gone" in err
    code, out, err = bridge.labeler("connect", "--url", url, "--force")
    assert code == 0 and "made Label Studio project" in out, err
    assert bridge.link().project_id != link.project_id
    code, out, err = bridge.labeler("push")
    assert code == 0, err
    with open_project(bridge.project) as project:
        queue = {item.sample_id for item in project.store.get_queue()}
    assert set(bridge.tasks_by_sample()) == queue
