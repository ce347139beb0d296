"""Pool scoring throughput on CPU (images/s): ``score_pool`` from packed arrays against a naive
baseline, in one process, on the same model.

The naive baseline is what one writes first: torchvision's ``ImageFolder`` over the dataset's
PNGs (grayscale, resized to the model's input size, ``ToTensor``) + a ``DataLoader`` of batch 32
+ the model in float32 NCHW. The steps between them show where the speed comes from:

1. naive: PNG ImageFolder + DataLoader, NCHW, batch 32;
2. packed array at the project's image size, NCHW, batch 32;
3. the same in channels_last;
4. ``score_pool`` with batch 512 (packed array, channels_last, batch norms folded into the convs,
   inference mode);
5. ``score_pool`` as called by default (the same with the CPU batch size, 128);
6. ``score_pool`` from the 128 px packed array of the dataset, shrunk batch by batch;
7. ``score_pool`` with 10 MC-dropout draws of the head.

Each variant runs ``--repeats`` times with each of ``--threads`` torch thread counts,
interleaved, and the best run counts (the machine may be shared); speedups compare variants with
the same thread count. Results go to ``bench/results/scoring.json`` and ``.md``.

    python bench/scoring.py
    python bench/scoring.py --n-images 1000 --repeats 1   # a smoke run
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as is

from bench.machine import describe_machine
from bench.saved_results import add_markdown_only_flag, rewrite_markdown
from generators.registry import get_family
from labeler.data.dataset_format import load_split
from labeler.data.dataset_writer import write_dataset
from labeler.learning.devices import count_cores
from labeler.learning.models import DEFAULT_MODEL_CONFIG, Classifier, make_model, make_model_input
from labeler.learning.scoring import CPU_BATCH_SIZE, score_pool

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_SPEEDUP = 5.0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problem", default="4", help="SVRT problem of the pool")
    parser.add_argument("--n-images", type=int, default=4000, help="pool images (128 px)")
    parser.add_argument("--n-naive", type=int, default=2000, help="images the baseline scores")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", default="1,0", help="torch thread counts (0: all cores)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    add_markdown_only_flag(parser)
    args = parser.parse_args(argv)
    if args.markdown_only:
        return rewrite_markdown(args.out, "scoring", make_markdown)

    thread_counts = list(dict.fromkeys(int(n) or count_cores() for n in args.threads.split(",")))
    config = DEFAULT_MODEL_CONFIG
    torch.manual_seed(0)
    model = make_model(config, n_classes=2).eval()
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp) / "pool"
        family = get_family("svrt")
        write_dataset(
            folder,
            family,
            args.problem,
            family.make_params(args.problem),
            n_per_split={"train": args.n_images},
            seed=0,
            workers=count_cores(),
        )
        full_size, _ = load_split(folder, "train", mmap=True)
        # What a project stores: the pool shrunk once to the model's size, as uint8.
        pool = shrink(np.asarray(full_size), config.image_size)
        np.save(Path(temp) / "pool.npy", pool)
        pool = np.load(Path(temp) / "pool.npy", mmap_mode="r")
        naive_loader = make_naive_loader(folder / "train", config.image_size, args.n_naive)
        n_naive = len(naive_loader.dataset)  # type: ignore[arg-type]

        def scorer(source: np.ndarray, **options: Any) -> Callable[[], None]:
            def run() -> None:
                score_pool(
                    model,
                    source,
                    device="cpu",
                    n_threads=torch.get_num_threads(),  # the count being measured
                    progress=False,
                    **options,
                )

            return run

        variants: dict[str, tuple[int, Callable[[], None]]] = {
            "naive: PNG ImageFolder + DataLoader, NCHW, batch 32": (
                n_naive,
                lambda: run_loader(model, naive_loader),
            ),
            "packed array, NCHW, batch 32": (
                len(pool),
                lambda: run_packed(model, pool, batch_size=32, channels_last=False),
            ),
            "packed array, channels_last, batch 32": (
                len(pool),
                lambda: run_packed(model, pool, batch_size=32, channels_last=True),
            ),
            "score_pool, batch 512": (len(pool), scorer(pool, batch_size=512)),
            f"score_pool (packed, channels_last, BN folded, batch {CPU_BATCH_SIZE})": (
                len(pool),
                scorer(pool),
            ),
            "score_pool from the 128 px array (shrunk per batch)": (
                len(full_size),
                scorer(full_size),
            ),
            "score_pool, 10 MC-dropout draws": (len(pool), scorer(pool, n_draws=10)),
        }
        check_agreement(model, pool, naive_loader)
        best: dict[tuple[int, str], float] = {}
        for repeat in range(args.repeats):
            for n_threads in thread_counts:
                torch.set_num_threads(n_threads)
                for name, (_, fn) in variants.items():
                    started = time.perf_counter()
                    fn()
                    seconds = time.perf_counter() - started
                    key = (n_threads, name)
                    best[key] = min(best.get(key, float("inf")), seconds)
                    print(
                        f"[{repeat + 1}/{args.repeats}] {n_threads} thread(s) {name}: "
                        f"{seconds:.2f} s",
                        flush=True,
                    )

    naive_name = next(iter(variants))
    rows = []
    for n_threads in thread_counts:
        naive_rate = variants[naive_name][0] / best[(n_threads, naive_name)]
        for name, (n_images, _) in variants.items():
            rate = n_images / best[(n_threads, name)]
            rows.append(
                {
                    "threads": n_threads,
                    "variant": name,
                    "n_images": n_images,
                    "best_seconds": best[(n_threads, name)],
                    "images_per_second": rate,
                    "speedup_over_naive": rate / naive_rate,
                }
            )
    results = {
        "machine": describe_machine(),
        "model_config": config.to_dict(),
        "problem": args.problem,
        "source_image_size": int(full_size.shape[1]),
        "repeats": args.repeats,
        "target_speedup": TARGET_SPEEDUP,
        "naive": naive_name,
        "rows": rows,
    }
    for row in rows:
        print(
            f"{row['threads']} thr  {row['variant']:55s} {row['images_per_second']:8.0f} img/s  "
            f"{row['speedup_over_naive']:5.1f}x"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scoring.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "scoring.md").write_text(make_markdown(results))
    print(f"wrote {args.out / 'scoring.json'} and {args.out / 'scoring.md'}")
    return 0


def shrink(images: np.ndarray, size: int) -> np.ndarray:
    """uint8 ``[n, H, W]`` -> uint8 ``[n, size, size]`` by area averaging, as a project stores."""
    out = np.empty((len(images), size, size), dtype=np.uint8)
    for start in range(0, len(images), 1024):
        x = make_model_input(torch.from_numpy(images[start : start + 1024]), image_size=size)
        out[start : start + 1024] = (255 - (x[:, 0] * 255).round()).to(torch.uint8).numpy()
    return out


def make_naive_loader(root: Path, size: int, n_images: int) -> torch.utils.data.DataLoader[Any]:
    from torchvision import datasets, transforms

    transform = transforms.Compose(
        [
            transforms.Grayscale(1),
            transforms.Resize(size),
            transforms.ToTensor(),
            transforms.Lambda(lambda x: 1.0 - x),
        ]
    )
    dataset = datasets.ImageFolder(str(root), transform=transform)
    # Every k-th image, so that both classes are present (ImageFolder sorts by class).
    step = max(1, len(dataset) // n_images)
    subset = torch.utils.data.Subset(dataset, list(range(0, len(dataset), step))[:n_images])
    return torch.utils.data.DataLoader(subset, batch_size=32, shuffle=False, num_workers=0)


@torch.no_grad()
def run_loader(model: Classifier, loader: torch.utils.data.DataLoader[Any]) -> None:
    model = model.to(memory_format=torch.contiguous_format)
    for x, _ in loader:
        features = model.features(x)
        torch.softmax(model.head(features), dim=1).numpy()


@torch.no_grad()
def run_packed(
    model: Classifier, pool: np.ndarray, *, batch_size: int, channels_last: bool
) -> None:
    layout = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=layout)
    for start in range(0, len(pool), batch_size):
        pixels = torch.from_numpy(np.array(pool[start : start + batch_size]))
        x = make_model_input(pixels, image_size=model.config.image_size).contiguous(
            memory_format=layout
        )
        features = model.features(x)
        torch.softmax(model.head(features), dim=1).numpy()


def check_agreement(
    model: Classifier, pool: np.ndarray, loader: torch.utils.data.DataLoader[Any]
) -> None:
    """The baseline and score_pool must give nearly the same probabilities for the same images
    (they differ only by PIL's resize against area averaging and uint8 rounding)."""
    subset = loader.dataset
    indices = np.asarray(subset.indices[:64])  # type: ignore[attr-defined]
    ours = score_pool(model, pool, indices=indices, device="cpu", progress=False).probs[:, :, 0]
    with torch.no_grad():
        model = model.to(memory_format=torch.contiguous_format)
        x = torch.stack([subset.dataset[i][0] for i in indices])  # type: ignore[attr-defined]
        theirs = torch.softmax(model(x), dim=1).numpy()
    gap = float(np.abs(ours - theirs).max())
    print(f"max probability gap, score_pool vs the naive pipeline on 64 images: {gap:.4f}")
    if gap > 0.1:
        raise SystemExit(f"score_pool and the naive baseline disagree (max gap {gap:.3f})")


def make_markdown(results: dict[str, Any]) -> str:
    machine = results["machine"]
    config = results["model_config"]
    load = (
        f"load average {machine['load_average'][0]:.1f} at the end of this run"
        if "load_average" in machine
        else "other agents' training jobs ran during this run"
    )
    lines = [
        f"# Pool scoring throughput ({machine['date']}, {machine['cpu_count']} CPUs, "
        f"torch {machine['torch']})",
        "",
        f"Model: {config['name']} width {config['width']} depth {config['depth']} stem stride "
        f"{config['stem_stride']}, input {config['image_size']} px (random weights: same "
        f"compute). Pool: SVRT problem {results['problem']} generated at "
        f"{results['source_image_size']} px. Best of {results['repeats']} interleaved runs in "
        "one process per thread count (on a busy machine, compare ratios, not absolute rates). "
        f"Target: {results['target_speedup']:.0f}x the naive baseline.",
        "",
        "With 2 threads every torch op waits for both; when other processes hold the cores "
        f"({load}) those waits stretch many times over, so on a busy machine the 1-thread "
        "rows are the reliable ones.",
        "",
        "| threads | variant | images | best (s) | img/s | x naive |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for row in results["rows"]:
        lines.append(
            f"| {row['threads']} | {row['variant']} | {row['n_images']} | "
            f"{row['best_seconds']:.2f} | "
            f"{row['images_per_second']:.0f} | {row['speedup_over_naive']:.1f} |"
        )
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
