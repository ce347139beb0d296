"""Pruning on our data: conflicting bundles, block lesions, greedy layer pruning against fixed
rules, the trimmed model's pool-scoring speed, and auto-tune of a deep plain network.

Per problem (SVRT 11 and the orientation problem with held-out object families, both at the
project's default input size): a residual network of ``--depth`` blocks per stage (3 stages,
``3 * depth - 2`` removable blocks) is trained on ``--n-train`` labels with the default
schedule, then

1. its bundles are measured on 1,024 training samples (which blocks conflict);
2. the lesion study switches off k blocks at test time (15 random sets per k) from the
   conflicting, non-conflicting and all blocks;
3. greedy layer pruning removes blocks while the selection accuracy (15% of the training
   labels) stays within ``--max-drop`` of the unpruned model's; its test accuracy is followed
   after every removal (for the report only: nothing is chosen on it);
4. the fixed rules (last k, random k, most conflicting k, one-shot lesion ranking) cut the
   same number of blocks at once and get as many fine-tuning steps as greedy's path had;
5. the trimmed model and the full one score the pool side by side (``score_pool``, one
   thread, best of 3 interleaved runs).

Auto-tune starts from a plain network of ``--autotune-depth`` blocks per stage on SVRT 11 with
``--autotune-n-train`` labels, over ``--autotune-seeds``, against the same plain network and a
residual one of that depth trained to the end.

    python bench/pruning.py             # everything, about an hour on 2 busy cores
    python bench/pruning.py --smoke     # a quick run of every step on tiny settings
"""

from __future__ import annotations

import argparse
import dataclasses
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
from bench.scoring import shrink
from labeler.cli import main as labeler_main
from labeler.data.dataset_format import load_split
from labeler.learning.models import DEFAULT_IMAGE_SIZE, Classifier, ModelConfig, count_parameters
from labeler.learning.training import TrainConfig, evaluate_accuracy, train_model
from labeler.pruning import plots
from labeler.pruning.analysis import analyze_model, pick_samples
from labeler.pruning.autotune import AutotuneConfig, run_autotune
from labeler.pruning.baselines import compare_rules
from labeler.pruning.fine_tuning import FineTuneConfig
from labeler.pruning.greedy import GreedyStep, PruneTarget, run_greedy_pruning
from labeler.pruning.lesion import run_lesion_study
from labeler.pruning.speed import measure_scoring_speed
from labeler.pruning.surgery import list_blocks

RESULTS = Path(__file__).resolve().parent / "results"
PROBLEMS = {
    "svrt-11": ["svrt", "--problem", "11"],
    "orientation": ["orientation", "--holdout-families", "arrow,letter"],
}
TARGET_REMOVED_SHARE = 0.5
TARGET_MAX_LOSS = 0.01
TARGET_SPEEDUP = 1.8


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default=",".join(PROBLEMS))
    parser.add_argument("--n-train", type=int, default=3000)
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--depth", type=int, default=5)
    parser.add_argument("--width", type=int, default=8)
    parser.add_argument("--image-size", type=int, default=DEFAULT_IMAGE_SIZE)
    parser.add_argument("--max-drop", type=float, default=0.01)
    parser.add_argument("--fine-tune-steps", type=int, default=FineTuneConfig().n_steps)
    parser.add_argument("--n-draws", type=int, default=15)
    parser.add_argument("--autotune-depth", type=int, default=10)
    parser.add_argument("--autotune-n-train", type=int, default=1500)
    parser.add_argument("--autotune-seeds", default="0,1,2")
    parser.add_argument("--skip-autotune", action="store_true")
    parser.add_argument(
        "--only-autotune",
        action="store_true",
        help="run auto-tune alone and replace its part of the saved results",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="tiny settings, to check it runs")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--markdown-only", action="store_true")
    args = parser.parse_args(argv)
    if args.markdown_only:
        name = "pruning-smoke" if args.smoke else "pruning"
        saved = json.loads((args.out / f"{name}.json").read_text())
        (args.out / f"{name}.md").write_text(make_markdown(saved))
        return 0
    if args.smoke:
        args.n_train, args.n_test, args.depth, args.n_draws = 300, 200, 2, 2
        args.fine_tune_steps, args.autotune_depth, args.autotune_n_train = 5, 3, 200
        args.autotune_seeds = "0"
    torch.set_num_threads(1)  # several benchmarks may share the 2 cores; ratios stay fair
    plot_dir = args.out / ("pruning-smoke" if args.smoke else "pruning")
    plot_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "machine": describe_machine(),
        "settings": vars(args) | {"out": str(args.out)},
        "problems": {},
    }
    if args.only_autotune:
        name = "pruning-smoke" if args.smoke else "pruning"
        saved = json.loads((args.out / f"{name}.json").read_text())
        results["problems"] = saved["problems"]
        results["problems_machine"] = saved.get("problems_machine", saved["machine"])
        # The first run used an earlier rule (a conflict at every check restarts): keep it.
        if "autotune_every_check_rule" in saved or "autotune" in saved:
            results["autotune_every_check_rule"] = saved.get(
                "autotune_every_check_rule", saved.get("autotune")
            )
        args.problems = ""
    with tempfile.TemporaryDirectory() as temp:
        for name in filter(None, args.problems.split(",")):
            data = make_data(name, Path(temp), args)
            results["problems"][name] = run_problem(name, data, args, plot_dir)
            save(results, args)
        if not args.skip_autotune:
            data = make_data("svrt-11", Path(temp), args)
            results["autotune"] = run_autotune_bench(data, args)
            save(results, args)
    results["machine_at_end"] = describe_machine()
    save(results, args)
    print(make_markdown(results))
    return 0


