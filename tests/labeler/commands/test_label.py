"""labeler label: by sample id and by path, and every kind of bad label."""

from __future__ import annotations

from pathlib import Path

import pytest

from labeler.store.project import open_project


def test_label_by_id_and_by_path(project: Path, run_cli, read_labels) -> None:
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
def test_label_errors(
    project: Path, run_cli, sample: str, label: str, message: str, read_labels
) -> None:
    result = run_cli("label", project, sample, label)
    assert result.code == 2
    assert message in result.err
    assert read_labels(project) == {}
