"""The Ray engine against the local path on this machine: its start-up overhead, and 1 vs 2
Ray workers, for generation, pool scoring and a simulation sweep.

Each job runs locally (one process), then on a private Ray cluster of 1 CPU and of 2 CPUs,
in the same process; the cluster's start-up is timed apart from the job. Outputs are checked
equal to the local ones. Results go to ``bench/results/ray_engine.json`` and ``.md``.

    python bench/ray_engine.py
    python bench/ray_engine.py --n-generate 2048 --n-score 8192 --budget 40   # a smoke run
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from machine import describe_machine

from generators.registry import get_family
from labeler.data.dataset_writer import write_dataset
from labeler.data.labeled_data import LabeledData
from labeler.engines.base import LocalEngine
from labeler.learning.checkpoints import save_checkpoint
from labeler.learning.models import ModelConfig, make_model
from labeler.learning.scoring import score_pool
from labeler.learning.sharded_scoring import ScoringJob, score_pool_on_engine
from labeler.learning.training import TrainConfig
from labeler.loop.simulation import SimulationConfig, run_simulation
from labeler.selection.strategies import SelectionConfig

RESULTS = Path(__file__).parent / "results"


def hash_folder(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(folder)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def start_ray(n_cpus: int) -> float:
    import ray

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    started = time.perf_counter()
    ray.init(num_cpus=n_cpus, include_dashboard=False, log_to_driver=False)
    return time.perf_counter() - started


def main() -> int:
    import ray

    from labeler.engines.ray_engine import RayEngine

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-generate", type=int, default=8192, help="orientation images")
    parser.add_argument("--n-score", type=int, default=65536, help="images to score")
    parser.add_argument("--budget", type=int, default=80, help="simulation budget (labels)")
    parser.add_argument("--out", type=Path, default=RESULTS / "ray_engine")
    args = parser.parse_args()
    family = get_family("orientation")
    params = family.make_params("hv")
    results: dict[str, Any] = {"machine": describe_machine(), "config": {
        "n_generate": args.n_generate, "n_score": args.n_score, "budget": args.budget}}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="ray-bench-") as temp:
        root = Path(temp)
        splits = {"train": args.n_generate, "test": 64}
        # Warm the numba cache first, so that no variant pays for compiling.
        write_dataset(root / "warm", family, "hv", params, n_per_split={"train": 64, "test": 64},
                      seed=1)  # fmt: skip

        # A model and a packed array for scoring; a small labeled set for the sweep.
        torch_model = make_model(ModelConfig(), n_classes=2)
        checkpoint = root / "model.pt"
        save_checkpoint(checkpoint, torch_model, model_config=ModelConfig(), n_classes=2,
                        class_names=("h", "v"))  # fmt: skip
        rng = np.random.default_rng(0)
        pixels = rng.integers(0, 256, size=(args.n_score, 24, 24), dtype=np.uint8)
        np.save(root / "pool.npy", pixels)
        job = ScoringJob(checkpoint, root / "pool.npy", n_threads=1)
        rows = np.arange(args.n_score, dtype=np.int64)
        small = family.generate("hv", params, split="train", seed=0, start=0, count=800)
        test = family.generate("hv", params, split="test", seed=0, start=0, count=400)
        data = LabeledData(("horizontal", "vertical"), small.images, small.labels.astype(np.int64),
                           test.images, test.labels.astype(np.int64), "orientation")  # fmt: skip
        sim_config = SimulationConfig(
            strategies=("margin", "random"),
            n_seeds=2,
            initial=20,
            selection=SelectionConfig(query_size=20),
            budget=args.budget,
        )
        sim_model = ModelConfig(width=4, image_size=24)
        sim_train = TrainConfig(min_steps=100, max_epochs=5, device="cpu", n_threads=1)

        def run_jobs(engine: Any, name: str) -> dict[str, Any]:
            timings: dict[str, Any] = {}
            started = time.perf_counter()
            write_dataset(root / f"gen-{name}", family, "hv", params, n_per_split=splits, seed=0,
                          engine=engine)  # fmt: skip
            timings["generate_s"] = time.perf_counter() - started
            timings["generate_hash"] = hash_folder(root / f"gen-{name}")
            started = time.perf_counter()
            predictions = score_pool_on_engine(engine, job, rows)
            timings["score_s"] = time.perf_counter() - started
            timings["score_probs_sum"] = float(predictions.probs.astype(np.float64).sum())
            started = time.perf_counter()
            sweep = run_simulation(data, root / f"sim-{name}", config=sim_config,
                                   model_config=sim_model, train_config=sim_train,
                                   progress=False, engine=engine)  # fmt: skip
            timings["simulate_s"] = time.perf_counter() - started
            timings["simulate_points"] = [run["test_accuracy"] for run in sweep["runs"]]
            return timings

        print("local ...")
        results["local"] = run_jobs(LocalEngine(), "local")
        local_scores = score_pool(torch_model, pixels, n_threads=1, progress=False)
        results["local"]["score_probs_sum_direct"] = float(
            local_scores.probs.astype(np.float64).sum()
        )
        for n_cpus in (1, 2):
            print(f"ray, {n_cpus} CPU(s) ...")
            startup = start_ray(n_cpus)
            with RayEngine() as engine:
                entry = run_jobs(engine, f"ray{n_cpus}")
            ray.shutdown()
            entry["startup_s"] = startup
            entry["same_as_local"] = {
                "generate": entry["generate_hash"] == results["local"]["generate_hash"],
                "score": entry["score_probs_sum"] == results["local"]["score_probs_sum"],
                "simulate": entry["simulate_points"] == results["local"]["simulate_points"],
            }
            results[f"ray_{n_cpus}"] = entry
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    report = format_report(results, args)
    args.out.with_suffix(".md").write_text(report + "\n")
    print(report)
    return 0


def format_report(results: dict[str, Any], args: argparse.Namespace) -> str:
    local = results["local"]
    lines = [
        "# The Ray engine against the local path",
        "",
        f"{results['machine']['cpu_count']} cores, {results['machine']['date']}. "
        f"`python bench/ray_engine.py` ({args.n_generate} orientation images generated, "
        f"{args.n_score} images scored, a sweep of 2 strategies x 2 seeds to {args.budget} "
        "labels). Seconds; local is one process (one torch thread).",
        "",
        "| job | local | Ray 1 CPU | Ray 2 CPUs | 2 vs 1 CPU | equal to local |",
        "|---|---|---|---|---|---|",
    ]
    for key, name in (("generate_s", "generate"), ("score_s", "score"), ("simulate_s", "simulate")):
        one, two = results["ray_1"][key], results["ray_2"][key]
        same = all(results[f"ray_{n}"]["same_as_local"][name] for n in (1, 2))
        lines.append(f"| {name} | {local[key]:.1f} | {one:.1f} | {two:.1f} | x{one / two:.2f} | "
                     f"{'yes' if same else 'NO'} |")  # fmt: skip
    lines += [
        "",
        f"Cluster start-up (not in the figures above): {results['ray_1']['startup_s']:.1f} s "
        f"with 1 CPU, {results['ray_2']['startup_s']:.1f} s with 2.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
