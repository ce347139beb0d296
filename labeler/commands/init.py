"""``labeler init``: make a project from a dataset folder or any folder of images."""

from __future__ import annotations

import argparse
from typing import Any

from labeler.store.project import InitSummary, init_project

# Unreadable files listed one per line; beyond this many only the count is printed.
_MAX_SKIPPED_SHOWN = 10


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
        "--image-size", type=int, help="side in pixels of the stored square images (default 64)"
    )
    parser.add_argument(
        "--use-folder-labels",
        action="store_true",
        help="record the labels known from class folders as labels given by annotators",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    summary = init_project(
        args.project,
        images=args.images,
        classes=parse_classes(args.classes) if args.classes is not None else None,
        image_size=args.image_size,
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
        f"images: {summary.image_size} x {summary.image_size} px grayscale",
        f"pool: {summary.n_pool} samples{known}; test: {summary.n_test} samples",
    ]
    if summary.n_labels_recorded:
        lines.append(f"labels recorded from the folders: {summary.n_labels_recorded}")
    if summary.skipped:
        lines.append(f"skipped {len(summary.skipped)} unreadable files:")
        lines += [f"  {path}: {reason}" for path, reason in summary.skipped[:_MAX_SKIPPED_SHOWN]]
        if len(summary.skipped) > _MAX_SKIPPED_SHOWN:
            lines.append(f"  ... and {len(summary.skipped) - _MAX_SKIPPED_SHOWN} more")
    return "\n".join(lines)