def save(results: dict[str, Any], args: argparse.Namespace) -> None:
    name = "pruning-smoke" if args.smoke else "pruning"
    (args.out / f"{name}.json").write_text(json.dumps(results, indent=2))
    (args.out / f"{name}.md").write_text(make_markdown(results))


def make_data(name: str, temp: Path, args: argparse.Namespace) -> dict[str, np.ndarray]:
    """The problem's train and test images at the input size, as a project stores them."""
    folder = temp / name
    if not folder.exists():
        command = [
            "generate",
            *PROBLEMS[name],
            "--n-train",
            str(args.n_train),
            "--n-test",
            str(args.n_test),
            "--seed",
            str(args.seed),
            "--out",
            str(folder),
        ]
        if labeler_main(command) != 0:
            raise SystemExit(f"generating {name} failed")
    train_x, train_y = load_split(folder, "train", mmap=False)
    test_x, test_y = load_split(folder, "test", mmap=False)
    return {
        "train_x": shrink(np.asarray(train_x), args.image_size),
        "train_y": np.asarray(train_y),
        "test_x": shrink(np.asarray(test_x), args.image_size),
        "test_y": np.asarray(test_y),
    }


def run_problem(
    name: str, data: dict[str, np.ndarray], args: argparse.Namespace, plot_dir: Path
) -> dict[str, Any]:
    print(f"== {name}", flush=True)
    train_x, train_y, test_x, test_y = (
        data["train_x"],
        data["train_y"],
        data["test_x"],
        data["test_y"],
    )
    config = ModelConfig(
        name="resnet", depth=args.depth, width=args.width, image_size=args.image_size
    )
    train_config = TrainConfig(seed=args.seed, n_threads=1, device="cpu")
    trained = train_model(
        train_x, train_y, n_classes=2, model_config=config, train_config=train_config
    )
    model = trained.model

    def test_accuracy(candidate: Classifier) -> float:
        return evaluate_accuracy(candidate, test_x, test_y, device="cpu")

    intact = test_accuracy(model)
    print(f"trained in {trained.seconds:.0f} s, test accuracy {intact:.4f}", flush=True)

    picked = pick_samples(train_y, n_samples=1024, seed=args.seed)
    analysis = analyze_model(
        model,
        train_x[picked],
        train_y[picked],
        lr=train_config.lr,
        batch_size=train_config.batch_size,
    )
    started = time.perf_counter()
    _, points = run_lesion_study(
        model,
        test_x,
        test_y,
        conflicting=set(analysis.conflicting_blocks),
        n_draws=args.n_draws,
        rng=np.random.default_rng(args.seed),
    )
    lesion_seconds = time.perf_counter() - started
    plots.plot_lesions(
        intact,
        points,
        plot_dir / f"{name}-lesion.png",
        title=f"{name}: lesions, resnet depth {args.depth}",
    )

    fine_tune_config = FineTuneConfig(
        n_steps=args.fine_tune_steps, seed=args.seed, n_threads=1, device="cpu"
    )
    followed: list[dict[str, Any]] = []

    def follow(step: GreedyStep, pruned: Classifier) -> None:
        followed.append(
            {
                "removed": step.removed,
                "selection_accuracy": step.selection_accuracy,
                "test_accuracy": test_accuracy(pruned),
            }
        )
        print(
            f"  greedy removed {step.removed}: selection {step.selection_accuracy:.4f}, "
            f"test {followed[-1]['test_accuracy']:.4f}",
            flush=True,
        )

    greedy = run_greedy_pruning(
        model,
        train_x,
        train_y,
        n_classes=2,
        target=PruneTarget(max_drop=args.max_drop),
        fine_tune_config=fine_tune_config,
        seed=args.seed,
        on_step=follow,
    )
    k = len(greedy.removed)
    n_steps = args.fine_tune_steps * max(k, 1)
    started = time.perf_counter()
    comparison: list[dict[str, Any]] = [
        {"rule": "greedy", "removed": greedy.removed, "test_accuracy": test_accuracy(greedy.model)}
    ]
    if k:
        comparison += compare_rules(
            model,
            train_x,
            train_y,
            n_classes=2,
            split=(greedy.fine_tune_ids, greedy.selection_ids),
            k=k,
            fine_tune_config=fine_tune_config,
            n_steps=n_steps,
            n_random=3,
            n_samples=1024,
            train_config=train_config,
            seed=args.seed,
            evaluate=test_accuracy,
        )
    comparison_seconds = time.perf_counter() - started
    speed = measure_scoring_speed({"full": model, "pruned": greedy.model}, train_x, repeats=3)
    n_blocks = len(list_blocks(model))
    pruned_accuracy = float(comparison[0]["test_accuracy"])
    report = {
        "model_config": config.to_dict(),
        "n_blocks": n_blocks,
        "n_removable": greedy.n_removable,
        "train_seconds": trained.seconds,
        "intact_test_accuracy": intact,
        "conflicting_blocks": analysis.conflicting_blocks,
        "conflicting_layers": analysis.conflicting_layers,
        "layers": {layer: stats.to_dict() for layer, stats in analysis.layers.items()},
        "lesion": [point.to_dict() for point in points],
        "lesion_seconds": lesion_seconds,
        "lesion_blocks_within_1pt": blocks_within(points, intact),
        "greedy": greedy.to_dict(),
        "greedy_followed": followed,
        "greedy_blocks_within_1pt_test": greedy_blocks_within(followed, intact),
        "comparison": comparison,
        "comparison_fine_tune_steps": n_steps,
        "comparison_seconds": comparison_seconds,
        "scoring_images_per_second": speed,
        "scoring_speedup": speed["pruned"] / speed["full"],
        "pruned_test_accuracy": pruned_accuracy,
        "pruned_parameters": count_parameters(greedy.model),
        "full_parameters": count_parameters(model),
        "unpruned_test_accuracy": intact,
    }
    report["targets"] = {
        "removed_share": k / n_blocks,
        "removed_share_met": k / n_blocks >= TARGET_REMOVED_SHARE,
        "accuracy_loss": intact - pruned_accuracy,
        "accuracy_loss_met": intact - pruned_accuracy <= TARGET_MAX_LOSS + 1e-12,
        "speedup_met": report["scoring_speedup"] >= TARGET_SPEEDUP,
    }
    plots.plot_greedy(report, plot_dir / f"{name}-greedy.png", title=f"{name}: greedy pruning")
    return report


