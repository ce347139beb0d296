"""labeler import-labels: by id and path, all or nothing, header checks."""

from __future__ import annotations

import csv
from pathlib import Path

from labeler.store.project import open_project


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows(rows)
    return path


def test_import_labels_by_id_and_path(project: Path, tmp_path: Path, run_cli, read_labels) -> None:
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
    project: Path, tmp_path: Path, run_cli, read_labels
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
