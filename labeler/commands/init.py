"""``labeler init``: make a project from a dataset folder or any folder of images."""

from __future__ import annotations

import argparse
from typing import Any

from labeler.api.projects import create_project
from labeler.data.image_arrays import COLOUR_MODES
from labeler.data.input_size import (
    GENERATED_SIZE_CAP,
    MAX_IMAGE_SIZE,
    MIN_IMAGE_SIZE,
    PHOTO_IMAGE_SIZE,
)
from labeler.store.project_init import InitSummary

# Unreadable, converted or enlarged files listed one per line; beyond this many only the count.
_MAX_LISTED = 10


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "init",
        help="make a project from a dataset folder or a folder of images",
        description=(
            "Make a project folder from IMAGES: a dataset folder written by `labeler generate` "
            "(train split = pool, test split = test samples, labels known), or any folder of "
            "PNG/JPEG images, flat (then --classes is needed) or with one subfolder per class, "
            "optionally under train/ and test/. Unreadable images are skipped and listed."
        ),
    )
    parser.add_argument("project", help="project folder to create (new or empty)")
    parser.add_argument("--images", required=True, help="dataset folder or image folder")
    parser.add_argument(
        "--classes",
        help="comma-separated class names, e.g. cat,dog (needed for a flat folder)",
    )
    parser.add_argument(
        "--image-size",
        type=int,
        help=(
            f"side in pixels of the stored square images, {MIN_IMAGE_SIZE}-{MAX_IMAGE_SIZE}; "
            "the model sees them at this size (default: a dataset's native size up to "
            f"{GENERATED_SIZE_CAP}, {PHOTO_IMAGE_SIZE} for other images). Non-square images "
            "are letterboxed: scaled to fit and padded with white"
        ),
    )
    parser.add_argument(
        "--colour",
        choices=COLOUR_MODES,
        default="auto",
        help=(
            "auto: colour when most images are colour (generated datasets are grayscale); "
            "rgb or gray: convert every image to it (default auto)"
        ),
    )
    parser.add_argument(
        "--use-folder-labels",
        action="store_true",
        help="record the labels known from class folders as labels given by annotators",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    summary = create_project(
        args.project,
        args.images,
        classes=parse_classes(args.classes) if args.classes is not None else None,
        image_size=args.image_size,
        colour=args.colour,
        use_folder_labels=args.use_folder_labels,
        progress=True,
    )
    print(format_summary(summary))
    return 0


def parse_classes(text: str) -> list[str]:
    """Split ``--classes a,b,c``; spaces around names are dropped, empty names refused."""
    names = [name.strip() for name in text.split(",")]
    if any(not name for name in names):
        raise ValueError(f"--classes {text!r} has an empty name; give e.g. --classes cat,dog")
    return names


def format_summary(summary: InitSummary) -> str:
    known = f", {summary.n_known_pool} with known labels" if summary.n_known_pool else ""
    lines = [
        f"created project {summary.path} from {summary.source_kind.replace('_', ' ')} "
        f"{summary.source} in {summary.seconds:.1f} s",
        f"classes: {', '.join(summary.class_names)}",
        f"images: {summary.image_size} x {summary.image_size} px "
        + ("colour (RGB)" if summary.channels == 3 else "grayscale"),
        f"pool: {summary.n_pool} samples{known}; test: {summary.n_test} samples",
    ]
    if summary.n_labels_recorded:
        lines.append(f"labels recorded from the folders: {summary.n_labels_recorded}")
    kind = "colour" if summary.channels == 3 else "grayscale"
    _add_listed(lines, f"converted to {kind}", list(summary.converted))
    _add_listed(
        lines,
        f"enlarged (smaller than {summary.image_size} px)",
        [f"{path} ({width} x {height})" for path, width, height in summary.upscaled],
    )
    _add_listed(
        lines, "skipped as unreadable", [f"{path}: {reason}" for path, reason in summary.skipped]
    )
    return "\n".join(lines)


def _add_listed(lines: list[str], what: str, items: list[str]) -> None:
    if not items:
        return
    lines.append(f"{what}: {len(items)} files" if len(items) != 1 else f"{what}: 1 file")
    lines += [f"  {item}" for item in items[:_MAX_LISTED]]
    if len(items) > _MAX_LISTED:
        lines.append(f"  ... and {len(items) - _MAX_LISTED} more")
