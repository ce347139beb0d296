"""Selection speed on a pool of 1,000,000 scores: ``top_k`` and ``diverse_top_k`` against the
naive ``np.argsort(-scores)[:k]``, best of ``--repeats`` runs each, in one process.

Features for ``diverse_top_k`` are a full ``[n_pool, 64]`` float32 array (256 MB at 1M), as a
real pool would give; the function only reads the rows of its ``pool_factor * k`` candidates.
Results go to ``bench/results/selection.json``.

    python bench/selection.py
    python bench/selection.py --n-pool 100000 --repeats 3   # a smoke run
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as is

from bench.machine import describe_machine
from labeler.selection.selectors import diverse_top_k, top_k

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-pool", type=int, default=1_000_000)
    parser.add_argument("--query-size", type=int, default=50)
    parser.add_argument("--n-features", type=int, default=64)
    parser.add_argument("--pool-factor", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    scores = rng.random(args.n_pool)
    features = rng.standard_normal((args.n_pool, args.n_features), dtype=np.float32)
    k = args.query_size

    naive = np.argsort(-scores)[:k]
    # Continuous random scores have no ties, so the naive order is the exact answer.
    if not np.array_equal(top_k(scores, k), naive):
        raise SystemExit("top_k disagrees with the naive argsort")

    timings = {
        "naive_argsort": best_time(lambda: np.argsort(-scores)[:k], args.repeats),
        "top_k": best_time(lambda: top_k(scores, k), args.repeats),
        "diverse_top_k": best_time(
            lambda: diverse_top_k(scores, features, k, pool_factor=args.pool_factor),
            args.repeats,
        ),
    }
    results = {
        "machine": describe_machine(),
        "n_pool": args.n_pool,
        "query_size": k,
        "n_features": args.n_features,
        "pool_factor": args.pool_factor,
        "repeats": args.repeats,
        "best_seconds": timings,
        "speedup_over_naive": {
            name: timings["naive_argsort"] / seconds
            for name, seconds in timings.items()
            if name != "naive_argsort"
        },
    }
    print(f"pool of {args.n_pool:,} scores, query size {k}, best of {args.repeats}:")
    for name, seconds in timings.items():
        ratio = timings["naive_argsort"] / seconds
        print(f"  {name:14s} {seconds * 1000:8.2f} ms   {ratio:6.2f}x the naive argsort")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "selection.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {path}")
    return 0


def best_time(fn: Callable[[], Any], repeats: int) -> float:
    """Seconds of the fastest of ``repeats`` calls (the least disturbed by other processes)."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


if __name__ == "__main__":
    sys.exit(main())
