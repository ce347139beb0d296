"""How the cost grows with the pool: 10,000, 30,000 and 100,000 images on 2 cores.

For each size: a counting dataset (6 classes, 64 px) is generated, and timed from there:
``labeler init`` (seconds, and the project's size on disk), 1,000 random pool images given
their known labels, then ``labeler round --query-size 500`` with the defaults (``--model auto``,
``--strategy auto``) in its own process (seconds, peak memory, the learner chosen, the
report's own training and scoring figures), the same round again with ``--score-subset
10000``, and the annotation server under 20 annotators (next -> think 1 s -> submit, 20 s;
p99 of next and submit). Target (issue 20): say the largest pool whose rounds stay under 2
minutes.

    .venv/bin/python bench/pool_scale.py                       # about 20 minutes on 2 cores
    .venv/bin/python bench/pool_scale.py --sizes 10002 --annotators 5
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # load_clients, as server_load does
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as is

from load_clients import Client, Endpoint, LabelerApi, run_phase, summarize

from bench.generated_folder import write_generated
from bench.machine import describe_machine
from bench.saved_results import merge_rows, read_saved, save_report
from labeler.store.project import open_project
from labeler.store.tokens import hash_token
from server.live_server import start_server

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_ROUND_SECONDS = 120.0
SCORE_SUBSET = 10_000
# Enough queued for the annotators of the server phase (20 at about a label a second for 20 s).
QUERY_SIZE = 500


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10002,30000,100002", help="pool sizes (of 6 classes)")
    parser.add_argument("--n-labels", type=int, default=1000)
    parser.add_argument("--annotators", type=int, default=20)
    parser.add_argument("--server-seconds", type=float, default=20.0)
    parser.add_argument("--work", type=Path, default=Path("/tmp/pool-scale"))
    parser.add_argument("--out", type=Path, default=RESULTS / "pool_scale")
    args = parser.parse_args()
    saved = args.out.with_suffix(".json")
    # Sizes measured by an earlier run and not asked for now are kept (the largest pools take
    # a while: they can be run on their own).
    sizes = read_saved(saved, {"sizes": []})["sizes"]
    for n_pool in (int(size) for size in args.sizes.split(",")):
        measured = measure_size(n_pool, args)
        print(json.dumps(measured), flush=True)
        sizes = merge_rows(sizes, [measured], key=lambda size: size["n_pool"])
        sizes.sort(key=lambda size: size["n_pool"])
        report = {"machine": describe_machine(), "config": {**vars(args), "work": str(args.work),
                  "out": str(args.out)}, "sizes": sizes}  # fmt: skip
        save_report(args.out, report, format_report)


def measure_size(n_pool: int, args: argparse.Namespace) -> dict[str, Any]:
    shutil.rmtree(args.work, ignore_errors=True)
    data = write_generated(args.work / "data", "counting", "shapes", n_train=n_pool, n_test=996)
    project = args.work / "project"
    started = time.perf_counter()
    labeler("init", project, "--images", data)
    init_seconds = time.perf_counter() - started
    disk = sum(path.stat().st_size for path in project.rglob("*") if path.is_file())
    tokens = add_labels_and_annotators(project, args.n_labels, args.annotators)
    rounds = [run_round(project, []), run_round(project, ["--score-subset", str(SCORE_SUBSET)])]
    server = serve(project, tokens, args)
    return {
        "n_pool": n_pool,
        "init_seconds": init_seconds,
        "disk_mib": disk / 2**20,
        "rounds": rounds,
        "server": server,
    }


def labeler(*words: object) -> None:
    subprocess.run([sys.executable, "-m", "labeler.cli", *map(str, words)], check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip


def add_labels_and_annotators(project: Path, n_labels: int, n_annotators: int) -> list[str]:
    """``n_labels`` random pool images labeled with their known class, and annotators' tokens."""
    tokens = [f"scale-token-{index:04d}-" + "x" * 24 for index in range(n_annotators)]
    with open_project(project) as opened:
        ids, known = opened.store.get_known_labels("pool")
        picked = np.random.default_rng(0).choice(len(ids), size=n_labels, replace=False)
        names = opened.class_names
        opened.store.add_labels(
            [(int(ids[row]), names[int(known[row])]) for row in picked],
            annotator="bench",
            source="bench",
        )
        for index, token in enumerate(tokens):
            opened.store.add_annotator(f"sim{index:03d}", token_hash=hash_token(token))
    return tokens


