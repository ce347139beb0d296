"""Speed of bundle entropy on CPU: ``compute_bundle_entropy`` on 10,000 samples of one layer
(target: under 1 s), against sorting the rows exactly (``torch.unique(dim=0)``) and the
spec's pairwise loop (on fewer samples: it is quadratic), in one process, one torch thread.

Layers: the stage-1 output of the pruning benchmark's network (8 channels at 24 x 24 = 4,608
values per sample) with every row distinct, and the same shape collapsed into 16 bundles (the
conflicting case: rows repeat, so comparisons run to the end of each row).

    python bench/bundle_entropy.py
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as is

from bench.machine import describe_machine
from labeler.pruning.bundles import compute_bundle_entropy, get_update_rows

RESULTS = Path(__file__).resolve().parent / "results"
LR, BATCH, W_MAX = 3e-3, 64, 1.5
TARGET_SECONDS = 1.0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--n-pairwise", type=int, default=1_000, help="samples for the loop")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    generator = torch.Generator().manual_seed(0)
    n = args.n_samples
    labels = np.arange(n) % 2
    distinct = torch.relu(torch.randn(n, 8, 24, 24, generator=generator))
    collapsed = torch.relu(torch.randn(16, 8, 24, 24, generator=generator))[
        torch.randint(0, 16, (n,), generator=generator)
    ]
    results: dict[str, Any] = {"machine": describe_machine(), "n_samples": n, "cases": {}}
    for name, activations in (("distinct", distinct), ("collapsed", collapsed)):
        ours = best_of(args.repeats, partial(entropy, activations, labels))
        exact = best_of(args.repeats, partial(sort_rows, activations))
        small = activations[: args.n_pairwise]
        small_labels = labels[: args.n_pairwise]
        loop = best_of(1, partial(pairwise_loop, small))
        ours_small = best_of(args.repeats, partial(entropy, small, small_labels))
        results["cases"][name] = {
            "n_bundles": compute_bundle_entropy(
                activations, labels, lr=LR, batch_size=BATCH, w_max=W_MAX
            ).n_bundles,
            "seconds": ours,
            "sort_seconds": exact,
            "pairwise_samples": args.n_pairwise,
            "pairwise_seconds": loop,
            "ours_on_pairwise_samples_seconds": ours_small,
            "speedup_vs_pairwise": loop / ours_small,
            "target_met": ours < TARGET_SECONDS,
        }
        print(name, results["cases"][name], flush=True)
    results["machine_at_end"] = describe_machine()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bundle_entropy.json").write_text(json.dumps(results, indent=2))
    (args.out / "bundle_entropy.md").write_text(make_markdown(results))
    print(make_markdown(results))
    return 0


def entropy(activations: torch.Tensor, labels: np.ndarray) -> None:
    compute_bundle_entropy(activations, labels, lr=LR, batch_size=BATCH, w_max=W_MAX)


def sort_rows(activations: torch.Tensor) -> None:
    rows = get_update_rows(activations, w_max=W_MAX, lr=LR, batch_size=BATCH)
    torch.unique(rows, dim=0, return_inverse=True)


def pairwise_loop(activations: torch.Tensor) -> None:
    """The definition as written: compare every pair of rows (numpy float32)."""
    z = get_update_rows(activations, w_max=W_MAX, lr=LR, batch_size=BATCH).numpy()
    assigned = np.full(len(z), -1)
    for i in range(len(z)):
        if assigned[i] < 0:
            assigned[i] = i
            for j in range(i + 1, len(z)):
                if assigned[j] < 0 and np.array_equal(z[i], z[j]):
                    assigned[j] = i


def best_of(repeats: int, run: Callable[[], None]) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def make_markdown(results: dict[str, Any]) -> str:
    machine = results["machine"]
    lines = [
        f"# Bundle entropy speed ({machine['date']}, {machine['cpu_count']} CPUs, one torch "
        f"thread, load average {machine['load_average'][0]:.1f} at the start, "
        f"{results['machine_at_end']['load_average'][0]:.1f} at the end)",
        "",
        f"{results['n_samples']:,} samples of one layer (8 x 24 x 24 = 4,608 values each), best "
        "of 5. Target: under 1 s.",
        "",
        "| rows | bundles | ours (s) | target | exact sort (s) | pairwise loop: samples | loop (s) "
        "| ours on those (s) | speedup |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for name, case in results["cases"].items():
        lines.append(
            f"| {name} | {case['n_bundles']:,} | {case['seconds']:.3f} | "
            f"{'met' if case['target_met'] else 'NOT met'} | {case['sort_seconds']:.3f} | "
            f"{case['pairwise_samples']:,} | {case['pairwise_seconds']:.2f} | "
            f"{case['ours_on_pairwise_samples_seconds']:.4f} | "
            f"{case['speedup_vs_pairwise']:.0f}x |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
