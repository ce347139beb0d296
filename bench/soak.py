"""Soak: simulated annotators against ``labeler serve`` for half an hour, with rounds started
from the dashboard's API on a schedule.

``--annotators`` (60) loop next -> think about ``--think`` (1 s) -> submit for ``--minutes``
(30); an admin starts a round (``POST /api/admin/rounds``, strategy auto, ``--query-size``)
every ``--round-every`` minutes, as the dashboard's button does: the round trains on every
label so far in a process of its own, on the same two cores, and replaces the queue. Reported:
labels per second and p50/p99 of next and submit per minute, the server's resident memory
every ``--memory-every`` seconds (growth from the end of the first minute, after warm-up, to
the end), every round (answer, seconds, exit), client errors, and integrity (every label
answered 200 stored once; no image under two live leases).

The pool is big enough that the queue never runs dry: a label a second per annotator.

    python bench/soak.py
    python bench/soak.py --minutes 2 --round-every 1 --pool 20000   # a smoke run
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from load_clients import Client, Endpoint, LabelerApi, run_phase, summarize
from machine import describe_machine
from saved_results import save_report
from server_load import check_integrity, make_template

from labeler.store.project import open_project
from server.live_server import start_server

RESULTS = Path(__file__).parent / "results"
TARGET_MEMORY_GROWTH = 0.10


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--annotators", type=int, default=60)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--think", type=float, default=1.0, help="mean think time (s)")
    parser.add_argument("--round-every", type=float, default=5.0, help="minutes between rounds")
    parser.add_argument("--query-size", type=int, default=30_000, help="images each round queues")
    parser.add_argument("--pool", type=int, default=130_000, help="pool images")
    parser.add_argument("--first-queue", type=int, default=40_000, help="queued at the start")
    parser.add_argument("--memory-every", type=float, default=15.0, help="seconds")
    parser.add_argument("--out", type=Path, default=RESULTS / "soak")
    args = parser.parse_args()
    seconds = args.minutes * 60
    results: dict[str, Any] = {
        "machine": describe_machine(),
        "config": vars(args) | {"out": str(args.out)},
    }
    with tempfile.TemporaryDirectory(prefix="soak-") as temp:
        project, tokens, class_names = make_template(
            Path(temp), args.pool, args.annotators, n_queued=args.first_queue
        )
        server = start_server(project)
        clients = [Client(f"sim{index:03d}", tokens[index]) for index in range(args.annotators)]
        memory: list[tuple[float, int]] = []
        rounds: list[dict[str, Any]] = []

        def watch(started: float) -> None:
            watch_server(server.url, server.process.pid, tokens[-1], started, seconds, args,
                         memory, rounds)  # fmt: skip

        print(f"soak: {args.annotators} annotators for {args.minutes:g} min ...")
        try:
            started = run_phase(
                Endpoint(server.url, LabelerApi()), clients, seconds=seconds, think=args.think,
                class_names=class_names, during=watch,
            )  # fmt: skip
        finally:
            server.stop()
        minutes = []
        for minute in range(int(args.minutes)):
            entry = summarize(clients, started + 60 * minute, started + 60 * (minute + 1))
            minutes.append({"minute": minute + 1, **entry})
            print(json.dumps(minutes[-1]))
        results["minutes"] = minutes
        results["whole"] = summarize(clients, started, started + seconds)
        results["memory"] = [{"second": round(at, 1), "rss_kib": rss} for at, rss in memory]
        results["rounds"] = rounds
        results["integrity"] = check_integrity(project, clients)
        with open_project(project) as opened:
            results["labels_stored"] = len(opened.store.get_label_events())
            results["rounds_in_store"] = [
                {"id": record.id, "status": record.status, "n_labels": record.n_labels}
                for record in opened.store.get_rounds()
            ]
    results["memory_growth"] = measure_growth(memory)
    save_report(args.out, results, format_report)
    return 0


def watch_server(
    url: str,
    pid: int,
    admin_token: str,
    started: float,
    seconds: float,
    args: argparse.Namespace,
    memory: list[tuple[float, int]],
    rounds: list[dict[str, Any]],
) -> None:
    """Sample the server's memory and start rounds on schedule until the soak ends."""
    next_round = started + args.round_every * 60
    next_sample = started
    end = started + seconds
    while (now := time.monotonic()) < end:
        if now >= next_sample:
            memory.append((now - started, read_rss_kib(pid)))
            next_sample += args.memory_every
        if now >= next_round:
            rounds.append(start_round(url, admin_token, args.query_size, now - started))
            threading.Thread(target=follow_round, args=(url, admin_token, rounds[-1]),
                             daemon=True).start()  # fmt: skip
            next_round += args.round_every * 60
        time.sleep(0.5)
    memory.append((time.monotonic() - started, read_rss_kib(pid)))


