"""labeler init: from a dataset, from an image folder, from a flat folder with classes."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from labeler.store.project import open_project


def test_init_from_a_dataset_prints_a_summary(project: Path, tiny_dataset: Path, run_cli) -> None:
    with open_project(project) as opened:
        assert opened.store.n_samples == 60
    result = run_cli("init", project, "--images", tiny_dataset)
    assert result.code == 2
    assert "already a project" in result.err


def test_init_from_an_image_folder_lists_skipped_files(
    image_folder: Path, tmp_path: Path, run_cli, read_labels
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
    assert "skipped as unreadable: 1 file" in result.out
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
