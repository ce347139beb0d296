"""``labeler prune analyze|autotune|lesion|greedy|apply``: conflicting bundles, auto-tuned
depth, block lesions, greedy layer pruning, and the trimmed model rounds can score with.

Every subcommand but ``apply`` takes a project (its current labels train, its test split
measures) or a dataset folder (train and test splits), and writes ``NAME.json`` and its plots
into ``--out`` (default ``PATH/pruning``).
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from labeler.api.options import get_train_config
from labeler.commands.model_options import add_model_arguments
from labeler.commands.prune_inputs import (
    PruningData,
    SourceModel,
    get_model,
    get_out_folder,
    get_pruning_model_config,
    load_pruning_data,
    write_report,
)
from labeler.learning.checkpoints import load_checkpoint
from labeler.learning.models import Classifier, count_parameters, make_model
from labeler.learning.training import evaluate_accuracy, train_model
from labeler.pruning import plots
from labeler.pruning.analysis import (
    DEFAULT_N_SAMPLES,
    Analysis,
    analyze_model,
    analyze_training,
    pick_samples,
)
from labeler.pruning.autotune import AutotuneConfig, run_autotune
from labeler.pruning.baselines import compare_rules
from labeler.pruning.fine_tuning import FineTuneConfig
from labeler.pruning.greedy import PruneTarget, check_target, run_greedy_pruning
from labeler.pruning.layer_outputs import check_layer_names
from labeler.pruning.lesion import run_lesion_study
from labeler.pruning.speed import measure_scoring_speed
from labeler.pruning.surgery import list_blocks
from labeler.pruning.trimmed_model import load_pruning_plan, save_pruned_model
from labeler.store.project import is_project
from labeler.store.project_files import get_pruned_checkpoint, get_pruning_folder

GREEDY_MODEL_FILE = "greedy-model.pt"
# Residual networks deep enough that pruning means something: 13 removable blocks of 15.
DEFAULT_PRUNING_DEPTH = 5
DEFAULT_AUTOTUNE_DEPTH = 10
SPEED_IMAGES = 2000


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "prune",
        help="pruning analysis: conflicting bundles, auto-tune, lesions, greedy pruning",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(title="pruning commands", metavar="COMMAND", required=True)

    analyze = _add_command(commands, "analyze", "bundle entropy of every layer, per epoch")
    analyze.add_argument("--layers", help="comma-separated layers to report (default: all)")
    analyze.set_defaults(run=run_analyze)

    autotune = _add_command(
        commands, "autotune", "find a trainable depth for a deep plain network", round_option=False
    )
    autotune.add_argument("--seeds", default="0,1,2", help="training seeds (default 0,1,2)")
    autotune.add_argument(
        "--check-epochs",
        type=int,
        default=AutotuneConfig().check_epochs,
        help="logits that still conflict after N epochs restart the search (default %(default)s)",
    )
    autotune.add_argument("--max-restarts", type=int, default=AutotuneConfig().max_restarts)
    # Auto-tune measures the last layer after every check epoch: fewer samples than analyze.
    autotune.set_defaults(
        run=run_autotune_command,
        model="plain",
        depth=DEFAULT_AUTOTUNE_DEPTH,
        n_samples=AutotuneConfig().n_check_samples,
    )

    lesion = _add_command(commands, "lesion", "accuracy as blocks are switched off")
    lesion.add_argument("--n-draws", type=int, default=15, help="random sets per size (15)")
    lesion.add_argument("--max-k", type=int, default=None, help="largest set size (all)")
    lesion.set_defaults(run=run_lesion)

    greedy = _add_command(commands, "greedy", "greedy layer pruning against fixed rules")
    target = greedy.add_mutually_exclusive_group(required=True)
    target.add_argument("--max-drop", type=float, help="accuracy drop allowed, e.g. 0.01")
    target.add_argument("--blocks", type=int, help="number of blocks to remove")
    greedy.add_argument("--fine-tune-steps", type=int, default=FineTuneConfig().n_steps)
    greedy.add_argument("--fine-tune-lr", type=float, default=FineTuneConfig().lr)
    greedy.add_argument("--n-random", type=int, default=3, help="random-k draws (default 3)")
    greedy.set_defaults(run=run_greedy)

    apply = commands.add_parser(
        "apply",
        help="make the greedy-pruned model the one `round --scoring-model pruned` uses",
        description=(
            "Copy the model that `prune greedy` wrote to PROJECT/pruning/pruned.pt, where "
            "`labeler round PROJECT --scoring-model pruned` finds it: the round then trains "
            "as usual, cuts the same blocks from its model, fine-tunes briefly and scores the "
            "pool with the trimmed network."
        ),
    )
    apply.add_argument("path", help="project folder")
    apply.add_argument(
        "--from",
        dest="source",
        help=f"pruned checkpoint (default PROJECT/pruning/{GREEDY_MODEL_FILE})",
    )
    apply.set_defaults(run=run_apply)


def _add_command(
    commands: Any, name: str, summary: str, *, round_option: bool = True
) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=summary, description=summary)
    parser.add_argument("path", help="project folder or dataset folder")
    if round_option:
        parser.add_argument(
            "--round",
            help="use this trained round's model (a number or 'last'); default: train one "
            "here with the model flags",
        )
    parser.add_argument("--out", help="folder for the report and plots (default PATH/pruning)")
    parser.add_argument(
        "--n-samples",
        type=int,
        default=DEFAULT_N_SAMPLES,
        help=f"training samples bundles are measured on (default {DEFAULT_N_SAMPLES}; "
        f"autotune: {AutotuneConfig().n_check_samples})",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of sampling and draws")
    add_model_arguments(parser)
    parser.set_defaults(depth=DEFAULT_PRUNING_DEPTH)
    return parser


def run_analyze(args: argparse.Namespace) -> int:
    data = load_pruning_data(args.path)
    layers = args.layers.split(",") if args.layers else None
    if layers is not None:  # checked on the architecture before anything trains
        check_layer_names(make_model(get_pruning_model_config(args, data), n_classes=2), layers)
    out = get_out_folder(args, data)
    if args.round is not None:
        source = get_model(args, data)
        check_layer_names(source.model, layers)
        analysis = _analyze_source(source, data, n_samples=args.n_samples, seed=args.seed)
        model, train_config, origin = source.model, source.train_config, source.origin
    else:
        train_config = get_train_config(args)
        trained, analysis = analyze_training(
            data.train_images,
            data.train_labels,
            n_classes=data.n_classes,
            model_config=get_pruning_model_config(args, data),
            train_config=train_config,
            n_samples=args.n_samples,
        )
        model, origin = trained.model, "trained here"
    report = {
        "path": str(data.path),
        "model": origin,
        "model_config": model.config.to_dict(),
        "train_config": train_config.to_dict(),
        "test_accuracy": _test_accuracy(model, data),
        **analysis.to_dict(),
    }
    if layers is not None:
        wanted = set(layers)
        report["layers"] = {k: v for k, v in report["layers"].items() if k in wanted}
    path = write_report(out, "analyze", report)
    title = f"{data.path.name}: {model.config.name} depth {model.config.depth} ({origin})"
    plots.plot_entropy_per_layer(analysis, out / "analyze-entropy-per-layer.png", title=title)
    if analysis.epochs:
        plots.plot_entropy_over_epochs(
            analysis, out / "analyze-entropy-over-epochs.png", title=title
        )
    conflicting = analysis.conflicting_layers
    print(
        f"{len(analysis.layers)} layers measured on {analysis.n_samples} training samples; "
        + (f"conflicting layers: {', '.join(conflicting)}" if conflicting else "no layer conflicts")
    )
    if analysis.n_duplicate_conflicts:
        print(
            f"warning: {analysis.n_duplicate_conflicts} images have an exact duplicate with "
            "another label; they conflict at every layer"
        )
    print(f"report: {path}")
    return 0


def run_autotune_command(args: argparse.Namespace) -> int:
    data = load_pruning_data(args.path)
    data.require_test("autotune")
    out = get_out_folder(args, data)
    seeds = _parse_seeds(args.seeds)
    start = get_pruning_model_config(args, data)
    if start.name != "plain":
        raise ValueError(f"auto-tune starts from a deep 'plain' network, got --model {start.name}")
    config = AutotuneConfig(
        check_epochs=args.check_epochs,
        n_check_samples=args.n_samples,
        max_restarts=args.max_restarts,
    )
    runs = []
    for seed in seeds:
        train_config = dataclasses.replace(get_train_config(args), seed=seed)
        tuned = run_autotune(
            data.train_images,
            data.train_labels,
            n_classes=data.n_classes,
            start=start,
            train_config=train_config,
            config=config,
        )
        networks: dict[str, Classifier] = {"autotuned": tuned.model}
        for name, model_config in (
            ("start", start),
            ("residual", dataclasses.replace(start, name="resnet")),
        ):
            networks[name] = train_model(
                data.train_images,
                data.train_labels,
                n_classes=data.n_classes,
                model_config=model_config,
                train_config=train_config,
            ).model
        speed = measure_scoring_speed(networks, data.test_images[:SPEED_IMAGES], repeats=2)
        rows = {
            name: {
                "stage_depths": list(model.config.get_stage_depths()),
                "n_blocks": sum(model.config.get_stage_depths()),
                "n_parameters": count_parameters(model),
                "test_accuracy": _test_accuracy(model, data),
                "images_per_second": speed[name],
            }
            for name, model in networks.items()
        }
        runs.append(
            {
                "seed": seed,
                "converged": tuned.converged,
                "n_restarts": tuned.n_restarts,
                "attempts": [attempt.to_dict() for attempt in tuned.attempts],
                "networks": rows,
            }
        )
        print(
            f"seed {seed}: {tuned.n_restarts} restart(s) -> stage depths "
            f"{rows['autotuned']['stage_depths']}; test accuracy autotuned "
            f"{rows['autotuned']['test_accuracy']:.3f}, start "
            f"{rows['start']['test_accuracy']:.3f}, residual "
            f"{rows['residual']['test_accuracy']:.3f}"
        )
    report = {
        "path": str(data.path),
        "start_config": start.to_dict(),
        "autotune_config": config.to_dict(),
        "runs": runs,
    }
    print(f"report: {write_report(out, 'autotune', report)}")
    return 0


def run_lesion(args: argparse.Namespace) -> int:
    data = load_pruning_data(args.path)
    data.require_test("lesion")
    out = get_out_folder(args, data)
    source = get_model(args, data)
    analysis = _analyze_source(source, data, n_samples=args.n_samples, seed=args.seed)
    intact, points = run_lesion_study(
        source.model,
        data.test_images,
        data.test_labels,
        conflicting=set(analysis.conflicting_blocks),
        n_draws=args.n_draws,
        max_k=args.max_k,
        rng=np.random.default_rng(args.seed),
    )
    report = {
        "path": str(data.path),
        "model": source.origin,
        "model_config": source.model.config.to_dict(),
        "intact_test_accuracy": intact,
        "conflicting_blocks": analysis.conflicting_blocks,
        "points": [point.to_dict() for point in points],
    }
    path = write_report(out, "lesion", report)
    plots.plot_lesions(
        intact, points, out / "lesion.png", title=f"{data.path.name}: lesions ({source.origin})"
    )
    n_blocks = len(list_blocks(source.model))
    print(
        f"intact test accuracy {intact:.3f}; {len(analysis.conflicting_blocks)} of {n_blocks} "
        "blocks conflict"
    )
    for point in points:
        if point.group == "all":
            print(
                f"  {point.k} block(s) lesioned: {point.mean_accuracy:.3f} "
                f"± {point.std_accuracy:.3f}"
            )
    print(f"report: {path}")
    return 0


def run_greedy(args: argparse.Namespace) -> int:
    data = load_pruning_data(args.path)
    target = PruneTarget(max_drop=args.max_drop, n_blocks=args.blocks)
    fine_tune_config = FineTuneConfig(
        n_steps=args.fine_tune_steps,
        lr=args.fine_tune_lr,
        seed=args.seed,
        n_threads=args.threads,
        device=args.device,
    )
    if args.round is None:  # refuse an impossible target before training
        check_target(make_model(get_pruning_model_config(args, data), n_classes=2), target)
    out = get_out_folder(args, data)
    source = get_model(args, data)
    result = run_greedy_pruning(
        source.model,
        data.train_images,
        data.train_labels,
        n_classes=data.n_classes,
        target=target,
        fine_tune_config=fine_tune_config,
        seed=args.seed,
    )
    k = len(result.removed)
    n_steps = fine_tune_config.n_steps * max(k, 1)
    comparison = [
        {
            "rule": "greedy",
            "removed": result.removed,
            "test_accuracy": _test_accuracy(result.model, data),
        }
    ]
    compared_at = time.perf_counter()
    if k:
        comparison += compare_rules(
            source.model,
            data.train_images,
            data.train_labels,
            n_classes=data.n_classes,
            split=(result.fine_tune_ids, result.selection_ids),
            k=k,
            fine_tune_config=fine_tune_config,
            n_steps=n_steps,
            n_random=args.n_random,
            n_samples=args.n_samples,
            train_config=source.train_config,
            seed=args.seed,
            evaluate=lambda model: _test_accuracy(model, data),
        )
    speed_images = (data.test_images if len(data.test_labels) else data.train_images)[:SPEED_IMAGES]
    speed = measure_scoring_speed({"unpruned": source.model, "pruned": result.model}, speed_images)
    model_path = save_pruned_model(
        out / GREEDY_MODEL_FILE,
        result.model,
        source_config=source.model.config,
        removed_blocks=result.removed,
        fine_tune_config=fine_tune_config,
        n_fine_tune_steps=n_steps,
        class_names=data.class_names,
        extra={"selection_accuracy": result.to_dict()["final_selection_accuracy"]},
    )
    n_blocks = len(list_blocks(source.model))
    report = {
        "path": str(data.path),
        "model": source.origin,
        "model_config": source.model.config.to_dict(),
        "target": target.to_dict(),
        "fine_tune": fine_tune_config.to_dict(),
        "n_blocks": n_blocks,
        "unpruned_test_accuracy": _test_accuracy(source.model, data),
        "greedy": result.to_dict(),
        "comparison": comparison,
        "comparison_seconds": time.perf_counter() - compared_at,
        "scoring_images_per_second": speed,
        "scoring_speedup": speed["pruned"] / speed["unpruned"],
        "pruned_model": str(model_path),
    }
    path = write_report(out, "greedy", report)
    if len(data.test_labels):
        plots.plot_greedy(report, out / "greedy.png", title=f"{data.path.name}: greedy pruning")
    print(
        f"removed {k} of {n_blocks} blocks ({', '.join(result.removed) or 'none'}): "
        f"{result.stopped_because}"
    )
    print(
        f"search: {result.n_fine_tunes} fine-tunes in {result.seconds:.1f} s; scoring "
        f"{report['scoring_speedup']:.2f}x faster than the unpruned model"
    )
    for row in comparison:
        if row["test_accuracy"] is not None:
            print(f"  {row['rule']:>8}: test accuracy {row['test_accuracy']:.3f}")
    print(f"report: {path}; pruned model: {model_path} (make rounds use it: `labeler prune apply`)")
    return 0


def run_apply(args: argparse.Namespace) -> int:
    folder = Path(args.path)
    target = get_pruned_checkpoint(folder)
    source = Path(args.source) if args.source else get_pruning_folder(folder) / GREEDY_MODEL_FILE
    if not is_project(folder):
        raise ValueError(f"{folder} is not a project folder: `prune apply` needs a project")
    if not source.is_file():
        raise ValueError(f"no pruned model at {source}: run `labeler prune greedy {folder}` first")
    _, info = load_checkpoint(source)
    if "pruning" not in info.extra:
        raise ValueError(f"{source} is a checkpoint without a pruning plan (not from prune greedy)")
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.resolve() != target.resolve():
        # The description first: a checkpoint in place always has its own beside it.
        for source_file, target_file in (
            (source.with_suffix(".json"), target.with_suffix(".json")),
            (source, target),
        ):
            temp = target_file.with_name(f".{target_file.name}.tmp")
            shutil.copyfile(source_file, temp)
            temp.replace(target_file)
    plan = load_pruning_plan(folder)
    summary = plan.describe()
    src = plan.source_config
    print(
        f"rounds can score with {target}: {summary['n_blocks']} of "
        f"{summary['n_blocks_unpruned']} blocks, cut from {src.name} depth {src.depth}"
    )
    print(
        f"use it: labeler round {folder} --scoring-model pruned --model {src.name} "
        f"--depth {src.depth} --width {src.width} --image-size {src.image_size}"
    )
    return 0


def _analyze_source(
    source: SourceModel, data: PruningData, *, n_samples: int, seed: int
) -> Analysis:
    """Bundles of every layer of an already trained model on ``n_samples`` of the labels, at
    the lr and batch size it was trained with."""
    picked = pick_samples(data.train_labels, n_samples=n_samples, seed=seed)
    return analyze_model(
        source.model,
        data.train_images[picked],
        data.train_labels[picked],
        lr=source.train_config.lr,
        batch_size=source.train_config.batch_size,
    )


def _test_accuracy(model: Classifier, data: PruningData) -> float | None:
    if len(data.test_labels) == 0:
        return None
    return evaluate_accuracy(model, data.test_images, data.test_labels, device="cpu")


def _parse_seeds(text: str) -> list[int]:
    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"--seeds must be comma-separated integers, got {text!r}") from None
    if not seeds:
        raise ValueError("--seeds names no seed")
    return seeds
