"""Writing a project's current labels out: CSV or JSON records, or an ImageFolder tree."""

from __future__ import annotations

import csv
import io
import os
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from labeler.data.png import encode_png
from labeler.store.atomic_files import fsync_folder, write_json_atomic, write_text_atomic
from labeler.store.database import LabelEvent
from labeler.store.project import Project

FORMATS = ("csv", "json", "imagefolder")
CSV_COLUMNS = ("sample", "path", "label", "annotator", "source", "created_at")


@dataclass(frozen=True)
class ExportSummary:
    """What ``export_labels`` wrote: ``n_labels`` records (or images) at ``out``; for an
    ImageFolder, how many were the original files and how many written from the project."""

    out: Path
    n_labels: int
    n_copied: int = 0
    n_written: int = 0


def export_labels(project: Project, out: str | os.PathLike[str], *, format: str) -> ExportSummary:
    """Write every labeled sample of ``project`` with its current label to ``out`` in
    ``format`` (``FORMATS``): csv and json, one record per sample with the fields of
    ``CSV_COLUMNS``; imagefolder, ``out/<class>/<id>-<name>`` (``out`` new or empty)."""
    if format not in FORMATS:
        raise ValueError(f"unknown export format {format!r}; valid ones: {', '.join(FORMATS)}")
    target = Path(out)
    events = project.store.get_current_label_events()
    if format == "imagefolder":
        n_copied, n_written = export_imagefolder(project, events, target)
        return ExportSummary(target, len(events), n_copied, n_written)
    records = make_records(project, events)
    target.parent.mkdir(parents=True, exist_ok=True)
    if format == "csv":
        write_text_atomic(target, format_csv(records))
    else:
        write_json_atomic(target, {"class_names": list(project.class_names), "labels": records})
    return ExportSummary(target, len(events))


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
