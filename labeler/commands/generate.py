"""``labeler generate``: write dataset folders from a generator family, flags or a recipe."""

from __future__ import annotations

import argparse
import time
from typing import Any

from generators.checks import check_int
from generators.registry import get_family, list_families
from labeler.commands.engine_options import add_engine_arguments, make_engine_from_args
from labeler.commands.table import format_table
from labeler.data.dataset_writer import WriteSummary
from labeler.data.recipes import (
    ALL_PROBLEMS,
    GenerateJob,
    load_recipe,
    make_job,
    plan_datasets,
    write_planned,
)

# Flags that describe a job (the fields of GenerateJob); None when not given.
_JOB_FLAGS = (
    "problem",
    "n_train",
    "n_test",
    "seed",
    "out",
    "preset",
    "mode",
    "image_size",
    "holdout_families",
)


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="generate dataset folders (PNG, packed arrays, metadata)",
        description=(
            "Generate a dataset folder from a generator family, or every job of a recipe. "
            "Examples: `labeler generate svrt --problem 4 --n-train 20000 --n-test 2000 "
            "--seed 0 --out datasets/svrt-04`; `labeler generate --list`; "
            "`labeler generate --recipe datasets/svrt-suite.json`."
        ),
    )
    parser.add_argument("family", nargs="?", help="generator family (see --list)")
    parser.add_argument("--list", action="store_true", help="list families, problems, presets")
    parser.add_argument("--recipe", help="JSON file with a list of generate jobs")
    parser.add_argument(
        "--problem", help=f"problem of the family, or {ALL_PROBLEMS!r} (one folder per problem)"
    )
    parser.add_argument("--n-train", type=int, help="training images (a multiple of the classes)")
    parser.add_argument("--n-test", type=int, help="test images (a multiple of the classes)")
    parser.add_argument("--seed", type=int, help="seed of the image streams (default 0)")
    parser.add_argument("--out", help="output dataset folder (with --problem all: its parent)")
    parser.add_argument("--preset", help="parameter preset (default standard; see --list)")
    parser.add_argument("--mode", help="svrt: faithful (reference) or balanced (no ink shortcut)")
    parser.add_argument("--image-size", type=int, help="image side in pixels")
    parser.add_argument(
        "--holdout-families",
        help="orientation: object families kept for the test split, e.g. F1,F2",
    )
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    add_engine_arguments(parser)
    parser.add_argument(
        "--force", action="store_true", help="replace existing dataset folders at the outputs"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.list:
        print(_format_listing([args.family] if args.family else list_families()))
        return 0
    check_int("--workers", args.workers, low=1)
    jobs = _get_jobs(args)
    plans = plan_datasets(jobs, force=args.force)
    started = time.perf_counter()
    summaries: list[WriteSummary] = []
    with make_engine_from_args(args) as engine:
        for plan in plans:
            summary = write_planned(
                plan, workers=args.workers, engine=engine, force=args.force, progress=True
            )
            summaries.append(summary)
            print(_format_summary(summary))
    if len(summaries) > 1:
        seconds = time.perf_counter() - started
        n_images = sum(summary.n_images for summary in summaries)
        print(
            f"wrote {len(summaries)} datasets, {n_images} images in {seconds:.1f} s "
            f"({n_images / seconds:.0f} img/s)"
        )
    return 0


def _get_jobs(args: argparse.Namespace) -> list[GenerateJob]:
    if args.recipe:
        flags = [
            f"--{name.replace('_', '-')}" for name in _JOB_FLAGS if getattr(args, name) is not None
        ]
        if args.family or flags:
            extra = ", ".join(([args.family] if args.family else []) + flags)
            raise ValueError(f"--recipe takes its jobs from the file; drop {extra}")
        return load_recipe(args.recipe)
    if not args.family:
        raise ValueError(
            f"name a family (one of: {', '.join(list_families())}), or use --recipe FILE or --list"
        )
    missing = [flag for flag in ("n_train", "n_test", "out") if getattr(args, flag) is None]
    if missing:
        needed = ", ".join(f"--{name.replace('_', '-')}" for name in missing)
        raise ValueError(f"generate {args.family} needs {needed}")
    given = {name: getattr(args, name) for name in _JOB_FLAGS if getattr(args, name) is not None}
    return [make_job({"family": args.family, **given})]


def _format_listing(family_names: list[str]) -> str:
    rows = []
    for name in family_names:
        family = get_family(name)
        rows.append(
            (
                name,
                family.version,
                ", ".join(family.list_problems()),
                ", ".join(family.list_presets()),
                ", ".join(family.class_names),
            )
        )
    table = format_table(("family", "version", "problems", "presets", "classes"), rows)
    if len(family_names) != 1:
        return table + "\n\n(`labeler generate --list FAMILY` describes each problem)"
    family = get_family(family_names[0])
    lines = [table, ""]
    for problem in family.list_problems():
        lines.append(f"  {problem:>4s}  {family.describe_problem(problem)}")
    presets = family.list_presets()
    lines.append("")
    lines += [f"  preset {name}: {values or 'the defaults'}" for name, values in presets.items()]
    return "\n".join(lines)


def _format_summary(summary: WriteSummary) -> str:
    splits = "; ".join(
        f"{split} {sum(counts.values())} ("
        + ", ".join(f"{name} {count}" for name, count in counts.items())
        + ")"
        for split, counts in summary.n_per_split_class.items()
    )
    return (
        f"wrote {summary.path}: {summary.family} problem {summary.problem}, {splits}; "
        f"{summary.n_images} images in {summary.seconds:.1f} s "
        f"({summary.images_per_second:.0f} img/s)"
    )
