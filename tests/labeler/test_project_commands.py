from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from labeler.store.project import open_project


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """ant/ and bee/ class folders, two 10x10 PNGs each, and one corrupt file."""
    root = tmp_path / "pictures"
    for class_name, value in (("ant", 30), ("bee", 220)):
        (root / class_name).mkdir(parents=True)
        for index in range(2):
            Image.new("L", (10, 10), value + index).save(root / class_name / f"{index}.png")
    (root / "bee" / "bad.png").write_bytes(b"garbage")
    return root


@pytest.fixture
def project(tiny_dataset: Path, tmp_path: Path, run_cli: Callable) -> Path:
    """A project of the tiny fake dataset at 16 px (40 pool, 20 test samples)."""
    path = tmp_path / "proj"
    result = run_cli("init", path, "--images", tiny_dataset, "--image-size", "16")
    assert result.code == 0, result.err
    return path


def read_labels(path: Path) -> dict[int, str]:
    with open_project(path) as project:
        ids, labels = project.store.get_current_labels()
        return {
            int(sample): project.class_names[label]
            for sample, label in zip(ids, labels, strict=True)
        }


# --- init --------------------------------------------------------------------------------------


def test_init_from_a_dataset_prints_a_summary(project: Path, tiny_dataset: Path, run_cli) -> None:
    with open_project(project) as opened:
        assert opened.store.n_samples == 60
    result = run_cli("init", project, "--images", tiny_dataset)
    assert result.code == 2
    assert "already a project" in result.err


def test_init_from_an_image_folder_lists_skipped_files(
    image_folder: Path, tmp_path: Path, run_cli
) -> None:
    result = run_cli(
        "init",
        tmp_path / "proj",
        "--images",
        image_folder,
        "--image-size",
        "8",
        "--use-folder-labels",
    )
    assert result.code == 0, result.err
    assert "classes: ant, bee" in result.out
    assert "pool: 4 samples, 4 with known labels; test: 0 samples" in result.out
    assert "labels recorded from the folders: 4" in result.out
    assert "skipped 1 unreadable files:" in result.out
    assert "bee/bad.png" in result.out
    assert read_labels(tmp_path / "proj") == {0: "ant", 1: "ant", 2: "bee", 3: "bee"}


def test_init_flat_folder_takes_classes(tmp_path: Path, run_cli) -> None:
    root = tmp_path / "flat"
    root.mkdir()
    Image.new("L", (9, 9), 0).save(root / "a.png")
    result = run_cli("init", tmp_path / "p1", "--images", root, "--image-size", "8")
    assert result.code == 2
    assert "--classes" in result.err
    result = run_cli(
        "init", tmp_path / "p2", "--images", root, "--image-size", "8", "--classes", "yes, no"
    )
    assert result.code == 0, result.err
    assert "classes: yes, no" in result.out
    result = run_cli("init", tmp_path / "p3", "--images", root, "--classes", "yes,,no")
    assert result.code == 2
    assert "empty name" in result.err


# --- label and status --------------------------------------------------------------------------


def test_label_by_id_and_by_path(project: Path, run_cli) -> None:
    result = run_cli("label", project, "3", "class_0", "--annotator", "ann")
    assert result.code == 0, result.err
    assert result.out.strip() == "sample 3 (train/class_1/train-000003.png): class_0, by ann"
    result = run_cli("label", project, "train/class_1/train-000003.png", "class_1")
    assert result.code == 0, result.err
    assert "class_1 (was class_0)" in result.out
    assert read_labels(project) == {3: "class_1"}
    with open_project(project) as opened:
        assert [event.source for event in opened.store.get_label_history(3)] == ["cli", "cli"]


@pytest.mark.parametrize(
    ("sample", "label", "message"),
    [
        ("3", "class_9", "unknown label 'class_9'; the classes are: class_0, class_1"),
        ("60", "class_0", "there is no sample 60; sample ids run from 0 to 59"),
        ("45", "class_0", "sample 45 is in the test split"),
        ("nope.png", "class_0", "no sample has the path 'nope.png'"),
    ],
)
def test_label_errors(project: Path, run_cli, sample: str, label: str, message: str) -> None:
    result = run_cli("label", project, sample, label)
    assert result.code == 2
    assert message in result.err
    assert read_labels(project) == {}


