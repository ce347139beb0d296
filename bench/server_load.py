"""Load and faults against the real annotation server (``labeler serve``, waitress) on loopback.

Phases, each on a fresh copy of one project whose whole pool is queued:

1. realistic: ``--annotators`` (200) simulated annotators, each looping next -> think about
   1 s -> submit, for ``--seconds``; throughput and p50/p99 latency of next and submit;
2. stress: ``--stress-annotators`` (50) in a closed loop with no think time: labels/s;
3. kill: the stress loop again, the server SIGKILLed half-way and restarted; clients retry
   with the same request id, as the page does;

The same loop against Label Studio, side by side: ``bench/label_studio_side_by_side.py``; 30
minutes with rounds: ``bench/soak.py``.

Integrity, every phase: each label that got a 200 is in the database exactly once per request
id, and no image was held by two live leases at once (from the log of handed-out leases).
``--servers waitress,gunicorn`` runs phases 1-2 on gunicorn too (2 worker processes x 4 threads)
to compare. Results go to ``bench/results/server_load.json`` and ``.md``.

    python bench/server_load.py
    python bench/server_load.py --annotators 20 --seconds 5 --stress-seconds 5   # a smoke run
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from load_clients import WARMUP_SECONDS, Client, Endpoint, LabelerApi, run_phase, summarize
from machine import describe_machine

from labeler.cli import main as labeler_main
from labeler.store.project import open_project
from labeler.store.tokens import hash_token
from server.live_server import LiveServer, start_server

RESULTS = Path(__file__).parent / "results"


def check_integrity(project: Path, clients: list[Client]) -> dict[str, Any]:
    """Every answered label stored once per request id; no image under two live leases."""
    answered = {rid: (sample, label) for c in clients for rid, sample, label in c.answered}
    with open_project(project) as opened:
        events = opened.store.get_label_events()
    stored: dict[str, list[tuple[int, str]]] = {}
    for event in events:
        if event.request_id is not None:
            stored.setdefault(event.request_id, []).append((event.sample_id, event.label_name))
    missing = [rid for rid in answered if rid not in stored]
    duplicated = [rid for rid, found in stored.items() if len(found) > 1]
    wrong = [rid for rid, value in answered.items() if rid in stored and stored[rid][0] != value]
    by_sample: dict[int, list[tuple[float, float, str]]] = {}
    for client in clients:
        for sample, start, end in client.leases:
            by_sample.setdefault(sample, []).append((start, end, client.name))
    overlaps = 0
    for intervals in by_sample.values():
        intervals.sort()
        for (_, end_a, who_a), (start_b, _, who_b) in itertools.pairwise(intervals):
            if who_a != who_b and start_b < end_a:
                overlaps += 1
    return {
        "answered": len(answered),
        "stored_events": len(events),
        "missing": len(missing),
        "duplicated": len(duplicated),
        "mismatched": len(wrong),
        "lease_overlaps": overlaps,
        "ok": not (missing or duplicated or wrong or overlaps),
    }


def make_template(
    folder: Path, n_pool: int, n_annotators: int, *, n_queued: int | None = None
) -> tuple[Path, list[str], list[str]]:
    """A project of generated orientation images with ``n_queued`` of them (default all) queued
    at random: its path, the annotators' tokens (the last one an admin's) and its classes."""
    data = folder / "data"
    project = folder / "template"
    quiet = ["--seed", "0", "--out", str(data)]
    assert labeler_main(["generate", "orientation", "--problem", "hv", "--n-train", str(n_pool),
                         "--n-test", "100", *quiet]) == 0  # fmt: skip
    assert labeler_main(["init", str(project), "--images", str(data)]) == 0
    queued = str(n_pool if n_queued is None else n_queued)
    assert labeler_main(["round", str(project), "--initial", queued,
                         "--initial-strategy", "random"]) == 0  # fmt: skip
    tokens = [f"load-token-{index:04d}-" + "x" * 24 for index in range(n_annotators + 1)]
    with open_project(project) as opened:
        for index, token in enumerate(tokens[:-1]):
            opened.store.add_annotator(f"sim{index:03d}", token_hash=hash_token(token))
        opened.store.add_annotator("admin", token_hash=hash_token(tokens[-1]), is_admin=True)
        class_names = list(opened.class_names)
    return project, tokens, class_names


def start_gunicorn(project: Path) -> LiveServer:
    port = pick_free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "4", "--bind",
         f"127.0.0.1:{port}", "--log-level", "warning", "server.app:create_app()"],
        env={**os.environ, "LABELER_PROJECT": str(project)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/login")
            connection.getresponse().read()
            server = LiveServer(url, process)
            server.drain()
            return server
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def pick_free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--annotators", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--think", type=float, default=1.0, help="mean think time (s)")
    parser.add_argument("--stress-annotators", type=int, default=50)
    parser.add_argument("--stress-seconds", type=float, default=20.0)
    parser.add_argument("--pool", type=int, default=24_000, help="queued images per phase")
    parser.add_argument("--servers", default="waitress", help="waitress and/or gunicorn")
    parser.add_argument("--out", type=Path, default=RESULTS / "server_load")
    args = parser.parse_args()
    servers = args.servers.split(",")
    results: dict[str, Any] = {
        "machine": describe_machine(),
        "config": vars(args) | {"out": str(args.out)},
    }
    n_clients = max(args.annotators, args.stress_annotators)
    with tempfile.TemporaryDirectory(prefix="server-load-") as temp:
        template, tokens, class_names = make_template(Path(temp), args.pool, n_clients)

        def fresh_project(name: str) -> Path:
            path = Path(temp) / name
            shutil.copytree(template, path)
            return path

        def start(kind: str, project: Path) -> LiveServer:
            return start_server(project) if kind == "waitress" else start_gunicorn(project)

        for kind in servers:
            for phase, n_annotators, seconds, think in (
                ("realistic", args.annotators, args.seconds, args.think),
                ("stress", args.stress_annotators, args.stress_seconds, 0.0),
            ):
                project = fresh_project(f"{kind}-{phase}")
                server = start(kind, project)
                clients = [Client(f"sim{i:03d}", tokens[i]) for i in range(n_annotators)]
                print(f"{kind} {phase}: {n_annotators} annotators for {seconds:.0f} s ...")
                try:
                    endpoint = Endpoint(server.url, LabelerApi())
                    started = run_phase(endpoint, clients, seconds=seconds, think=think,
                                        class_names=class_names)  # fmt: skip
                finally:
                    server.stop()
                entry = summarize(clients, started + WARMUP_SECONDS, started + seconds)
                entry["integrity"] = check_integrity(project, clients)
                results[f"{kind}_{phase}"] = entry
                print(json.dumps(entry))

        project = fresh_project("kill")
        server = start_server(project)
        endpoint = Endpoint(server.url, LabelerApi())
        clients = [Client(f"sim{i:03d}", tokens[i]) for i in range(args.stress_annotators)]
        restart: dict[str, Any] = {}

        def kill_half_way(started: float) -> None:
            time.sleep(args.stress_seconds / 2)
            server.process.send_signal(signal.SIGKILL)
            server.process.wait(30)
            killed = time.monotonic()
            answered_before = sum(len(c.answered) for c in clients)
            port = urlparse(server.url).port or 0
            again = start_server(project, port=port)
            restart.update(
                seconds_down=round(time.monotonic() - killed, 2),
                answered_before_kill=answered_before,
                server=again,
            )
            with endpoint.lock:
                endpoint.url = again.url

        print(f"kill: {args.stress_annotators} annotators, SIGKILL at {args.stress_seconds / 2} s")
        started = run_phase(endpoint, clients, seconds=args.stress_seconds, think=0.0,
                            class_names=class_names, during=kill_half_way)  # fmt: skip
        restart.pop("server").stop()
        entry = summarize(clients, started + WARMUP_SECONDS, started + args.stress_seconds)
        entry.update(restart)
        entry["integrity"] = check_integrity(project, clients)
        results["kill"] = entry
        print(json.dumps(entry))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(format_report(results, servers) + "\n")
    print(format_report(results, servers))
    return 0


def format_report(results: dict[str, Any], servers: list[str]) -> str:
    lines = [
        "# Annotation server under load",
        "",
        f"Machine: {results['machine']['cpu_count']} cores, {results['machine']['platform']}, "
        f"{results['machine']['date']}. Command: `python bench/server_load.py` "
        f"({json.dumps({k: v for k, v in results['config'].items() if k != 'out'})}).",
        "",
        "| server | phase | labels/s | next p50 / p99 ms | submit p50 / p99 ms | answered | "
        "integrity |",
        "|---|---|---|---|---|---|---|",
    ]
    rows = [(kind, phase) for kind in servers for phase in ("realistic", "stress")]
    for kind, phase in [*rows, ("waitress", "kill")]:
        entry = results[f"{kind}_{phase}" if phase != "kill" else "kill"]
        integrity = entry["integrity"]
        check = "ok" if integrity["ok"] else f"FAILED {integrity}"
        lines.append(
            f"| {kind} | {phase} | {entry['labels_per_second']} | "
            f"{entry['next']['p50_ms']} / {entry['next']['p99_ms']} | "
            f"{entry['submit']['p50_ms']} / {entry['submit']['p99_ms']} | "
            f"{entry['labels_answered']} | {check} |"
        )
    kill = results["kill"]
    lines += [
        "",
        f"Kill: SIGKILL after {kill['answered_before_kill']} answered labels, back after "
        f"{kill['seconds_down']} s; of {kill['integrity']['answered']} labels answered 200 in "
        f"all, {kill['integrity']['missing']} are missing and {kill['integrity']['duplicated']} "
        "stored twice.",
        "",
        "Label Studio under the same loop: [label_studio_side_by_side.md]"
        "(label_studio_side_by_side.md).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
