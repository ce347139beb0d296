"""Our annotation server and Label Studio 1.23.2 under the same annotators, in one run.

At each annotator count (10, 50 and 200 by default) both servers get the same simulated
annotators (``load_clients``: next -> think about 1 s -> submit, each annotator with its own
token) for ``--seconds``, one server at a time on the same machine: ours as ``labeler serve``
starts it (waitress), Label Studio as ``label-studio start`` starts it (Django's server,
SQLite). Each phase gets a fresh project with its whole pool queued (ours) or imported as tasks
(Label Studio). Reported: accepted labels per second, p50/p99 of next and submit, client errors
(calls that failed or took over 10 s), and the ratios ours / Label Studio.

Integrity: ours, every label answered 200 stored once and no image under two live leases;
Label Studio, annotations stored against 201 answers and tasks annotated twice.

    python bench/label_studio_side_by_side.py
    python bench/label_studio_side_by_side.py --annotators 10 --seconds 10   # a smoke run
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from label_studio_peer import LabelStudioPeer
from load_clients import (
    WARMUP_SECONDS,
    Client,
    Endpoint,
    LabelerApi,
    LabelStudioApi,
    run_phase,
    summarize,
)
from machine import describe_machine
from saved_results import save_report
from server_load import check_integrity, make_template

from server.live_server import start_server

RESULTS = Path(__file__).parent / "results"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--annotators", default="10,50,200", help="comma-separated counts")
    parser.add_argument("--seconds", type=float, default=30.0, help="per server and count")
    parser.add_argument("--think", type=float, default=1.0, help="mean think time (s)")
    parser.add_argument("--out", type=Path, default=RESULTS / "label_studio_side_by_side")
    parser.add_argument("--report-only", action="store_true", help="rewrite the .md from the .json")
    args = parser.parse_args()
    if args.report_only:
        saved = json.loads(args.out.with_suffix(".json").read_text())
        args.out.with_suffix(".md").write_text(format_report(saved) + "\n")
        return 0
    counts = [int(value) for value in args.annotators.split(",")]
    # Enough queued images that nobody runs out: a label a second per annotator at most.
    pool = int(max(counts) * args.seconds * 1.3) + 500
    results: dict[str, Any] = {
        "machine": describe_machine(),
        "config": vars(args) | {"out": str(args.out), "pool": pool},
        "phases": [],
    }
    with tempfile.TemporaryDirectory(prefix="side-by-side-") as temp:
        names = [f"sim{index:03d}" for index in range(max(counts))]
        template, tokens, class_names = make_template(Path(temp), pool, len(names))
        peer = LabelStudioPeer(Path(temp) / "label-studio")
        print("starting Label Studio ...")
        peer.start()
        try:
            peer_tokens = peer.add_annotators(names)
            for count in counts:
                ours = run_ours(Path(temp), template, count, tokens, class_names, args)
                theirs = run_label_studio(peer, count, peer_tokens, class_names, pool, args)
                phase = {"annotators": count, "ours": ours, "label_studio": theirs}
                phase["ratios"] = compare(ours, theirs)
                results["phases"].append(phase)
                print(json.dumps(phase))
        finally:
            peer.stop()
    save_report(args.out, results, format_report)
    return 0


def run_ours(
    temp: Path,
    template: Path,
    count: int,
    tokens: list[str],
    class_names: list[str],
    args: argparse.Namespace,
) -> dict[str, Any]:
    project = temp / f"ours-{count}"
    shutil.copytree(template, project)
    server = start_server(project)
    clients = [Client(f"sim{index:03d}", tokens[index]) for index in range(count)]
    print(f"ours: {count} annotators for {args.seconds:.0f} s ...")
    try:
        endpoint = Endpoint(server.url, LabelerApi())
        started = run_phase(
            endpoint, clients, seconds=args.seconds, think=args.think, class_names=class_names
        )
    finally:
        server.stop()
    entry = summarize(clients, started + WARMUP_SECONDS, started + args.seconds)
    entry["integrity"] = check_integrity(project, clients)
    return entry


def run_label_studio(
    peer: LabelStudioPeer,
    count: int,
    tokens: list[str],
    class_names: list[str],
    pool: int,
    args: argparse.Namespace,
) -> dict[str, Any]:
    project_id = peer.make_project(f"load {count}", class_names, pool)
    clients = [Client(f"sim{index:03d}", tokens[index]) for index in range(count)]
    print(f"Label Studio: {count} annotators for {args.seconds:.0f} s ...")
    endpoint = Endpoint(peer.url, LabelStudioApi(project_id))
    started = run_phase(
        endpoint, clients, seconds=args.seconds, think=args.think, class_names=class_names
    )
    entry = summarize(clients, started + WARMUP_SECONDS, started + args.seconds)
    stored = peer.count_annotations(project_id)
    answered = entry["labels_answered"]
    entry["integrity"] = {
        "answered": answered,
        "stored_annotations": stored["annotations"],
        "tasks_annotated_twice": stored["annotations"] - stored["tasks_annotated"],
        # A submission that timed out on the client may still have been stored: more stored
        # than answered is that, fewer would be a loss.
        "missing": max(answered - stored["annotations"], 0),
    }
    return entry


def compare(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, float | None]:
    """Ours over Label Studio for throughput; Label Studio over ours for latency."""

    def ratio(top: float | None, bottom: float | None) -> float | None:
        return round(top / bottom, 1) if top and bottom else None

    return {
        "labels_per_second": ratio(ours["labels_per_second"], theirs["labels_per_second"]),
        "next_p99": ratio(theirs["next"]["p99_ms"], ours["next"]["p99_ms"]),
        "submit_p99": ratio(theirs["submit"]["p99_ms"], ours["submit"]["p99_ms"]),
    }


def format_report(results: dict[str, Any]) -> str:
    config = results["config"]
    machine = results["machine"]
    lines = [
        "# Our server and Label Studio 1.23.2 under the same annotators",
        "",
        f"Machine: {machine['cpu_count']} cores, {machine['platform']}, {machine['date']}. "
        f"Command: `python bench/label_studio_side_by_side.py --annotators {config['annotators']}"
        f" --seconds {config['seconds']:g}`. Each annotator: next -> think "
        f"{config['think']:g} s on average -> submit, its own token; one server at a time; "
        "the first "
        f"{WARMUP_SECONDS:g} s of each phase left out. Client errors: calls that failed or took "
        "over 10 s.",
        "",
        "| annotators | server | labels/s | next p50 / p99 ms | submit p50 / p99 ms | "
        "client errors | integrity |",
        "|---|---|---|---|---|---|---|",
    ]
    for phase in results["phases"]:
        for name, key in (("ours", "ours"), ("Label Studio", "label_studio")):
            entry = phase[key]
            lines.append(
                f"| {phase['annotators']} | {name} | {entry['labels_per_second']} | "
                f"{entry['next']['p50_ms']} / {entry['next']['p99_ms']} | "
                f"{entry['submit']['p50_ms']} / {entry['submit']['p99_ms']} | "
                f"{entry['client_errors']} | {describe_integrity(entry['integrity'])} |"
            )
    lines += [
        "",
        "| annotators | labels/s, ours / LS | next p99, LS / ours | submit p99, LS / ours |",
        "|---|---|---|---|",
    ]
    for phase in results["phases"]:
        ratios = phase["ratios"]
        cells = [
            "Label Studio answered none" if ratios[key] is None else f"{ratios[key]}x"
            for key in ("labels_per_second", "next_p99", "submit_p99")
        ]
        lines.append(f"| {phase['annotators']} | {' | '.join(cells)} |")
    lines += [
        "",
        "Latencies count the calls answered within 10 s; the others are client errors. "
        "Label Studio's annotations stored beyond those answered were stored after the "
        "client gave up; a task annotated twice is one image labeled by two annotators "
        "where one was asked for (Label Studio's default of one annotation per task).",
    ]
    return "\n".join(lines)


def describe_integrity(integrity: dict[str, Any]) -> str:
    if "ok" in integrity:
        return "ok" if integrity["ok"] else f"FAILED {integrity}"
    return (
        f"{integrity['stored_annotations']} stored for {integrity['answered']} answered, "
        f"{integrity['tasks_annotated_twice']} tasks twice"
    )


if __name__ == "__main__":
    sys.exit(main())