def test_status_shows_labels_rounds_and_queue(project: Path, run_cli) -> None:
    run_cli("label", project, "0", "class_0")
    run_cli("label", project, "1", "class_0")
    with open_project(project) as opened:
        store = opened.store
        round_id = store.start_round(strategy="entropy", query_size=3, config={})
        store.finish_round(
            round_id,
            folder="rounds/round-0001",
            n_labels=2,
            val_accuracy=0.5,
            test_accuracy=0.625,
            scored_ids=[5, 6, 7],
            scores=[0.1, 0.2, 0.3],
            selected_ids=[7, 6, 5],
        )
        store.lease_next("ann", 1)
    result = run_cli("status", project)
    assert result.code == 0, result.err
    assert "pool: 40 samples, 2 labeled, 38 unlabeled; test: 20 samples" in result.out
    lines = result.out.splitlines()
    class_rows = [line.split() for line in lines if line.startswith("class_")]
    # Known classes: 0 is class_0, 1 is class_1; both are labeled class_0, so 19 + 19 left.
    assert class_rows == [["class_0", "2", "19"], ["class_1", "0", "19"]]
    round_row = next(line for line in lines if line.split()[:3] == ["1", "done", "entropy"])
    assert "0.500" in round_row and "0.625" in round_row
    assert "last test accuracy: 0.625 (round 1)" in result.out
    assert "queue: 3 waiting, 1 leased" in result.out

    result = run_cli("status", project, "--json")
    status = json.loads(result.out)
    assert status["n_labeled"] == 2
    assert status["classes"][0] == {"name": "class_0", "labeled": 2, "unlabeled_known": 19}
    assert status["rounds"][0]["test_accuracy"] == 0.625
    assert (status["n_queued"], status["n_leased"]) == (3, 1)


def test_status_of_a_missing_project(tmp_path: Path, run_cli) -> None:
    result = run_cli("status", tmp_path / "none")
    assert result.code == 2
    assert "does not exist" in result.err


# --- import and export -------------------------------------------------------------------------


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows(rows)
    return path


def test_import_labels_by_id_and_path(project: Path, tmp_path: Path, run_cli) -> None:
    file = write_csv(
        tmp_path / "labels.csv",
        [
            ["sample", "label", "annotator"],
            ["0", "class_1", "ann"],
            ["train/class_1/train-000001.png", "class_1", ""],
            [],
            ["2", "class_0", "bob"],
        ],
    )
    result = run_cli("import-labels", project, file, "--annotator", "default")
    assert result.code == 0, result.err
    assert "imported 3 labels" in result.out
    assert read_labels(project) == {0: "class_1", 1: "class_1", 2: "class_0"}
    with open_project(project) as opened:
        events = opened.store.get_label_events()
    assert [(event.annotator, event.source) for event in events] == [
        ("ann", "import"),
        ("default", "import"),
        ("bob", "import"),
    ]


def test_import_labels_is_all_or_nothing_and_names_lines(
    project: Path, tmp_path: Path, run_cli
) -> None:
    file = write_csv(
        tmp_path / "labels.csv",
        [
            ["sample", "label"],
            ["0", "class_1"],
            ["1", "cow"],
            ["99", "class_0"],
            ["41", "class_0"],
            ["", "class_0"],
            ["2", "class_0"],
        ],
    )
    result = run_cli("import-labels", project, file)
    assert result.code == 2
    assert "4 bad lines, nothing imported" in result.err
    assert "line 3: unknown label 'cow'; the classes are: class_0, class_1" in result.err
    assert "line 4: no sample '99'" in result.err
    assert "line 5: sample '41' is a test sample" in result.err
    assert "line 6: the sample is empty" in result.err
    assert read_labels(project) == {}


def test_import_labels_checks_the_header(project: Path, tmp_path: Path, run_cli) -> None:
    file = write_csv(tmp_path / "labels.csv", [["id", "class"], ["0", "class_1"]])
    result = run_cli("import-labels", project, file)
    assert result.code == 2
    assert "lacks the column(s) sample, label" in result.err
    assert "found: 'id', 'class'" in result.err
    empty = write_csv(tmp_path / "empty.csv", [["sample", "label"]])
    result = run_cli("import-labels", project, empty)
    assert result.code == 2
    assert "holds no labels" in result.err


def test_export_csv_reimports_and_json_matches(project: Path, tmp_path: Path, run_cli) -> None:
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
