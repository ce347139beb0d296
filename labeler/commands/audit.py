"""``labeler audit``: held-out accuracy of one-feature threshold probes (shortcut audit)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from labeler.commands.table import format_table
from labeler.data.audit import FEATURE_NAMES, AuditResult, audit_dataset
from labeler.data.dataset_format import find_datasets


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "audit",
        help="shortcut audit: can one trivial image feature classify a dataset?",
        description=(
            "For each feature (ink count, |ink - median ink|, connected components, ink "
            "bounding-box area) fit the best threshold on the train split and report its "
            "accuracy on the test split. DATASET may be a dataset folder or a folder of them."
        ),
    )
    parser.add_argument("dataset", help="dataset folder, or a folder of dataset folders")
    parser.add_argument("--json", dest="json_path", help="also write the results to this file")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    paths = find_datasets(args.dataset)
    if len(paths) == 1:
        results = [audit_dataset(paths[0], progress=True)]
    else:
        results = [audit_dataset(path) for path in tqdm(paths, unit="dataset", dynamic_ncols=True)]
    if args.json_path:
        _write_json(Path(args.json_path), results)
    print(_format_details(results[0]) if len(results) == 1 else _format_overview(results))
    if args.json_path:
        print(f"wrote {args.json_path}")
    return 0


def _format_details(result: AuditResult) -> str:
    rows = []
    for probe in result.probes:
        stump = probe.stump
        if np.isfinite(stump.threshold):
            rule = f"<= {stump.threshold:g}: {stump.left_class}, else {stump.right_class}"
        else:  # no threshold beats predicting one class for every image
            rule = f"always {stump.right_class if stump.threshold < 0 else stump.left_class}"
        rows.append(
            (probe.feature, rule, f"{stump.train_accuracy:.3f}", f"{probe.test_accuracy:.3f}")
        )
    table = format_table(("feature", "threshold rule", "train acc", "test acc"), rows)
    return (
        f"audit of {result.name}: fit on {result.train_split} ({result.n_train} images), "
        f"tested on {result.test_split} ({result.n_test}); chance {result.chance:.3f}\n"
        f"{table}\n"
        f"best probe: {result.max_test_accuracy:.3f} held-out accuracy"
    )


def _format_overview(results: list[AuditResult]) -> str:
    rows = [
        (
            result.name,
            result.n_test,
            *(f"{probe.test_accuracy:.3f}" for probe in result.probes),
            f"{result.max_test_accuracy:.3f}",
        )
        for result in results
    ]
    table = format_table(("dataset", "n_test", *FEATURE_NAMES, "max"), rows)
    worst = max(results, key=lambda result: result.max_test_accuracy)
    return (
        f"held-out accuracy of one-feature probes ({len(results)} datasets)\n{table}\n"
        f"highest: {worst.max_test_accuracy:.3f} on {worst.name}"
    )


def _write_json(path: Path, results: list[AuditResult]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps([result.to_dict() for result in results], indent=2) + "\n",
            encoding="utf-8",
        )
    except OSError as error:
        raise OSError(f"cannot write {path}: {error}") from error
