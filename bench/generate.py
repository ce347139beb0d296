"""Generation speed: images/s per problem on one core, in memory and written to disk.

For every problem of the chosen families it measures, pinned to one core, after a warm-up call
(numba compiles once):
- in memory: ``Family.generate`` making the images and their ground-truth tables;
- in memory with metadata: the same plus the JSON-ready metadata dicts;
- written: ``write_dataset`` to a temporary folder with one worker (PNG files, packed array,
  metadata, hashes), which is what ``labeler generate`` does;
and then the scaling with the number of worker processes on a few problems, both of generation
in memory (a process pool over chunks) and of ``write_dataset``.
It prints the tables and saves them as JSON and Markdown under ``bench/results/``.

    python bench/generate.py                      # defaults: every problem, standard counts
    python bench/generate.py --n-memory 200 --n-write 200 --n-scaling 400   # a smoke run
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as is

from bench.machine import describe_machine
from generators.registry import get_family
from labeler.data.dataset_writer import CHUNK_SIZE, write_dataset

RESULTS = Path(__file__).resolve().parent / "results"
# Targets from issue 2 (images/s on one core, in memory).
TARGET_MEDIAN = 10_000
TARGET_WORST = 1_000


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default="svrt,orientation", help="comma-separated")
    parser.add_argument("--problems", help="comma-separated problems (default: all)")
    parser.add_argument("--n-memory", type=int, default=4096, help="images per in-memory run")
    parser.add_argument("--n-write", type=int, default=2048, help="images per written run")
    parser.add_argument("--n-scaling", type=int, default=16384, help="images per scaling run")
    parser.add_argument("--scaling", default="svrt:1,svrt:21", help="family:problem list")
    parser.add_argument("--workers", default="1,2", help="worker counts for the scaling runs")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the results")
    args = parser.parse_args(argv)

    rows = []
    for family_name in args.families.split(","):
        family = get_family(family_name)
        problems = args.problems.split(",") if args.problems else family.list_problems()
        for problem in problems:
            if problem not in family.list_problems():
                continue
            with pinned_to_one_core():
                row = {
                    "family": family_name,
                    "problem": problem,
                    "memory_images_per_s": measure_memory(
                        family, problem, n_images=args.n_memory, with_metadata=False
                    ),
                    "memory_metadata_images_per_s": measure_memory(
                        family, problem, n_images=args.n_memory, with_metadata=True
                    ),
                    "written_images_per_s": measure_written(family, problem, n_images=args.n_write),
                }
            rows.append(row)
            print(
                f"{family_name:12s} {problem:>4s}  in memory {row['memory_images_per_s']:9.0f} "
                f"img/s  with metadata {row['memory_metadata_images_per_s']:8.0f} img/s  "
                f"written {row['written_images_per_s']:7.0f} img/s",
                flush=True,
            )

    scaling = []
    worker_counts = [int(count) for count in args.workers.split(",")]
    # What the machine itself allows: the same pure-compute task on 1 and N processes.
    hardware = {workers: measure_cpu_baseline(workers) for workers in worker_counts}
    hardware_speedup = {w: hardware[w] / hardware[worker_counts[0]] for w in worker_counts}
    for workers, speedup in hardware_speedup.items():
        print(f"hardware baseline (pure compute) workers {workers}: x{speedup:.2f}", flush=True)
    for entry in args.scaling.split(","):
        family_name, problem = entry.split(":")
        family = get_family(family_name)
        if problem not in family.list_problems():
            print(f"skipping scaling of {entry}: no such problem", flush=True)
            continue
        base_memory = None
        base_written = None
        for workers in worker_counts:
            memory = measure_parallel_memory(
                family, problem, n_images=args.n_scaling, workers=workers
            )
            written = measure_written(family, problem, n_images=args.n_scaling, workers=workers)
            base_memory = base_memory or memory
            base_written = base_written or written
            scaling.append(
                {
                    "family": family_name,
                    "problem": problem,
                    "workers": workers,
                    "memory_images_per_s": memory,
                    "memory_speedup": memory / base_memory,
                    "written_images_per_s": written,
                    "speedup": written / base_written,
                }
            )
            print(
                f"scaling {entry:10s} workers {workers}: in memory {memory:7.0f} img/s "
                f"(x{memory / base_memory:.2f}), written {written:7.0f} img/s "
                f"(x{written / base_written:.2f})",
                flush=True,
            )

    results = {
        "machine": describe_machine(),
        "counts": {"memory": args.n_memory, "write": args.n_write, "scaling": args.n_scaling},
        "problems": rows,
        "scaling": scaling,
        "hardware_speedup": hardware_speedup,
        "summary": summarise(rows),
    }
    markdown = format_markdown(results)
    print()
    print(markdown)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "generate.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "generate.md").write_text(markdown + "\n")
    print(f"saved {args.out / 'generate.json'} and {args.out / 'generate.md'}")
    return 0


@contextlib.contextmanager
def pinned_to_one_core() -> Iterator[None]:
    """Run the enclosed measurement on one CPU core (where the OS allows pinning)."""
    if not hasattr(os, "sched_setaffinity"):
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def measure_memory(family: Any, problem: str, *, n_images: int, with_metadata: bool) -> float:
    """Images/s of ``Family.generate`` in chunks as ``write_dataset`` asks for them."""
    params = family.make_params(problem)
    family.generate(problem, params, split="train", seed=1, start=0, count=8)  # warm-up
    started = time.perf_counter()
    for start in range(0, n_images, CHUNK_SIZE):
        count = min(CHUNK_SIZE, n_images - start)
        family.generate(
            problem,
            params,
            split="train",
            seed=0,
            start=start,
            count=count,
            with_metadata=with_metadata,
        )
    return n_images / (time.perf_counter() - started)


def _spin(n_loops: int) -> int:
    total = 0
    for i in range(n_loops):
        total += i * i % 7
    return total


def measure_cpu_baseline(workers: int, *, n_tasks: int = 8, n_loops: int = 2_000_000) -> float:
    """Tasks/s of a pure-Python compute loop over a pool: the machine's own scaling."""
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        started = time.perf_counter()
        pool.map(_spin, [n_loops] * n_tasks, chunksize=1)
        return n_tasks / (time.perf_counter() - started)