def call_admin(url: str, token: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    parsed = urlparse(url)
    connection = http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port, timeout=30)
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        data = None if body is None else json.dumps(body).encode()
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def start_round(url: str, token: str, query_size: int, at: float) -> dict[str, Any]:
    status, answer = call_admin(
        url, token, "POST", "/api/admin/rounds", {"strategy": "auto", "query_size": query_size}
    )
    print(f"round requested at {at:.0f} s: {status}")
    return {"requested_at_s": round(at, 1), "status": status, "answer": answer}


def follow_round(url: str, token: str, record: dict[str, Any]) -> None:
    """Poll the round started here until it ends; its duration and exit code."""
    if record["status"] != 202:
        return
    while True:
        time.sleep(2)
        try:
            _, answer = call_admin(url, token, "GET", "/api/admin/rounds/current")
        except OSError:
            return  # the server stopped at the end of the soak
        job = answer["job"]
        if job and job["state"] != "running":
            record["seconds"] = round(job["finished_at"] - job["started_at"], 1)
            record["exit_code"] = job["exit_code"]
            record["last_round"] = answer["last_round"]
            return


def read_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def measure_growth(memory: list[tuple[float, int]]) -> dict[str, Any]:
    """Growth from the first sample after the first minute (the server's caches warm up in it)
    to the last sample."""
    warm = next((rss for at, rss in memory if at >= 60), memory[0][1])
    last = memory[-1][1]
    return {
        "start_kib": memory[0][1],
        "warm_kib": warm,
        "end_kib": last,
        "peak_kib": max(rss for _, rss in memory),
        "growth_from_warm": round(last / warm - 1, 4),
        "target": TARGET_MEMORY_GROWTH,
    }


def format_report(results: dict[str, Any]) -> str:
    config = results["config"]
    machine = results["machine"]
    whole = results["whole"]
    growth = results["memory_growth"]
    integrity = results["integrity"]
    lines = [
        "# Soak: annotators and scheduled rounds against `labeler serve`",
        "",
        f"Machine: {machine['cpu_count']} cores, {machine['platform']}, {machine['date']}. "
        f"Command: `python bench/soak.py` ({config['annotators']} annotators, think "
        f"{config['think']:g} s, {config['minutes']:g} min, a round of {config['query_size']} "
        f"every {config['round_every']:g} min, pool {config['pool']}).",
        "",
        f"Whole run: {whole['labels_per_second']} labels/s, next p50 / p99 "
        f"{whole['next']['p50_ms']} / {whole['next']['p99_ms']} ms, submit p50 / p99 "
        f"{whole['submit']['p50_ms']} / {whole['submit']['p99_ms']} ms, "
        f"{whole['client_errors']} client errors, {whole['refused']} refused submissions; "
        f"{results['labels_stored']} labels stored. Integrity: "
        + ("ok" if integrity["ok"] else f"FAILED {integrity}")
        + ".",
        "",
        f"Server memory (resident): {growth['start_kib'] / 1024:.0f} MiB at the start, "
        f"{growth['warm_kib'] / 1024:.0f} MiB after the first minute, "
        f"{growth['end_kib'] / 1024:.0f} MiB at the end (peak {growth['peak_kib'] / 1024:.0f} "
        f"MiB): growth {growth['growth_from_warm']:.1%} from the first minute (target under "
        f"{growth['target']:.0%}).",
        "",
        "| minute | labels/s | next p50 / p99 ms | submit p50 / p99 ms | client errors |",
        "|---|---|---|---|---|",
    ]
    for entry in results["minutes"]:
        lines.append(
            f"| {entry['minute']} | {entry['labels_per_second']} | "
            f"{entry['next']['p50_ms']} / {entry['next']['p99_ms']} | "
            f"{entry['submit']['p50_ms']} / {entry['submit']['p99_ms']} | "
            f"{entry['errors_in_window']} |"
        )
    lines += ["", "| round requested at | answer | seconds | exit | labels | validation acc |"]
    lines.append("|---|---|---|---|---|---|")
    for record in results["rounds"]:
        last = record.get("last_round") or {}
        lines.append(
            f"| {record['requested_at_s']:.0f} s | {record['status']} | "
            f"{record.get('seconds', 'still running at the end')} | "
            f"{record.get('exit_code', '')} | {last.get('n_labels', '')} | "
            f"{format_accuracy(last.get('val_accuracy'))} |"
        )
    return "\n".join(lines)


def format_accuracy(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    sys.exit(main())
