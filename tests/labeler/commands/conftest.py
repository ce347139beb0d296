"""Fixtures of the project commands: a tiny project, an image folder, its labels."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

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


@pytest.fixture
def read_labels() -> Callable[[Path], dict[int, str]]:
    """The current label of every labeled sample of the project at a path, by class name."""
    return _read_labels


def _read_labels(path: Path) -> dict[int, str]:
    with open_project(path) as project:
        ids, labels = project.store.get_current_labels()
        return {
            int(sample): project.class_names[label]
            for sample, label in zip(ids, labels, strict=True)
        }