def blocks_within(points: list[Any], intact: float) -> int:
    """Largest k whose mean accuracy over random sets of all blocks stays within 1 point."""
    ok = [p.k for p in points if p.group == "all" and p.mean_accuracy >= intact - TARGET_MAX_LOSS]
    best = 0
    for k in sorted(ok):
        if k == best + 1:
            best = k
    return best


def greedy_blocks_within(followed: list[dict[str, Any]], intact: float) -> int:
    best = 0
    for count, row in enumerate(followed, start=1):
        if row["test_accuracy"] >= intact - TARGET_MAX_LOSS:
            best = count
        else:
            break
    return best


def run_autotune_bench(data: dict[str, np.ndarray], args: argparse.Namespace) -> dict[str, Any]:
    print("== auto-tune", flush=True)
    n = args.autotune_n_train
    train_x, train_y = data["train_x"][:n], data["train_y"][:n]
    test_x, test_y = data["test_x"], data["test_y"]
    start = ModelConfig(
        name="plain", depth=args.autotune_depth, width=args.width, image_size=args.image_size
    )
    runs = []
    for seed in (int(part) for part in args.autotune_seeds.split(",")):
        train_config = TrainConfig(seed=seed, n_threads=1, device="cpu")
        started = time.perf_counter()
        tuned = run_autotune(
            train_x,
            train_y,
            n_classes=2,
            start=start,
            train_config=train_config,
            config=AutotuneConfig(),
        )
        seconds = time.perf_counter() - started
        networks: dict[str, Classifier] = {"autotuned": tuned.model}
        for label, config in (
            ("start", start),
            ("residual", dataclasses.replace(start, name="resnet")),
        ):
            networks[label] = train_model(
                train_x, train_y, n_classes=2, model_config=config, train_config=train_config
            ).model
        speed = measure_scoring_speed(networks, test_x, repeats=2)
        rows = {
            label: {
                "stage_depths": list(network.config.get_stage_depths()),
                "n_parameters": count_parameters(network),
                "test_accuracy": evaluate_accuracy(network, test_x, test_y, device="cpu"),
                "images_per_second": speed[label],
            }
            for label, network in networks.items()
        }
        runs.append(
            {
                "seed": seed,
                "n_restarts": tuned.n_restarts,
                "converged": tuned.converged,
                "seconds": seconds,
                "attempts": [a.to_dict() for a in tuned.attempts],
                "networks": rows,
            }
        )
        print(
            f"  seed {seed}: {tuned.n_restarts} restarts -> {rows['autotuned']['stage_depths']}, "
            f"test {rows['autotuned']['test_accuracy']:.3f} (start "
            f"{rows['start']['test_accuracy']:.3f}, residual "
            f"{rows['residual']['test_accuracy']:.3f})",
            flush=True,
        )
    return {"start_config": start.to_dict(), "n_train": n, "runs": runs}


