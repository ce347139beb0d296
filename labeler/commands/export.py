"""``labeler export``: write a project's current labels as CSV, JSON or an ImageFolder."""

from __future__ import annotations

import argparse
import csv
import io
import os
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from labeler.data.png import encode_png
from labeler.store.atomic_files import fsync_folder, write_json_atomic, write_text_atomic
from labeler.store.database import LabelEvent
from labeler.store.project import Project, open_project

FORMATS = ("csv", "json", "imagefolder")
CSV_COLUMNS = ("sample", "path", "label", "annotator", "source", "created_at")


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
    out = Path(args.out)
    with open_project(args.project) as project:
        events = project.store.get_current_label_events()
        if args.format == "imagefolder":
            n_copied, n_written = export_imagefolder(project, events, out)
            detail = f" ({n_copied} original files, {n_written} written from the project)"
        else:
            records = make_records(project, events)
            out.parent.mkdir(parents=True, exist_ok=True)
            if args.format == "csv":
                write_text_atomic(out, format_csv(records))
            else:
                write_json_atomic(
                    out, {"class_names": list(project.class_names), "labels": records}
                )
            detail = ""
    print(f"exported {len(events)} labels to {out}{detail}")
    return 0


def make_records(project: Project, events: list[LabelEvent]) -> list[dict[str, Any]]:
    """One JSON-ready dict per event, with the fields of ``CSV_COLUMNS``."""
    paths = {sample.id: sample.path for sample in project.store.get_samples("pool")}
    return [
        {
            "sample": event.sample_id,
            "path": paths[event.sample_id],
            "label": event.label_name,
            "annotator": event.annotator,
            "source": event.source,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(event.created_at)),
        }
        for event in events
    ]


def format_csv(records: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue()


def export_imagefolder(project: Project, events: list[LabelEvent], out: Path) -> tuple[int, int]:
    """Write ``out/<class>/<id>-<name>`` per labeled sample; return (n copied, n written).

    Built in a temporary sibling and renamed into place, so ``out`` is never half-written.
    """
    if out.exists() and not (out.is_dir() and not any(out.iterdir())):
        raise ValueError(f"export folder {out} exists and is not an empty folder; choose another")
    out.parent.mkdir(parents=True, exist_ok=True)
    temp = out.parent / f".{out.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    temp.mkdir()
    n_copied = n_written = 0
    try:
        for name in project.class_names:
            (temp / name).mkdir()
        samples = {sample.id: sample for sample in project.store.get_samples("pool")}
        images = project.load_images()
        for event in events:
            sample = samples[event.sample_id]
            original = project.get_source_path(sample.path)
            folder = temp / event.label_name
            if original.is_file():
                shutil.copyfile(original, folder / f"{sample.id:06d}-{original.name}")
                n_copied += 1
            else:
                png = encode_png(np.asarray(images[sample.id]))
                (folder / f"{sample.id:06d}.png").write_bytes(png)
                n_written += 1
        if out.is_dir():
            out.rmdir()  # empty: checked above
        os.rename(temp, out)
        fsync_folder(out.parent)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return n_copied, n_written