def _generate_chunk(job: tuple[str, str, int, int]) -> int:
    family_name, problem, start, count = job
    family = get_family(family_name)
    params = family.make_params(problem)
    batch = family.generate(problem, params, split="train", seed=0, start=start, count=count)
    return len(batch.labels)


def measure_parallel_memory(family: Any, problem: str, *, n_images: int, workers: int) -> float:
    """Images/s of in-memory generation (with metadata) spread over a pool of processes."""
    jobs = [
        (family.name, problem, start, min(CHUNK_SIZE, n_images - start))
        for start in range(0, n_images, CHUNK_SIZE)
    ]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pool.map(_generate_chunk, [(family.name, problem, 0, 8)] * workers)  # warm-up
        started = time.perf_counter()
        done = sum(pool.map(_generate_chunk, jobs, chunksize=1))
        return done / (time.perf_counter() - started)


def measure_written(family: Any, problem: str, *, n_images: int, workers: int = 1) -> float:
    """Images/s of ``write_dataset`` (PNG, packed array, metadata, hashes) into a temp folder."""
    params = family.make_params(problem)
    n_images -= n_images % len(family.class_names)
    with tempfile.TemporaryDirectory(prefix="bench-generate-") as folder:
        summary = write_dataset(
            Path(folder) / "dataset",
            family,
            problem,
            params,
            n_per_split={"train": n_images},
            seed=0,
            workers=workers,
        )
    return summary.images_per_second


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    svrt = [row for row in rows if row["family"] == "svrt"]
    if not svrt:
        return {}
    speeds = [row["memory_images_per_s"] for row in svrt]
    worst = min(svrt, key=lambda row: row["memory_images_per_s"])
    return {
        "svrt_problems": len(svrt),
        "svrt_median_memory_images_per_s": statistics.median(speeds),
        "svrt_worst_memory_images_per_s": worst["memory_images_per_s"],
        "svrt_worst_problem": worst["problem"],
        "svrt_median_written_images_per_s": statistics.median(
            row["written_images_per_s"] for row in svrt
        ),
        "target_median": TARGET_MEDIAN,
        "target_worst": TARGET_WORST,
    }


def format_markdown(results: dict[str, Any]) -> str:
    machine = results["machine"]
    lines = [
        f"# Generation speed ({machine['date']}, {machine['cpu_count']} CPUs, "
        f"{machine['processor']}, Python {machine['python']})",
        "",
        "One process pinned to one core. In memory = `Family.generate` (images and their "
        "ground-truth tables); + metadata = also the JSON-ready metadata dicts; written = "
        "`write_dataset` (PNG + packed array + metadata + hashes).",
        "",
        "| family | problem | in memory (img/s) | + metadata (img/s) | written (img/s) |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {row['family']} | {row['problem']} | {row['memory_images_per_s']:.0f} "
        f"| {row['memory_metadata_images_per_s']:.0f} | {row['written_images_per_s']:.0f} |"
        for row in results["problems"]
    ]
    summary = results["summary"]
    if summary:
        lines += [
            "",
            f"SVRT ({summary['svrt_problems']} problems): median in memory "
            f"{summary['svrt_median_memory_images_per_s']:.0f} img/s "
            f"(target {summary['target_median']}), worst "
            f"{summary['svrt_worst_memory_images_per_s']:.0f} img/s on problem "
            f"{summary['svrt_worst_problem']} (target {summary['target_worst']}); "
            f"median written {summary['svrt_median_written_images_per_s']:.0f} img/s.",
        ]
    if results["scaling"]:
        baseline = ", ".join(
            f"x{speedup:.2f} with {workers}"
            for workers, speedup in results["hardware_speedup"].items()
        )
        lines += [
            "",
            f"Scaling with worker processes (the machine's own pure-compute scaling: {baseline}):",
            "",
            "| family | problem | workers | in memory (img/s) | speed-up "
            "| written (img/s) | speed-up |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {row['family']} | {row['problem']} | {row['workers']} "
            f"| {row['memory_images_per_s']:.0f} | {row['memory_speedup']:.2f} "
            f"| {row['written_images_per_s']:.0f} | {row['speedup']:.2f} |"
            for row in results["scaling"]
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