def run_round(project: Path, extra: list[str]) -> dict[str, Any]:
    """One default round in its own process: seconds, peak memory, and its report's figures."""
    started = time.perf_counter()
    labeler("round", project, "--query-size", str(QUERY_SIZE), *extra)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with open_project(project) as opened:
        last = opened.store.get_last_done_round()
        assert last is not None and last.folder
        report = json.loads((project / last.folder / "report.json").read_text())
    return {
        "flags": " ".join(extra) or "defaults",
        "seconds": seconds,
        # The largest child process so far (init or a round): an upper bound of the round's.
        "peak_rss_mib": peak / 1024,
        "learner": report["learner"]["chosen"],
        "train_seconds": report["train_seconds"],
        "n_scored": report["n_scored"],
        "test_accuracy": report["test_accuracy"],
    }


def serve(project: Path, tokens: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """p99 of next and submit under the annotators, and the server's memory."""
    with open_project(project) as opened:
        class_names = list(opened.class_names)
    server = start_server(project)
    clients = [Client(f"sim{index:03d}", token) for index, token in enumerate(tokens)]
    try:
        endpoint = Endpoint(server.url, LabelerApi())
        started = run_phase(
            endpoint, clients, seconds=args.server_seconds, think=1.0, class_names=class_names
        )
        rss_kib = read_rss_kib(server.process.pid)
    finally:
        server.stop()
    # The first seconds warm caches; measure the rest.
    summary = summarize(clients, started + 5, started + args.server_seconds)
    return {**summary, "server_rss_mib": rss_kib / 1024}


def read_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def format_report(report: dict[str, Any]) -> str:
    config = report["config"]
    lines = [
        "# How the cost grows with the pool",
        "",
        f"Machine: {report['machine']['cpu_count']} cores, {report['machine']['date']}. "
        f"Command: `python bench/pool_scale.py --sizes "
        f"{','.join(str(size['n_pool']) for size in report['sizes'])}`: counting (6 classes, "
        f"64 px), {config['n_labels']:,} labels, `labeler round --query-size {QUERY_SIZE}` "
        f"with the defaults; the server under {config['annotators']} annotators (think 1 s). "
        f"Target: rounds under {TARGET_ROUND_SECONDS:.0f} s. Each size's rows come from the "
        "latest run that measured it (the date above is the latest run's).",
        "",
        "| pool | init s | disk MiB | round | round s | peak MiB (any child so far) | learner "
        "| train s | scored "
        "| test acc | next p99 ms | submit p99 ms | server MiB |",
        "|---:|---:|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    fits = []
    for size in report["sizes"]:
        server = size["server"]
        for index, entry in enumerate(size["rounds"]):
            first = index == 0
            peak = entry["peak_rss_mib"]
            train = entry["train_seconds"]
            lines.append(
                f"| {size['n_pool']:,} | {size['init_seconds']:.0f} | {size['disk_mib']:.0f} | "
                f"{entry['flags']} | {entry['seconds']:.0f} | "
                f"{peak:.0f} | {entry['learner']} | "
                f"{'-' if train is None else f'{train:.0f}'} | {entry['n_scored']:,} | "
                f"{entry['test_accuracy']:.3f} | "
                + (
                    f"{server['next']['p99_ms']:.1f} | {server['submit']['p99_ms']:.1f} | "
                    f"{server['server_rss_mib']:.0f} |"
                    if first
                    else " | | |"
                )
            )
        if all(entry["seconds"] < TARGET_ROUND_SECONDS for entry in size["rounds"][:1]):
            fits.append(size["n_pool"])
    largest = f"{max(fits):,}" if fits else "none measured"
    lines += [
        "",
        f"Largest pool measured whose default round took under {TARGET_ROUND_SECONDS:.0f} s: "
        f"{largest}.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
