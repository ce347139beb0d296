"""Fixtures of the bridge's tests: a real Label Studio 1.23.2 (``scripts/labelstudio.sh``, in
its own cached venv), shared by every module of the session, and a project with a trained
round whose queue can be pushed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from labeler.cli import main
from labeler.data.dataset_writer import write_dataset
from labeler.store.project import open_project
from server.labelstudio import format
from server.labelstudio.link import Link, load_link
from tests.conftest import FakeFamily

if TYPE_CHECKING:
    from label_studio_sdk import LabelStudio

REPO_ROOT = Path(__file__).resolve().parents[3]
SCRIPT = REPO_ROOT / "scripts" / "labelstudio.sh"
QUERY_SIZE = 12


@dataclass
class LabelStudioServer:
    """A Label Studio server the tests start and stop: ``url`` (no trailing "/"), the
    known user's legacy ``token``, its data folder and port (kept across restarts)."""

    data: Path
    port: int
    url: str = ""
    token: str = ""

    def start(self) -> None:
        env = {**os.environ, "PORT": str(self.port)}
        done = subprocess.run(
            ["bash", str(SCRIPT), "start", str(self.data)],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        values = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
        self.url, self.token = values["url"], values["token"]

    def stop(self) -> None:
        subprocess.run(["bash", str(SCRIPT), "stop", str(self.data)], check=True, timeout=120)

    def is_up(self) -> bool:
        if not self.url:
            return False
        try:
            return requests.get(f"{self.url}/health", timeout=5).ok
        except requests.RequestException:
            return False


def get_free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def label_studio_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabelStudioServer]:
    """One Label Studio for the whole session: its first boot takes most of a minute, and
    each module makes a Label Studio project of its own."""
    server = LabelStudioServer(tmp_path_factory.mktemp("label-studio"), get_free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def label_studio(label_studio_server: LabelStudioServer) -> LabelStudioServer:
    """The session's Label Studio, started again (same data, same port) if a module before
    stopped it and failed before starting it again (the restart tests do both)."""
    if not label_studio_server.is_up():
        label_studio_server.stop()
        label_studio_server.start()
    return label_studio_server


@dataclass
class LinkedProject:
    """A project and the Label Studio it is (or will be) linked to, with an SDK client acting
    as Label Studio's user: what the integration tests share."""

    project: Path
    label_studio: LabelStudioServer
    sdk: LabelStudio

    def labeler(self, *args: str, token: str | None = None) -> tuple[int, str, str]:
        """Run ``labeler ls ARGS PROJECT`` in its own process: code, stdout, stderr."""
        command = [sys.executable, "-m", "labeler.cli", "ls", *args, str(self.project)]
        command += ["--token", token or self.label_studio.token]
        done = subprocess.run(
            command, capture_output=True, text=True, cwd=REPO_ROOT, timeout=300, check=False
        )
        return done.returncode, done.stdout, done.stderr

    def link(self) -> Link:
        with open_project(self.project) as project:
            link = load_link(project.store)
        assert link is not None and link.project_id is not None
        return link

    def tasks(self) -> list[dict[str, Any]]:
        pid = self.link().project_id
        return [t.model_dump(mode="json") for t in self.sdk.tasks.list(project=pid, fields="all")]

    def tasks_by_sample(self) -> dict[int, dict[str, Any]]:
        tasks = self.tasks()
        samples = [t["data"]["sample_id"] for t in tasks]
        assert len(samples) == len(set(samples)), f"a sample has two tasks: {sorted(samples)}"
        return {t["data"]["sample_id"]: t for t in tasks}

    def annotate(self, task: dict[str, Any], label: str | None) -> int:
        """Annotate as a person in Label Studio's editor would: a choice, or a skip (None)."""
        if label is None:
            made = self.sdk.annotations.create(task["id"], result=[], was_cancelled=True)
        else:
            made = self.sdk.annotations.create(task["id"], result=format.make_choice_result(label))
        return int(made.id)


def get_label_log(project: Path) -> list[tuple[int, str, str, str]]:
    with open_project(project) as opened:
        events = opened.store.get_label_events()
    return [(e.sample_id, e.label_name, e.annotator, e.source) for e in events]


def get_current(project: Path) -> dict[int, str]:
    with open_project(project) as opened:
        ids, labels = opened.store.get_current_labels()
        names = opened.class_names
    return {int(i): names[int(label)] for i, label in zip(ids, labels, strict=True)}


def make_new_project(folder: Path, *, n_pool: int = 100) -> Path:
    """``labeler init`` on a fake dataset (``n_pool`` pool, 20 test images of 16 x 16): a
    project with no round yet."""
    family = FakeFamily()
    data = folder / "data"
    write_dataset(
        data,
        family,
        "a",
        family.make_params("a"),
        n_per_split={"train": n_pool, "test": 20},
        seed=0,
        chunk_size=64,
    )
    project = folder / "project"
    assert main(["init", str(project), "--images", str(data), "--image-size", "16"]) == 0
    return project


def make_trained_project(folder: Path, *, n_pool: int = 100) -> Path:
    """A new project (``make_new_project``) after two rounds: 12 random images labeled by
    the oracle, then a margin round queuing 12."""
    project = make_new_project(folder, n_pool=n_pool)
    assert main(["round", str(project), "--initial", str(QUERY_SIZE)]) == 0
    assert main(["oracle", str(project)]) == 0
    run_round(project)
    return project


def run_round(project: Path) -> None:
    args = ["round", str(project), "--strategy", "margin", "--query-size", str(QUERY_SIZE)]
    # No audit slice: these tests follow every queued task's prediction, and audit images go
    # out without one (RoundFolder.read_guesses; tested in tests/labeler/store).
    assert main([*args, "--audit-share", "0"]) == 0
