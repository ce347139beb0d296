"""Fixtures of the bridge's tests: a real Label Studio 1.23.2 (``scripts/labelstudio.sh``, in
its own cached venv), and a project with a trained round whose queue can be pushed."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from labeler.cli import main
from labeler.data.dataset_format import write_dataset
from tests.conftest import FakeFamily

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


def get_free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def label_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabelStudioServer]:
    """One Label Studio for the whole module (its first boot takes most of a minute)."""
    server = LabelStudioServer(tmp_path_factory.mktemp("label-studio"), get_free_port())
    server.start()
    yield server
    server.stop()


def make_trained_project(folder: Path, *, n_pool: int = 100) -> Path:
    """A project of a fake dataset (``n_pool`` pool, 20 test images of 16 x 16) after two
    rounds: 12 random images labeled by the oracle, then a margin round queuing 12."""
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
    assert main(["round", str(project), "--initial", str(QUERY_SIZE)]) == 0
    assert main(["oracle", str(project)]) == 0
    run_round(project)
    return project


def run_round(project: Path) -> None:
    args = ["round", str(project), "--strategy", "margin", "--query-size", str(QUERY_SIZE)]
    assert main(args) == 0
