"""Embedding cost on this CPU: seconds per 1,000 images of each embedding kind, at 32 and 64 px
(grayscale, and 64 px colour), with 1 and 2 torch/BLAS threads; and the cost of the cache key's
SHA-256 of the packed images.

Each kind embeds synthetic images (white with a few dark rectangles: the cost does not depend
on what the images show) through its registry entry, as ``get_embedding`` runs it: ``pixels``
on ``--n-pixels`` images (PCA fitted on all of them, up to 5,000), ``efficientnet_lite0`` on
``--n-lite0`` images (each enlarged to 224 px, the network's input), with the weights loaded
in each run; seconds are scaled to 1,000 images. The best of ``--repeats`` runs counts (the
machine may be shared). Results go to ``bench/results/embeddings.json`` and ``.md``.

    python bench/embeddings.py
    python bench/embeddings.py --n-lite0 64 --repeats 1   # a smoke run
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as is

from bench.machine import describe_machine
from bench.saved_results import add_markdown_only_flag, rewrite_markdown
from labeler.learning.devices import cpu_threads
from labeler.learning.embedding_kinds import get_embedding_kind

RESULTS = Path(__file__).resolve().parent / "results"
# (image side, channels) of the pools timed.
SHAPES = ((32, 1), (64, 1), (64, 3))


def make_images(n_images: int, side: int, channels: int, *, seed: int) -> np.ndarray:
    """uint8 ``[n, side, side(, 3)]``: white, with 3 dark rectangles of random colour each."""
    rng = np.random.default_rng(seed)
    shape = (n_images, side, side) + ((3,) if channels == 3 else ())
    images = np.full(shape, 255, dtype=np.uint8)
    for image in images:
        for _ in range(3):
            top, left = rng.integers(0, side - 4, size=2)
            height, width = rng.integers(2, side // 2, size=2)
            image[top : top + height, left : left + width] = rng.integers(0, 160, size=channels)
    return images


def time_kind(kind: str, images: np.ndarray, *, n_threads: int, repeats: int) -> float:
    """Best wall seconds of ``repeats`` runs of ``kind`` on ``images`` with ``n_threads``."""
    embedder = get_embedding_kind(kind)
    embedder.get_key_parts()  # fails early when the kind cannot run here
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        with cpu_threads(n_threads):
            embedder.embed(images, device=torch.device("cpu"), n_threads=n_threads, progress=False)
        best = min(best, time.perf_counter() - started)
    return best


def time_digest(n_images: int) -> dict[str, float]:
    """Seconds of the SHA-256 of a packed file of ``n_images`` 64 px colour images (in the page
    cache), and its rate in GB/s."""
    images = make_images(n_images, 64, 3, seed=1)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pool_images.npy"
        np.save(path, images)
        started = time.perf_counter()
        with open(path, "rb") as file:
            hashlib.file_digest(file, "sha256")
        seconds = time.perf_counter() - started
        size = path.stat().st_size
    return {"n_images": n_images, "gigabytes": size / 1e9, "seconds": seconds}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-pixels", type=int, default=3000, help="images the PCA embeds")
    parser.add_argument("--n-lite0", type=int, default=128, help="images EfficientNet embeds")
    parser.add_argument("--threads", default="1,2", help="thread counts")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    add_markdown_only_flag(parser)
    args = parser.parse_args(argv)
    if args.markdown_only:
        return rewrite_markdown(args.out, "embeddings", make_markdown)
    thread_counts = [int(part) for part in args.threads.split(",")]
    from sklearn.decomposition import PCA  # noqa: F401  (imported once, outside the timings)

    rows: list[dict[str, Any]] = []
    for kind, n_images in (("pixels", args.n_pixels), ("efficientnet_lite0", args.n_lite0)):
        for side, channels in SHAPES:
            images = make_images(n_images, side, channels, seed=0)
            for n_threads in thread_counts:
                seconds = time_kind(kind, images, n_threads=n_threads, repeats=args.repeats)
                row = {
                    "kind": kind,
                    "side": side,
                    "channels": channels,
                    "threads": n_threads,
                    "n_images": n_images,
                    "seconds": seconds,
                    "seconds_per_1000": seconds * 1000 / n_images,
                }
                rows.append(row)
                print(
                    f"{kind:>18} {side:>3} px x{channels} {n_threads} thread(s): "
                    f"{row['seconds_per_1000']:.2f} s / 1,000 images",
                    flush=True,
                )
    digest = time_digest(20_000)
    results: dict[str, Any] = {
        "machine": describe_machine(),
        "args": {**vars(args), "out": str(args.out)},
    }
    results |= {"rows": rows, "digest": digest}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "embeddings.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "embeddings.md").write_text(make_markdown(results))
    print(f"wrote {args.out / 'embeddings.json'} and {args.out / 'embeddings.md'}")
    return 0


def make_markdown(results: dict[str, Any]) -> str:
    machine = results["machine"]
    load = ", ".join(f"{value:.1f}" for value in machine["load_average"])
    lines = [
        "# Embedding cost per 1,000 images",
        "",
        f"{machine['date']}, {machine['cpu_count']} CPUs ({machine['processor']}), load "
        f"{load}, torch {machine.get('torch', '?')}. Command: `python bench/embeddings.py`.",
        "",
        "Synthetic images embedded through each kind's registry entry (what `labeler embed` "
        "runs, without the cache); best of "
        f"{results['args']['repeats']} runs, scaled to 1,000 images. `pixels`: PCA of the "
        f"ink fitted on all {results['args']['n_pixels']} images, then projected. "
        f"`efficientnet_lite0`: {results['args']['n_lite0']} images enlarged to 224 px, "
        "weights loaded in each run.",
        "",
        "| kind | pool | threads | s / 1,000 images | images/s |",
        "|---|---|---:|---:|---:|",
    ]
    for row in results["rows"]:
        pool = f"{row['side']} px " + ("colour" if row["channels"] == 3 else "gray")
        rate = 1000 / row["seconds_per_1000"]
        lines.append(
            f"| {row['kind']} | {pool} | {row['threads']} | {row['seconds_per_1000']:.2f} | "
            f"{rate:.0f} |"
        )
    digest = results["digest"]
    lines += [
        "",
        f"Cache key: SHA-256 of a packed file of {digest['n_images']:,} colour 64 px images "
        f"({digest['gigabytes']:.2f} GB, in the page cache) took {digest['seconds']:.2f} s "
        f"({digest['gigabytes'] / digest['seconds']:.1f} GB/s).",
        "",
        "On a shared machine (a load above the core count), threads that outnumber the free "
        "cores wait on each other: a 2-thread row can then run several times slower than the "
        "1-thread one. Compare rows only at a low load.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
