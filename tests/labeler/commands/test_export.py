"""labeler export: CSV and JSON that re-import, image folders, bad formats."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from PIL import Image

from labeler.store.project import open_project


def test_export_csv_reimports_and_json_matches(
    project: Path, tmp_path: Path, run_cli, read_labels
) -> None:
    run_cli("label", project, "5", "class_0", "--annotator", "ann")
    run_cli("label", project, "2", "class_1", "--annotator", "bob")
    run_cli("label", project, "5", "class_1", "--annotator", "cid")
    out = tmp_path / "labels.csv"
    result = run_cli("export", project, "--format", "csv", "--out", out)
    assert result.code == 0, result.err
    assert "exported 2 labels" in result.out
    with open(out, newline="") as file:
        rows = list(csv.DictReader(file))
    assert [(row["sample"], row["label"], row["annotator"]) for row in rows] == [
        ("2", "class_1", "bob"),
        ("5", "class_1", "cid"),
    ]
    assert rows[0]["path"] == "train/class_0/train-000002.png"

    result = run_cli("export", project, "--format", "json", "--out", tmp_path / "labels.json")
    exported = json.loads((tmp_path / "labels.json").read_text())
    assert exported["class_names"] == ["class_0", "class_1"]
    assert [(record["sample"], record["label"]) for record in exported["labels"]] == [
        (2, "class_1"),
        (5, "class_1"),
    ]

    # The exported CSV imports back into a fresh project as the same labels.
    fresh = tmp_path / "fresh"
    with open_project(project) as opened:
        source = opened.source
    assert run_cli("init", fresh, "--images", source, "--image-size", "16").code == 0
    assert run_cli("import-labels", fresh, out).code == 0
    assert read_labels(fresh) == read_labels(project)


def test_export_imagefolder_copies_originals(project: Path, tmp_path: Path, run_cli) -> None:
    run_cli("label", project, "0", "class_1")
    run_cli("label", project, "3", "class_0")
    out = tmp_path / "export"
    result = run_cli("export", project, "--format", "imagefolder", "--out", out)
    assert result.code == 0, result.err
    assert "2 original files, 0 written" in result.out
    assert sorted(path.relative_to(out).as_posix() for path in out.rglob("*.png")) == [
        "class_0/000003-train-000003.png",
        "class_1/000000-train-000000.png",
    ]
    with open_project(project) as opened:
        original = opened.get_source_path(opened.store.get_sample(3).path)
    assert (out / "class_0" / "000003-train-000003.png").read_bytes() == original.read_bytes()
    result = run_cli("export", project, "--format", "imagefolder", "--out", out)
    assert result.code == 2
    assert "not an empty folder" in result.err


def test_export_imagefolder_writes_project_images_without_the_source(
    image_folder: Path, tmp_path: Path, run_cli
) -> None:
    project = tmp_path / "proj"
    assert run_cli("init", project, "--images", image_folder, "--image-size", "8").code == 0
    run_cli("label", project, "2", "ant")
    for path in sorted(image_folder.rglob("*"), reverse=True):  # the source is gone
        path.unlink() if path.is_file() else path.rmdir()
    out = tmp_path / "export"
    result = run_cli("export", project, "--format", "imagefolder", "--out", out)
    assert result.code == 0, result.err
    assert "0 original files, 1 written" in result.out
    assert sorted(path.name for path in out.iterdir()) == ["ant", "bee"]
    written = np.asarray(Image.open(out / "ant" / "000002.png"))
    np.testing.assert_array_equal(written, np.full((8, 8), 220))


def test_export_rejects_an_unknown_format(project: Path, tmp_path: Path, run_cli) -> None:
    result = run_cli("export", project, "--format", "xml", "--out", tmp_path / "x")
    assert result.code == 2
    assert "invalid choice: 'xml'" in result.err
    assert "'csv', 'json', 'imagefolder'" in result.err
