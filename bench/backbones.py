"""Round time with a pretrained backbone: frozen (features cached) against fine-tuning.

On a project of ``--n-pool`` synthetic colour photos (``bench/colour_folder.py``) at 64 px with
``--n-labels`` oracle labels, times three rounds of ``--backbone`` on one torch thread:

1. frozen, first round: computes every image's features into ``PROJECT/features/``, then trains
   the head and scores the pool from them;
2. frozen, a later round (``--query-size`` more labels): reuses the cached features;
3. fine-tuned: trains the whole network from the weights, scores the pool through it.

No real ImageNet weights can be downloaded here: a file of a randomly initialised torchvision
backbone stands in for them in a private ``TORCH_HOME``. Its timings are those of real weights
(same shapes, same arithmetic); its accuracies mean nothing and are not reported.

    python bench/backbones.py --n-pool 10000
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
import torchvision.models

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.colour_folder import write_folder
from bench.machine import describe_machine
from labeler.cli import main as labeler_main
from labeler.learning.backbones import BackboneConfig, get_cache_path
from labeler.learning.models import ModelConfig
from labeler.learning.training import TrainConfig
from labeler.loop.rounds import RoundConfig, run_round
from labeler.selection.strategies import SelectionConfig
from labeler.store.project import open_project
from labeler.store.project_files import RoundFolder

RESULTS = Path(__file__).resolve().parent / "results"


def run_cli(*args: str | Path) -> None:
    code = labeler_main([str(arg) for arg in args])
    if code != 0:
        raise SystemExit(f"labeler {' '.join(map(str, args))} failed with exit code {code}")


def time_round(project_path: Path, config: RoundConfig) -> dict[str, Any]:
    """Run one round; its wall time and what its report says of training and features."""
    with open_project(project_path) as project:
        started = time.perf_counter()
        summary = run_round(project, config=config, progress=False)
        seconds = time.perf_counter() - started
        report = RoundFolder(project.path / summary.folder).read_report() or {}
    return {
        "seconds": round(seconds, 2),
        "n_labels": summary.n_labels,
        "n_scored": summary.n_scored,
        "feature_seconds": round(report.get("backbone", {}).get("feature_seconds", 0.0), 2),
        "train_seconds": round(report["train_seconds"], 2),
        "n_epochs": report["n_epochs"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backbone", default="resnet18")
    parser.add_argument("--n-pool", type=int, default=10000)
    parser.add_argument("--n-test", type=int, default=200)
    parser.add_argument("--n-labels", type=int, default=400)
    parser.add_argument("--query-size", type=int, default=50)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--work", type=Path, default=None, help="folder for the photos (kept)")
    args = parser.parse_args()
    torch.set_num_threads(1)

    work = args.work or Path(tempfile.mkdtemp(prefix="bench-backbones-"))
    photos = write_folder(work / "photos", n_train=args.n_pool, n_test=args.n_test)
    os.environ["TORCH_HOME"] = str(work / "torch-home")
    weights = get_cache_path(args.backbone)
    weights.parent.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    torch.save(getattr(torchvision.models, args.backbone)(weights=None).state_dict(), weights)

    project = work / "project"
    started = time.perf_counter()
    run_cli("init", project, "--images", photos, "--image-size", args.image_size)
    init_seconds = time.perf_counter() - started
    run_cli("round", project, "--initial", args.n_labels)
    run_cli("oracle", project)

    train = TrainConfig(device="cpu", n_threads=1)
    model = ModelConfig(
        name=f"{args.backbone}-pretrained", image_size=args.image_size, in_channels=3
    )
    selection = SelectionConfig("margin", query_size=args.query_size)

    def config(mode: str) -> RoundConfig:
        return RoundConfig(
            selection=selection, model=model, train=train, backbone=BackboneConfig(mode=mode)
        )

    rows = {"frozen, first round (computes the cache)": time_round(project, config("frozen"))}
    run_cli("oracle", project)
    rows["frozen, later round (reuses the cache)"] = time_round(project, config("frozen"))
    rows["fine-tuned"] = time_round(project, config("finetune"))

    command = "python bench/backbones.py " + " ".join(sys.argv[1:])
    result = {
        "command": command.strip(),
        "machine": describe_machine(),
        "backbone": args.backbone,
        "n_pool": args.n_pool,
        "image_size": args.image_size,
        "init_seconds": round(init_seconds, 1),
        "rounds": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "backbones.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        f"# Rounds on a pretrained {args.backbone}: frozen features against fine-tuning",
        "",
        f"{result['machine']['date']}, {result['machine']['cpu_count']} cores, one torch thread. "
        f"`{result['command']}`: {args.n_pool:,} synthetic colour photos "
        f"(`bench/colour_folder.py`) at {args.image_size} px, {args.n_labels} labels, then "
        f"{args.query_size} more; default training schedule; margin selection. A file of "
        "random weights stands in for the ImageNet weights (none can be downloaded here): "
        "the times are those of real weights, accuracies are not reported.",
        "",
        "| round | labels | scored | seconds | of which features | training | epochs |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, row in rows.items():
        lines.append(
            f"| {name} | {row['n_labels']} | {row['n_scored']} | {row['seconds']} | "
            f"{row['feature_seconds']} | {row['train_seconds']} | {row['n_epochs']} |"
        )
    lines += ["", f"Project init (decoding and packing the photos): {init_seconds:.1f} s."]
    (RESULTS / "backbones.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
