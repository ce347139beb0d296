"""The ``labeler`` command line: generate, audit, and every kind of bad input."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from labeler.cli import make_parser
from labeler.data.dataset_format import find_datasets, load_dataset_info, load_metadata
from labeler.store.project import open_project

pytestmark = pytest.mark.usefixtures("registered_fake")


def assert_bad_input(result, *fragments: str) -> None:
    """Exit code 2 and one clear line on stderr naming every fragment, no traceback."""
    assert result.code == 2, result
    assert "Traceback" not in result.err
    error_lines = [line for line in result.err.splitlines() if line.startswith("labeler")]
    assert len(error_lines) == 1, result.err
    for fragment in fragments:
        assert fragment in error_lines[0], (fragment, error_lines[0])


def test_generate_writes_a_dataset_and_prints_a_summary(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "fake-a"
    result = run_cli(
        "generate", "fake", "--problem", "a", "--n-train", "20", "--n-test", "10", "--seed", "0",
        "--out", out,
    )  # fmt: skip
    assert result.code == 0, result.err
    assert f"wrote {out}" in result.out
    assert "train 20 (class_0 10, class_1 10)" in result.out
    assert "img/s" in result.out
    assert "img" in result.err  # the progress bar
    info = load_dataset_info(out)
    assert info.splits["test"].n_images == 10
    assert info.config["problem"] == "a"
    assert "out" not in info.config  # where it went is not part of what it is


def test_generate_passes_parameter_overrides(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "ds"
    result = run_cli(
        "generate", "fake", "--problem", "a", "--n-train", "4", "--n-test", "2",
        "--image-size", "12", "--preset", "hard", "--workers", "1", "--out", out,
    )  # fmt: skip
    assert result.code == 0, result.err
    info = load_dataset_info(out)
    assert (info.image_height, info.params["image_size"]) == (12, 12)
    assert info.config["preset"] == "hard"


def test_problem_all_writes_one_folder_per_problem(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "suite"
    result = run_cli(
        "generate", "fake", "--problem", "all", "--n-train", "4", "--n-test", "2", "--out", out,
    )  # fmt: skip
    assert result.code == 0, result.err
    assert find_datasets(out) == [out / "fake-a", out / "fake-b"]
    assert "wrote 2 datasets" in result.out


def test_force_replaces_an_existing_dataset(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "ds"
    args = ["generate", "fake", "--problem", "a", "--n-train", "4", "--n-test", "2", "--out", out]
    assert run_cli(*args).code == 0
    assert_bad_input(run_cli(*args, "--seed", "1"), str(out), "--force")
    assert run_cli(*args, "--seed", "1", "--force").code == 0
    assert load_dataset_info(out).seed == 1


def test_list_shows_families_problems_and_presets(run_cli) -> None:
    result = run_cli("generate", "--list")
    assert result.code == 0
    for expected in ("svrt", "orientation", "fake", "a, b", "easy, standard, hard"):
        assert expected in result.out
    only_fake = run_cli("generate", "fake", "--list")
    assert "fake" in only_fake.out
    assert "svrt" not in only_fake.out


def test_a_recipe_is_materialised_relative_to_the_current_folder(
    run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    recipe = tmp_path / "recipe.json"
    recipe.write_text(
        json.dumps(
            [
                {"family": "fake", "problem": "b", "n_train": 4, "n_test": 2, "out": "out/one"},
                {
                    "family": "fake",
                    "problem": "all",
                    "n_train": 2,
                    "n_test": 2,
                    "seed": 5,
                    "out": "out/all",
                },
            ]
        )
    )
    result = run_cli("generate", "--recipe", recipe)
    assert result.code == 0, result.err
    assert load_dataset_info(tmp_path / "out/one").problem == "b"
    assert load_dataset_info(tmp_path / "out/all/fake-a").seed == 5
    assert "wrote 3 datasets" in result.out


def test_audit_prints_the_probe_table_and_writes_json(
    run_cli, tiny_dataset: Path, tmp_path: Path
) -> None:
    json_path = tmp_path / "reports" / "audit.json"
    result = run_cli("audit", tiny_dataset, "--json", json_path)
    assert result.code == 0, result.err
    for feature in ("ink_count", "ink_deviation", "n_components", "bbox_area"):
        assert feature in result.out
    assert "1.000" in result.out
    report = json.loads(json_path.read_text())
    assert report[0]["name"] == tiny_dataset.name
    assert report[0]["max_test_accuracy"] == 1.0


def test_audit_of_a_folder_of_datasets_audits_each(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "suite"
    args = ["generate", "fake", "--problem", "all", "--n-train", "8", "--n-test", "4"]
    assert run_cli(*args, "--out", out).code == 0
    result = run_cli("audit", out, "--json", tmp_path / "audit.json")
    assert result.code == 0, result.err
    assert "fake-a" in result.out
    assert "fake-b" in result.out
    assert len(json.loads((tmp_path / "audit.json").read_text())) == 2


COUNTS = ["--n-train", "4", "--n-test", "2"]


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["generate", "nope", *COUNTS, "--out", "x"], ["'nope'", "svrt", "orientation"]),
        (["generate", "fake", "--problem", "z", *COUNTS, "--out", "x"], ["'z'", "a, b"]),
        (["generate", "svrt", "--problem", "99", *COUNTS, "--out", "x"], ["'99'", "valid"]),
        (["generate", "fake", *COUNTS, "--out", "x"], ["--problem", "a, b", "all"]),
        (["generate", "fake", "--problem", "a", "--n-train", "0", "--n-test", "2", "--out", "x"],
         ["n_train", "0"]),
        (["generate", "fake", "--problem", "a", "--n-train", "-4", "--n-test", "2", "--out", "x"],
         ["n_train", "-4"]),
        (["generate", "fake", "--problem", "a", "--n-train", "4", "--n-test", "3", "--out", "x"],
         ["3", "multiple"]),
        (["generate", "fake", "--problem", "a", "--n-train", "x4", "--n-test", "2"], ["'x4'"]),
        (["generate", "fake", "--problem", "a", *COUNTS], ["--out"]),
        (["generate", "fake", "--problem", "a", *COUNTS, "--preset", "insane", "--out", "x"],
         ["'insane'", "easy"]),
        (["generate", "fake", "--problem", "a", *COUNTS, "--workers", "0", "--out", "x"],
         ["--workers", "0"]),
        (["generate", "fake", "--problem", "a", *COUNTS, "--holdout-families", "bar", "--out",
          "x"], ["holdout_families"]),
        (["generate", "svrt", "--problem", "4", *COUNTS, "--mode", "sideways", "--out", "x"],
         ["'sideways'"]),
        (["generate", "--recipe", "missing.json"], ["missing.json"]),
        (["generate", "--recipe", "r.json", "--n-train", "4"], ["--n-train"]),
        (["generate"], ["svrt", "--recipe", "--list"]),
        (["generate", "nope", "--list"], ["'nope'"]),
        (["audit", "no/such/dataset"], ["no/such/dataset", "does not exist"]),
        (["frobnicate"], ["'frobnicate'"]),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_a_one_line_message(
    run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], fragments: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert_bad_input(run_cli(*args), *fragments)
    assert not (tmp_path / "x").exists()


def test_a_non_empty_output_folder_is_refused(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "taken"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    args = ["generate", "fake", "--problem", "a", *COUNTS, "--out", out]
    assert_bad_input(run_cli(*args), str(out), "--force")
    assert_bad_input(run_cli(*args, "--force"), str(out), "not a dataset folder")
    assert (out / "notes.txt").read_text() == "mine"


def test_problem_all_checks_every_output_before_writing_any(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "suite"
    (out / "fake-b").mkdir(parents=True)
    (out / "fake-b" / "notes.txt").write_text("mine")
    result = run_cli("generate", "fake", "--problem", "all", *COUNTS, "--out", out)
    assert_bad_input(result, str(out / "fake-b"))
    assert not (out / "fake-a").exists()


def test_an_unwritable_destination_exits_2(run_cli, tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    out = blocker / "out"
    result = run_cli("generate", "fake", "--problem", "a", *COUNTS, "--out", out)
    assert_bad_input(result, str(out), "cannot write")
    result = run_cli("audit", tmp_path, "--json", blocker / "audit.json")
    assert result.code == 2  # tmp_path holds no dataset


def test_an_unwritable_json_report_exits_2(run_cli, tiny_dataset: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    assert_bad_input(
        run_cli("audit", tiny_dataset, "--json", blocker / "audit.json"), "cannot write"
    )


def test_a_bad_recipe_entry_is_named(run_cli, tmp_path: Path) -> None:
    recipe = tmp_path / "recipe.json"
    recipe.write_text(json.dumps([{"family": "fake", "n_train": 4, "n_test": 2, "outt": "x"}]))
    assert_bad_input(run_cli("generate", "--recipe", recipe), "job 1", "outt")


def test_help_exits_0(run_cli) -> None:
    assert run_cli("generate", "--help").code == 0
    assert run_cli().code == 2


def test_every_command_prints_its_help(run_cli) -> None:
    """argparse formats help only when asked, so a help text it cannot format (a bare ``%``)
    fails no other test."""
    commands = list(_list_commands(make_parser()))
    assert ("round",) in commands and ("simulate",) in commands
    for command in commands:
        result = run_cli(*command, "--help")
        assert result.code == 0 and "usage:" in result.out, (command, result.err)


def _list_commands(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[str, ...]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, subparser in action.choices.items():
                yield (*prefix, name)
                yield from _list_commands(subparser, (*prefix, name))


def test_the_exact_svrt_command_works_on_the_real_family(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "svrt-04"
    result = run_cli(
        "generate", "svrt", "--problem", "4", "--n-train", "8", "--n-test", "4", "--seed", "0",
        "--mode", "balanced", "--out", out,
    )  # fmt: skip
    assert result.code == 0, result.err
    info = load_dataset_info(out)
    assert (info.family, info.problem, info.params["mode"]) == ("svrt", "4", "balanced")
    assert run_cli("audit", out).code == 0


def test_orientation_with_held_out_families(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "orientation"
    result = run_cli(
        "generate", "orientation", "--n-train", "8", "--n-test", "4",
        "--holdout-families", "arrow,letter", "--out", out,
    )  # fmt: skip
    assert result.code == 0, result.err
    assert load_dataset_info(out).config["holdout_families"] == ["arrow", "letter"]


def test_counting_gives_a_six_class_dataset_and_project(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "counting"
    result = run_cli(
        "generate", "counting", "--n-train", "36", "--n-test", "12", "--preset", "hard",
        "--out", out,
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "train 36 (1 6, 2 6, 3 6, 4 6, 5 6, 6 6)" in result.out
    info = load_dataset_info(out)
    assert (info.family, info.problem, info.config["preset"]) == ("counting", "shapes", "hard")
    assert info.label_preserving_transforms == ("hflip", "vflip", "rot90", "shift")
    assert_bad_input(
        run_cli(
            "generate", "counting", "--n-train", "10", "--n-test", "6", "--out", tmp_path / "x"
        ),
        "multiple of the 6 classes",
    )
    assert_bad_input(
        run_cli("generate", "counting", "--n-train", "6", "--n-test", "6", "--mode", "balanced",
                "--out", tmp_path / "x"),
        "mode",
    )  # fmt: skip
    audit = run_cli("audit", out)
    assert audit.code == 0, audit.err
    assert "chance 0.167" in audit.out

    project = tmp_path / "project"
    result = run_cli("init", project, "--images", out, "--image-size", "64")
    assert result.code == 0, result.err
    assert "classes: 1, 2, 3, 4, 5, 6" in result.out
    assert "pool: 36 samples, 36 with known labels; test: 12 samples" in result.out
    with open_project(project) as opened:
        assert opened.class_names == ("1", "2", "3", "4", "5", "6")
        _, known = opened.store.get_known_labels("pool")
        counts = [record["count"] for record in load_metadata(out, "train")]
        assert [opened.class_names[label] for label in known.tolist()] == [
            str(count) for count in counts
        ]
