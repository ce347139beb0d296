"""Images per second into a training loop: made on the fly, against packed arrays and PNG files.

For the fastest and the slowest SVRT problem to make (measured first: ``N_RANKING_IMAGES``
images of each of the 23 through its image maker, the fastest of three passes) and for counting,
at 128 px, ``N_IMAGES`` training images are read through a shuffling ``DataLoader`` (batches
of 64) with 0, 1 and 2 workers, three ways:

- ``on the fly``: ``labeler.api.datasets`` (``GeneratedDataset``), nothing on disk;
- ``packed``: ``PackedDataset`` over the folder ``labeler generate`` wrote (memory-mapped);
- ``png``: the same folder's PNG files decoded with Pillow, into the same tensors.

Every reader gives the same items (checked on a sample first). Each configuration is timed
five times, the readers taking turns, and the fastest pass kept (the folder was just
written, so its files are in the page cache, as after a training loop's first epoch). Also:
the folder's size on disk, and the peak memory of a DataLoader worker (max RSS of the worker
processes, from ``getrusage``).

Target (issue 25): on the fly at least as fast as reading PNGs with the same workers.

    .venv/bin/python bench/dataset_speed.py      # about 2 minutes on the 2-core machine
    .venv/bin/python bench/dataset_speed.py --svrt 2,10   # named problems, no ranking
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as is

from bench.machine import describe_machine
from generators.registry import get_family
from labeler.data.dataset_writer import write_dataset
from labeler.data.generated_dataset import GeneratedDataset, get_problem
from labeler.data.image_tensor import to_image_tensor
from labeler.data.packed_dataset import PackedDataset

RESULTS = Path(__file__).resolve().parent / "results"
N_IMAGES = 6000  # a multiple of 2 and 6 classes
IMAGE_SIZE = 128
BATCH_SIZE = 64
WORKERS = (0, 1, 2)
N_PASSES = 5  # per reader and worker count, taken in turns
N_RANKING_IMAGES = 400
N_RANKING_PASSES = 3  # the fastest kept: a noisy pass can make a fast problem look slow
SEED = 0


class PngDataset(Dataset[tuple[torch.Tensor, int]]):
    """A dataset folder's PNG files of one split, decoded with Pillow per item."""

    def __init__(self, folder: Path, split: str) -> None:
        labels = np.load(folder / f"{split}_labels.npy")
        names = json.loads((folder / "dataset.json").read_text())["class_names"]
        self.paths = [
            folder / split / names[label] / f"{split}-{index:06d}.png"
            for index, label in enumerate(labels.tolist())
        ]
        self.labels = labels.tolist()

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        with Image.open(self.paths[index]) as image:
            pixels = np.asarray(image)
        return to_image_tensor(pixels), self.labels[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/dataset-speed"))
    parser.add_argument("--out", type=Path, default=RESULTS / "dataset_speed")
    parser.add_argument("--n-images", type=int, default=N_IMAGES)
    parser.add_argument(
        "--svrt",
        help="comma-separated SVRT problems to read (default: the fastest and the "
        "slowest to make, measured first)",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    started = time.perf_counter()
    rows = []
    kernel_speeds = {}
    ranking = {} if args.svrt else rank_svrt_problems()
    by_speed = sorted(ranking, key=lambda problem: ranking[problem], reverse=True)
    svrt_problems = args.svrt.split(",") if args.svrt else [by_speed[0], by_speed[-1]]
    problems: list[tuple[str, str | None]] = [("svrt", p) for p in svrt_problems]
    for family_name, problem_name in [*problems, ("counting", None)]:
        family = get_family(family_name)
        problem = get_problem(family, problem_name)
        folder = args.work / f"{family_name}-{problem}"
        shutil.rmtree(folder, ignore_errors=True)
        params = family.make_params(problem, "standard", image_size=IMAGE_SIZE)
        write_dataset(
            folder, family, problem, params, n_per_split={"train": args.n_images}, seed=SEED
        )
        readers: dict[str, Dataset[Any]] = {
            "on the fly": GeneratedDataset(
                family_name, problem, size=args.n_images, seed=SEED, image_size=IMAGE_SIZE
            ),
            "packed": PackedDataset(folder, "train"),
            "png": PngDataset(folder, "train"),
        }
        check_same_items(readers)
        kernel_speeds[f"{family_name} {problem}"] = time_kernel(
            family, problem, params, args.n_images
        )
        disk = sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())
        for workers in WORKERS:
            # The readers take turns, pass after pass, so that the machine's drifts touch all
            # of them alike; each keeps its fastest pass.
            best = dict.fromkeys(readers, 0.0)
            for attempt in range(N_PASSES):
                for reader, dataset in readers.items():
                    best[reader] = max(best[reader], time_pass(dataset, workers, attempt))
            worker_rss = (
                resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 if workers else None
            )
            for reader, speed in best.items():
                rows.append(
                    {
                        "family": family_name,
                        "problem": problem,
                        "workers": workers,
                        "reader": reader,
                        "images_per_second": speed,
                        "disk_bytes": 0 if reader == "on the fly" else disk,
                        "worker_max_rss_mb": worker_rss,
                    }
                )
                print(
                    f"{family_name} {problem} workers={workers} {reader}: {speed:.0f} img/s",
                    flush=True,
                )
        shutil.rmtree(folder, ignore_errors=True)
    report = {
        "machine": describe_machine(),
        "config": {"n_images": args.n_images, "image_size": IMAGE_SIZE, "batch_size": BATCH_SIZE},
        "rows": rows,
        "kernel_images_per_second": kernel_speeds,
        "svrt_ranking_images_per_second": ranking,
        "seconds": time.perf_counter() - started,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n")
    text = format_report(report)
    args.out.with_suffix(".md").write_text(text)
    print(text)


def rank_svrt_problems() -> dict[str, float]:
    """Images per second of each SVRT problem's image maker at 128 px (one core, no
    metadata): the fastest of ``N_RANKING_PASSES`` passes over ``N_RANKING_IMAGES`` images."""
    family = get_family("svrt")
    speeds = {}
    for problem in family.list_problems():
        params = family.make_params(problem, "standard", image_size=IMAGE_SIZE)
        make = family.open_stream(problem, params, split="train", seed=SEED)
        make(0)  # compiles (or loads) the kernel outside the timing
        best = 0.0
        for _ in range(N_RANKING_PASSES):
            tick = time.perf_counter()
            for index in range(N_RANKING_IMAGES):
                make(index)
            best = max(best, N_RANKING_IMAGES / (time.perf_counter() - tick))
        speeds[problem] = best
        print(f"svrt {problem}: {best:.0f} img/s made", flush=True)
    return speeds


def check_same_items(readers: dict[str, Dataset[Any]]) -> None:
    """Every reader gives the same image and label at a few indices."""
    first, *others = readers.values()
    n_images = len(first)  # type: ignore[arg-type]
    for index in (0, 1, n_images // 2, n_images - 1):
        image, label = first[index]
        for other in others:
            other_image, other_label = other[index]
            if not torch.equal(image, other_image) or label != other_label:
                raise RuntimeError(f"the readers disagree at image {index}")


def time_kernel(family: Any, problem: str, params: Any, n_images: int) -> float:
    """Images per second of the generator alone: one batch of ``n_images`` in memory, no
    metadata, no DataLoader; the faster of two passes."""
    best = 0.0
    for _ in range(2):
        tick = time.perf_counter()
        family.generate(
            problem, params, split="train", seed=SEED, start=0, count=n_images, with_metadata=False
        )
        best = max(best, n_images / (time.perf_counter() - tick))
    return best


def time_pass(dataset: Dataset[Any], workers: int, attempt: int) -> float:
    """Images per second of one shuffled pass (the shuffle seeded by ``attempt``)."""
    loader = DataLoader(
        dataset,
        batch_size=BATCH_SIZE,
        shuffle=True,
        num_workers=workers,
        generator=torch.Generator().manual_seed(attempt),
    )
    tick = time.perf_counter()
    n_seen = sum(images.shape[0] for images, _ in loader)
    return n_seen / (time.perf_counter() - tick)


def format_report(report: dict[str, Any]) -> str:
    rows = report["rows"]
    lines = [
        "# Into a training loop: on the fly against packed arrays and PNG files",
        "",
        f"Written by `bench/dataset_speed.py` (its docstring says how). "
        f"{report['config']['n_images']} images at {IMAGE_SIZE} px, shuffled batches of "
        f"{BATCH_SIZE}, one torch thread per process. Machine: {report['machine']}. "
        f"Total {report['seconds'] / 60:.1f} min.",
        "",
        "| problem | workers | on the fly (img/s) | packed (img/s) | png (img/s) | "
        "on the fly / png | target met |",
        "|---|---:|---:|---:|---:|---:|:---:|",
    ]
    by_key: dict[tuple[str, str, int], dict[str, float]] = {}
    for row in rows:
        key = (row["family"], row["problem"], row["workers"])
        by_key.setdefault(key, {})[row["reader"]] = row["images_per_second"]
    for (family, problem, workers), speeds in by_key.items():
        ratio = speeds["on the fly"] / speeds["png"]
        lines.append(
            f"| {family} {problem} | {workers} | {speeds['on the fly']:.0f} | "
            f"{speeds['packed']:.0f} | {speeds['png']:.0f} | {ratio:.2f} | "
            f"{'yes' if ratio >= 1.0 else 'no'} |"
        )
    disks = {(r["family"], r["problem"]): r["disk_bytes"] for r in rows if r["reader"] == "png"}
    rss = [r["worker_max_rss_mb"] for r in rows if r["worker_max_rss_mb"] is not None]
    kernels = report.get("kernel_images_per_second", {})
    ranking = report.get("svrt_ranking_images_per_second", {})
    if ranking:
        by_speed = sorted(ranking, key=lambda problem: ranking[problem], reverse=True)
        lines += [
            "",
            f"SVRT problems by images made per second (image maker, one core, "
            f"{N_RANKING_IMAGES} images; the fastest and the slowest are read above): "
            + ", ".join(f"{problem} {ranking[problem]:,.0f}" for problem in by_speed)
            + ".",
        ]
    lines += (
        [
            "",
            "The generator alone (one batch in memory, no metadata, one core): "
            + ", ".join(f"{name} {speed:,.0f} img/s" for name, speed in kernels.items())
            + ".",
        ]
        if kernels
        else []
    )
    lines += [
        "",
        "Disk: on the fly writes nothing; the folder the other two read (PNG files, packed "
        "array, metadata) takes "
        + ", ".join(f"{bytes_ / 2**20:.1f} MiB for {f} {p}" for (f, p), bytes_ in disks.items())
        + f" ({report['config']['n_images']} images).",
        f"Memory: the largest DataLoader worker of the whole run peaked at {max(rss):.0f} MB "
        "resident (most of it torch and numpy themselves; a generated item holds one image).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
