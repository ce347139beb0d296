"""``labeler serve`` as a real process: clean stop on SIGTERM, and no answered label lost to
SIGKILL."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

from labeler.store.project import open_project
from server.live_server import start_server
from tests.server.conftest import TOKENS


def call(url: str, path: str, body: dict | None = None, token: str = TOKENS["ann"]):
    request = urllib.request.Request(
        url.rstrip("/") + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="GET" if body is None else "POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def test_sigterm_stops_the_server_cleanly(project: Path) -> None:
    server = start_server(project)
    try:
        assert server.url.startswith("http://127.0.0.1:")
        status, body = call(server.url, "/api/stats")
        assert status == 200 and body["annotator"] == "ann"
    finally:
        code = server.stop()
    assert code == 0
    deadline = time.monotonic() + 5
    while "server stopped\n" not in server.output and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "server stopped\n" in server.output


def test_every_answered_label_survives_a_kill(project: Path) -> None:
    server = start_server(project)
    answered = {}
    try:
        _, body = call(server.url, "/api/next?n=10")
        for index, task in enumerate(body["tasks"]):
            request_id = f"kill-{index}"
            status, answer = call(
                server.url,
                "/api/labels",
                {"sample_id": task["sample_id"], "label": "class_1", "request_id": request_id},
            )
            assert status == 200
            answered[request_id] = task["sample_id"]
    finally:
        server.kill()
    assert len(answered) == 10
    with open_project(project) as opened:
        stored = {e.request_id: e.sample_id for e in opened.store.get_label_events()}
    assert stored == answered
    # A restarted server sees them too, and a retry of an answered request changes nothing.
    again = start_server(project)
    try:
        status, answer = call(
            again.url,
            "/api/labels",
            {"sample_id": answered["kill-3"], "label": "class_1", "request_id": "kill-3"},
        )
        assert status == 200 and answer["duplicate"]
        _, stats = call(again.url, "/api/stats")
        assert stats["labels"] == 10
    finally:
        again.stop()


def test_a_bad_project_exits_2_with_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "labeler.cli", "serve", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr
