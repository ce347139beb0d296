"""Simulated annotators for the load benchmarks: each loops next -> think -> submit against a
labeling server, recording every call's latency, and retries a submission with the same request
id until it is answered (as the page does while a server restarts).

Two servers speak this loop: ours (``LabelerApi``: ``GET /api/next``, ``POST /api/labels``) and
Label Studio (``LabelStudioApi``: ``GET /api/projects/ID/next``, ``POST /api/tasks/ID/
annotations/``), so that both are measured by the same client code.
"""

from __future__ import annotations

import http.client
import json
import random
import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlparse

# Calls slower than this count as errors (and are retried, for a submission).
CLIENT_TIMEOUT = 10.0
WARMUP_SECONDS = 2.0


@dataclass
class Client:
    """One simulated annotator's record of what it did and saw."""

    name: str
    token: str
    latencies: dict[str, list[tuple[float, float]]] = field(
        default_factory=lambda: {"next": [], "submit": []}
    )
    errors: int = 0
    error_times: list[float] = field(default_factory=list)  # monotonic
    refused: int = 0  # submissions answered with an error status
    answered: list[tuple[str, int, str]] = field(default_factory=list)  # request id, task, label
    accepted_at: list[float] = field(default_factory=list)  # monotonic
    leases: list[tuple[int, float, float]] = field(default_factory=list)  # task, start, end


class Api(Protocol):
    """How one server spells the loop's two calls."""

    def get_headers(self, token: str) -> dict[str, str]: ...

    def get_next_path(self) -> str: ...

    def read_task(self, status: int, data: bytes) -> int | None:
        """The task id a next call handed out, None when it handed out none."""

    def make_submission(self, task: int, label: str, request_id: str) -> tuple[str, bytes]:
        """The path and body that submit ``label`` for ``task``."""

    def is_accepted(self, status: int) -> bool: ...


class LabelerApi:
    """Our annotation server's API."""

    def get_headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def get_next_path(self) -> str:
        return "/api/next"

    def read_task(self, status: int, data: bytes) -> int | None:
        tasks = json.loads(data)["tasks"] if status == 200 else []
        return int(tasks[0]["sample_id"]) if tasks else None

    def make_submission(self, task: int, label: str, request_id: str) -> tuple[str, bytes]:
        body = {"sample_id": task, "label": label, "request_id": request_id}
        return "/api/labels", json.dumps(body).encode()

    def is_accepted(self, status: int) -> bool:
        return status == 200


class LabelStudioApi:
    """Label Studio's label stream of one project, as its own front end calls it."""

    def __init__(self, project_id: int, *, from_name: str = "label", to_name: str = "image"):
        self.project_id = project_id
        self.from_name = from_name
        self.to_name = to_name

    def get_headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    def get_next_path(self) -> str:
        return f"/api/projects/{self.project_id}/next"

    def read_task(self, status: int, data: bytes) -> int | None:
        return int(json.loads(data)["id"]) if status == 200 else None

    def make_submission(self, task: int, label: str, request_id: str) -> tuple[str, bytes]:
        # Label Studio has no request ids: a retried submission may be stored twice, which the
        # benchmark's integrity check counts.
        result = {
            "from_name": self.from_name,
            "to_name": self.to_name,
            "type": "choices",
            "value": {"choices": [label]},
        }
        body = {"result": [result], "lead_time": 1.0}
        return f"/api/tasks/{task}/annotations/", json.dumps(body).encode()

    def is_accepted(self, status: int) -> bool:
        return status == 201


class Endpoint:
    """Where the clients send requests; ``url`` may change when the server restarts."""

    def __init__(self, url: str, api: Api) -> None:
        self.url = url
        self.api = api
        self.lock = threading.Lock()

    def get_address(self) -> tuple[str, int]:
        with self.lock:
            parsed = urlparse(self.url)
        return parsed.hostname or "127.0.0.1", parsed.port or 80


def run_client(
    client: Client,
    endpoint: Endpoint,
    *,
    end: float,
    think: float,
    class_names: list[str],
    seed: int,
) -> None:
    """Loop next -> think (uniform in [0.5, 1.5] x ``think`` s) -> submit until ``end``."""
    rng = random.Random(seed)
    api = endpoint.api
    headers = api.get_headers(client.token)
    connection: http.client.HTTPConnection | None = None
    counter = 0

    def call(method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        nonlocal connection
        if connection is None:
            host, port = endpoint.get_address()
            connection = http.client.HTTPConnection(host, port, timeout=CLIENT_TIMEOUT)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            connection.close()
            connection = None
            raise

    while time.monotonic() < end:
        try:
            started = time.perf_counter()
            status, data = call("GET", api.get_next_path(), None)
            client.latencies["next"].append((time.monotonic(), time.perf_counter() - started))
        except (OSError, http.client.HTTPException):
            client.errors += 1
            client.error_times.append(time.monotonic())
            time.sleep(0.05)
            continue
        task = api.read_task(status, data)
        if task is None:
            time.sleep(0.1)
            continue
        leased_at = time.time()
        if think:
            time.sleep(rng.uniform(0.5 * think, 1.5 * think))
        counter += 1
        request_id = f"{client.name}-{counter}"
        label = rng.choice(class_names)
        path, body = api.make_submission(task, label, request_id)
        while True:
            try:
                started = time.perf_counter()
                status, data = call("POST", path, body)
                client.latencies["submit"].append((time.monotonic(), time.perf_counter() - started))
                break
            except (OSError, http.client.HTTPException):
                client.errors += 1
                client.error_times.append(time.monotonic())
                if time.monotonic() > end + 30:
                    status = 0
                    break
                time.sleep(0.05)
        if api.is_accepted(status):
            client.answered.append((request_id, task, label))
            client.accepted_at.append(time.monotonic())
            client.leases.append((task, leased_at, time.time()))
        elif status:
            client.refused += 1
    if connection is not None:
        connection.close()


def run_phase(
    endpoint: Endpoint,
    clients: list[Client],
    *,
    seconds: float,
    think: float,
    class_names: list[str],
    during: Any = None,
) -> float:
    """Run every client for ``seconds``; ``during(started)`` runs in this thread meanwhile.
    Returns the start time (monotonic)."""
    started = time.monotonic()
    end = started + seconds
    threads = [
        threading.Thread(
            target=run_client,
            args=(client, endpoint),
            kwargs={"end": end, "think": think, "class_names": class_names, "seed": index},
            daemon=True,
        )
        for index, client in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    if during is not None:
        during(started)
    for thread in threads:
        thread.join()
    return started


def summarize(clients: list[Client], window_start: float, window_end: float) -> dict[str, Any]:
    """Accepted labels per second and latency percentiles of the calls made in
    [window_start, window_end) (monotonic times)."""

    def is_inside(at: float) -> bool:
        return window_start <= at < window_end

    summary: dict[str, Any] = {}
    for call in ("next", "submit"):
        values = sorted(
            latency * 1000
            for client in clients
            for at, latency in client.latencies[call]
            if is_inside(at)
        )
        summary[call] = {
            "n": len(values),
            "p50_ms": round(percentile(values, 50), 2) if values else None,
            "p99_ms": round(percentile(values, 99), 2) if values else None,
            "max_ms": round(values[-1], 2) if values else None,
        }
    accepted = sum(1 for client in clients for at in client.accepted_at if is_inside(at))
    summary["labels_per_second"] = round(accepted / max(window_end - window_start, 1e-9), 1)
    summary["labels_answered"] = sum(len(client.answered) for client in clients)
    summary["client_errors"] = sum(client.errors for client in clients)
    summary["errors_in_window"] = sum(
        1 for client in clients for at in client.error_times if is_inside(at)
    )
    summary["refused"] = sum(client.refused for client in clients)
    return summary


def percentile(sorted_values: list[float], q: float) -> float:
    return (
        statistics.quantiles(sorted_values, n=100, method="inclusive")[int(q) - 1]
        if len(sorted_values) > 1
        else sorted_values[0]
    )
