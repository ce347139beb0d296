"""``labeler import-labels``: record labels from a CSV file, all or nothing."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
from typing import Any

from labeler.commands.label import get_default_annotator
from labeler.store.database import NewLabel, ProjectStore
from labeler.store.project import open_project

SOURCE = "import"
REQUIRED_COLUMNS = ("sample", "label")
OPTIONAL_COLUMNS = ("annotator",)
# Errors listed before giving up on a file (all of them are counted).
_MAX_ERRORS_SHOWN = 20


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "import-labels",
        help="record labels from a CSV file (all or nothing)",
        description=(
            "Record the labels of a CSV file with a header row and the columns `sample` (a "
            "sample id or path) and `label` (a class name), and optionally `annotator`. The "
            "file is checked whole first: if any line is bad, nothing is recorded and every "
            "bad line is named."
        ),
    )
    parser.add_argument("project", help="project folder")
    parser.add_argument("file", help="CSV file")
    parser.add_argument(
        "--annotator",
        default=None,
        help="annotator of lines without one (default: the user name)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    annotator = args.annotator if args.annotator is not None else get_default_annotator()
    with open_project(args.project) as project:
        labels = read_label_csv(Path(args.file), project.store, default_annotator=annotator)
        n_recorded = project.store.add_label_events(labels)
        counts = project.store.count_labels()
    print(f"imported {n_recorded} labels from {args.file}")
    print("labeled now: " + ", ".join(f"{name} {count}" for name, count in counts.items()))
    return 0


def read_label_csv(path: Path, store: ProjectStore, *, default_annotator: str) -> list[NewLabel]:
    """Read and check every line of the CSV at ``path``; return its labels in file order.

    Raises ValueError naming every bad line (up to a limit) when any line is bad.
    """
    try:
        with open(path, encoding="utf-8-sig", newline="") as file:
            rows = _read_rows(path, file)
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is not UTF-8 text: {error}") from error
    except csv.Error as error:
        raise ValueError(f"{path} is not a readable CSV file: {error}") from error
    if not rows:
        raise ValueError(f"{path} holds no labels (only a header)")

    path_to_id = {sample.path: sample.id for sample in store.get_samples()}
    test_ids = set(store.get_sample_ids("test").tolist())
    classes = store.class_names
    labels: list[NewLabel] = []
    errors: list[str] = []
    for line, row in rows:
        sample_text = (row.get("sample") or "").strip()
        label = (row.get("label") or "").strip()
        annotator = (row.get("annotator") or "").strip() or default_annotator
        problem = None
        sample_id = _resolve_sample(sample_text, path_to_id, store.n_samples)
        if not sample_text:
            problem = "the sample is empty"
        elif sample_id is None:
            problem = (
                f"no sample {sample_text!r} (give an id from 0 to {store.n_samples - 1} or a "
                "path as `labeler export` lists it)"
            )
        elif sample_id in test_ids:
            problem = f"sample {sample_text!r} is a test sample, which cannot be labeled"
        elif label not in classes:
            problem = f"unknown label {label!r}; the classes are: {', '.join(classes)}"
        if problem is not None:
            errors.append(f"line {line}: {problem}")
            continue
        assert sample_id is not None
        labels.append(NewLabel(sample_id, label, annotator, SOURCE))
    if errors:
        shown = "\n  ".join(errors[:_MAX_ERRORS_SHOWN])
        more = (
            f"\n  ... and {len(errors) - _MAX_ERRORS_SHOWN} more"
            if len(errors) > _MAX_ERRORS_SHOWN
            else ""
        )
        raise ValueError(f"{path}: {len(errors)} bad lines, nothing imported:\n  {shown}{more}")
    return labels


def _read_rows(path: Path, file: Any) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(file)
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        found = ", ".join(repr(name) for name in header) or "none"
        raise ValueError(
            f"{path} lacks the column(s) {', '.join(missing)} in its header row (found: "
            f"{found}); the columns are {', '.join(REQUIRED_COLUMNS)} and optionally "
            f"{', '.join(OPTIONAL_COLUMNS)}"
        )
    reader.fieldnames = header
    rows = []
    for row in reader:
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue  # blank line
        rows.append((reader.line_num, row))
    return rows


def _resolve_sample(text: str, path_to_id: dict[str, int], n_samples: int) -> int | None:
    if text.isdigit():
        sample_id = int(text)
        return sample_id if sample_id < n_samples else None
    return path_to_id.get(text)