def make_markdown(results: dict[str, Any]) -> str:
    machine = results["machine"]
    settings = results["settings"]
    lines = [
        f"# Pruning on our data ({machine['date']}, {machine['cpu_count']} CPUs, "
        f"torch {machine.get('torch', '?')})",
        "",
        f"Residual network: depth {settings['depth']} per stage (3 stages), width "
        f"{settings['width']}, {settings['image_size']} px input, trained on "
        f"{settings['n_train']} labels with the default schedule (one torch thread); test "
        f"accuracy on {settings['n_test']} test images. Greedy pruning: max drop "
        f"{settings['max_drop']} on the selection part (15% of the labels), "
        f"{settings['fine_tune_steps']} fine-tuning steps per candidate. Load average at the "
        f"start {machine['load_average'][0]:.1f}."
        + (
            f" The problems were measured on {results['problems_machine']['date']}, auto-tune "
            "in a later run."
            if "problems_machine" in results
            else ""
        ),
        "",
        "| problem | blocks | test acc | conflicting blocks | lesion: k within 1 pt "
        "| greedy removed "
        "| greedy: k within 1 pt (test) | pruned test acc | loss (pt) | fine-tunes | search (s) "
        "| scoring img/s full | pruned | speedup |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in results["problems"].items():
        greedy = row["greedy"]
        speed = row["scoring_images_per_second"]
        lines.append(
            f"| {name} | {row['n_blocks']} | {row['intact_test_accuracy']:.4f} | "
            f"{len(row['conflicting_blocks'])} | {row['lesion_blocks_within_1pt']} | "
            f"{greedy['n_removed']} | {row['greedy_blocks_within_1pt_test']} | "
            f"{row['pruned_test_accuracy']:.4f} | "
            f"{100 * (row['intact_test_accuracy'] - row['pruned_test_accuracy']):.1f} | "
            f"{greedy['n_fine_tunes']} | {greedy['seconds']:.0f} | {speed['full']:.0f} | "
            f"{speed['pruned']:.0f} | {row['scoring_speedup']:.2f}x |"
        )
    lines += [
        "",
        "Targets (at least 50% of the blocks removed, at most 1 point of test accuracy "
        "lost, pool scoring at least 1.8x faster):",
        "",
    ]
    for name, row in results["problems"].items():
        t = row["targets"]
        lines.append(
            f"- {name}: removed {100 * t['removed_share']:.0f}% "
            f"({'met' if t['removed_share_met'] else 'NOT met'}), lost "
            f"{100 * t['accuracy_loss']:.1f} pt "
            f"({'met' if t['accuracy_loss_met'] else 'NOT met'}), "
            f"{row['scoring_speedup']:.2f}x ({'met' if t['speedup_met'] else 'NOT met'})"
        )
    lines += [
        "",
        "Greedy pruning against fixed rules at the same number of blocks (cut at once, "
        "then fine-tuned for as many steps as greedy's path had), test accuracy:",
        "",
    ]
    rules = max((row["comparison"] for row in results["problems"].values()), key=len)
    names = [rule["rule"] for rule in rules]
    lines += ["| problem | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for name, row in results["problems"].items():
        found = {rule["rule"]: rule["test_accuracy"] for rule in row["comparison"]}
        cells = [f"{found[rule]:.4f}" if rule in found else "-" for rule in names]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "Greedy removal order (test accuracy after each removal and fine-tune):", ""]
    for name, row in results["problems"].items():
        order = ", ".join(
            f"{r['removed']} ({r['test_accuracy']:.3f})" for r in row["greedy_followed"]
        )
        lines.append(
            f"- {name}: {order or 'nothing removed'}; stopped: {row['greedy']['stopped_because']}"
        )
    if "autotune" in results:
        auto = results["autotune"]
        start = auto["start_config"]
        lines += [
            "",
            f"Auto-tune from a plain network of depth {start['depth']} per stage on "
            f"SVRT 11 ({auto['n_train']} labels):",
            "",
            "| seed | restarts | converged | final depths | params | test acc | img/s | "
            "start: test acc | img/s | residual: test acc | img/s |",
            "|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for run in auto["runs"]:
            n = run["networks"]
            lines.append(
                f"| {run['seed']} | {run['n_restarts']} | {run['converged']} | "
                f"{n['autotuned']['stage_depths']} | {n['autotuned']['n_parameters']:,} | "
                + " | ".join(
                    f"{n[key]['test_accuracy']:.3f} | {n[key]['images_per_second']:.0f}"
                    for key in ("autotuned", "start", "residual")
                )
                + " |"
            )
        lines.append("")
        earlier = results.get("autotune_every_check_rule")
        if earlier:
            lines += [
                "With the earlier rule (restart only when the logits conflict at every check "
                "of the window), the same seeds gave:",
                "",
            ]
            for run in earlier["runs"]:
                n = run["networks"]["autotuned"]
                lines.append(
                    f"- seed {run['seed']}: {run['n_restarts']} restart(s), depths "
                    f"{n['stage_depths']}, test accuracy {n['test_accuracy']:.3f}"
                )
            lines.append("")
        for run in auto["runs"]:
            rules = "; ".join(
                f"{a['stage_depths']}: {a['cut_rule'] or 'kept'}" for a in run["attempts"]
            )
            lines.append(f"- seed {run['seed']}: {rules}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
