"""``labeler export``: write a project's current labels as CSV, JSON or an ImageFolder."""

from __future__ import annotations

import argparse
from typing import Any

from labeler.api.projects import export_labels
from labeler.store.label_export import CSV_COLUMNS, FORMATS


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write the current labels (CSV, JSON, or images in class folders)",
        description=(
            "Write every labeled sample with its current label (its latest). csv and json: "
            f"one record per sample with the fields {', '.join(CSV_COLUMNS)} (a csv can be "
            "read back by import-labels). imagefolder: OUT/<class>/<id>-<name>, the original "
            "file when the source folder still has it, else the project's grayscale PNG; OUT "
            "must be new or empty."
        ),
    )
    parser.add_argument("project", help="project folder")
    parser.add_argument("--format", required=True, choices=FORMATS, help="output format")
    parser.add_argument("--out", required=True, help="file (csv, json) or folder (imagefolder)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    summary = export_labels(args.project, args.out, format=args.format)
    detail = (
        f" ({summary.n_copied} original files, {summary.n_written} written from the project)"
        if args.format == "imagefolder"
        else ""
    )
    print(f"exported {summary.n_labels} labels to {summary.out}{detail}")
    return 0
