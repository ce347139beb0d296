"""Tests of ``labeler prune``: every subcommand end to end on tiny data, the trimmed model in
rounds and status, and the refusals of bad input (exit code 2)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from labeler.learning.checkpoints import load_checkpoint
from labeler.store.project import open_project

TINY_MODEL = ["--width", "4", "--depth", "2", "--image-size", "16", "--device", "cpu"]
TINY_TRAINING = ["--min-steps", "4", "--max-epochs", "2", "--batch-size", "16", "--threads", "1"]
TINY = [*TINY_MODEL, *TINY_TRAINING]
# Pruning cuts a network: the rounds train one (--model auto may choose a linear head).
NETWORK = ["--model", "resnet", "--strategy", "margin", "--initial-strategy", "random"]
ROUND_FLAGS = ["--query-size", "4", *NETWORK, *TINY]


@pytest.fixture
def labeled_project(tiny_dataset: Path, tmp_path: Path, run_cli: Callable) -> Path:
    """A project of the tiny dataset with 32 oracle labels and one trained round."""
    path = tmp_path / "proj"
    assert run_cli("init", path, "--images", tiny_dataset, "--image-size", "16").code == 0
    assert run_cli("round", path, "--initial", "32", *ROUND_FLAGS).code == 0
    assert run_cli("oracle", path).code == 0
    result = run_cli("round", path, *ROUND_FLAGS)
    assert result.code == 0, result.err
    return path


def test_analyze_trains_and_reports_every_layer_per_epoch(
    tiny_dataset: Path, tmp_path: Path, run_cli: Callable
) -> None:
    out = tmp_path / "analysis"
    result = run_cli("prune", "analyze", tiny_dataset, "--out", out, "--n-samples", "32", *TINY)
    assert result.code == 0, result.err
    assert "layers measured on 32 training samples" in result.out
    report = json.loads((out / "analyze.json").read_text())
    assert report["layers"]["stem"]["n_samples"] == 32
    assert "stages.0.1.branch" in report["layers"] and "logits" in report["layers"]
    assert [epoch["epoch"] for epoch in report["epochs"]] == [1, 2]
    assert set(report["epochs"][0]["layers"]) == set(report["layers"])
    assert 0.0 <= report["test_accuracy"] <= 1.0
    for plot in ("analyze-entropy-per-layer.png", "analyze-entropy-over-epochs.png"):
        assert (out / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_analyze_a_rounds_model_names_the_round(labeled_project: Path, run_cli: Callable) -> None:
    result = run_cli("prune", "analyze", labeled_project, "--round", "last", "--layers",
                     "stem,logits", *TINY)  # fmt: skip
    assert result.code == 0, result.err
    report = json.loads((labeled_project / "pruning" / "analyze.json").read_text())
    assert report["model"] == "round 2"
    assert set(report["layers"]) == {"stem", "logits"}
    assert report["epochs"] == []
    assert report["model_config"]["depth"] == 2  # the round's, not a default


def test_lesion_reports_every_group_and_set_size(
    tiny_dataset: Path, tmp_path: Path, run_cli: Callable
) -> None:
    out = tmp_path / "lesion"
    result = run_cli("prune", "lesion", tiny_dataset, "--out", out, "--n-draws", "2", *TINY)
    assert result.code == 0, result.err
    report = json.loads((out / "lesion.json").read_text())
    every = [point for point in report["points"] if point["group"] == "all"]
    assert [point["k"] for point in every] == [1, 2, 3, 4, 5, 6]
    assert every[-1]["n_draws"] == 1  # only one way to lesion all six blocks
    groups = {point["group"] for point in report["points"]}
    assert "non_conflicting" in groups or "conflicting" in groups
    assert (out / "lesion.png").is_file()


def test_greedy_then_apply_then_a_round_scores_with_the_trimmed_model(
    labeled_project: Path, run_cli: Callable
) -> None:
    result = run_cli("prune", "greedy", labeled_project, "--round", "last", "--blocks", "2",
                     "--fine-tune-steps", "5", "--n-random", "1", *TINY)  # fmt: skip
    assert result.code == 0, result.err
    assert "removed 2 of 6 blocks" in result.out
    report = json.loads((labeled_project / "pruning" / "greedy.json").read_text())
    assert report["greedy"]["n_removed"] == 2
    # 4 removable blocks: 4 candidates, then 3
    assert report["greedy"]["n_fine_tunes"] == 4 + 3
    assert [row["rule"] for row in report["comparison"]] == [
        "greedy", "last", "random-1", "entropy", "lesion",
    ]  # fmt: skip
    assert report["comparison"][1]["removed"] == ["stages.1.1", "stages.2.1"]
    assert report["scoring_speedup"] > 0

    result = run_cli("prune", "apply", labeled_project)
    assert result.code == 0, result.err
    assert "4 of 6 blocks" in result.out
    pruned, info = load_checkpoint(labeled_project / "pruning" / "pruned.pt")
    assert pruned(torch.zeros(1, 1, 16, 16)).shape == (1, 2)
    assert info.model_config.stage_depths is not None
    assert sum(info.model_config.stage_depths) == 4
    assert info.extra["pruning"]["removed_blocks"] == report["greedy"]["removed"]

    result = run_cli("round", labeled_project, "--scoring-model", "pruned", *ROUND_FLAGS)
    assert result.code == 0, result.err
    with open_project(labeled_project) as project:
        folder = project.get_round_folder(3)
    round_report = json.loads((folder / "report.json").read_text())
    assert round_report["scoring_model"]["kind"] == "pruned"
    assert round_report["scoring_model"]["n_blocks"] == 4
    scorer, _ = load_checkpoint(folder / "scoring-model.pt")
    assert sum(scorer.config.get_stage_depths()) == 4
    full, _ = load_checkpoint(folder / "model.pt")
    assert sum(full.config.get_stage_depths()) == 6

    result = run_cli("status", labeled_project)
    assert result.code == 0, result.err
    assert "round 3 scored the pool with the pruned 4/6 blocks model" in result.out
    assert "full" in result.out  # round 2 scored with its own model


def test_autotune_on_a_dataset_folder_reports_every_network(
    tiny_dataset: Path, tmp_path: Path, run_cli: Callable
) -> None:
    out = tmp_path / "autotune"
    result = run_cli("prune", "autotune", tiny_dataset, "--out", out, "--seeds", "0",
                     "--depth", "3", "--check-epochs", "1", "--max-restarts", "2",
                     "--width", "4", "--image-size", "16", "--device", "cpu",
                     *TINY_TRAINING)  # fmt: skip
    assert result.code == 0, result.err
    report = json.loads((out / "autotune.json").read_text())
    assert report["autotune_config"]["n_check_samples"] == 256  # autotune's own default
    run = report["runs"][0]
    assert set(run["networks"]) == {"autotuned", "start", "residual"}
    assert run["networks"]["start"]["stage_depths"] == [3, 3, 3]
    assert run["n_restarts"] == len(run["attempts"]) - 1 <= 2
    final = run["attempts"][-1]["stage_depths"]
    assert run["networks"]["autotuned"]["stage_depths"] == final
    for earlier, later in zip(run["attempts"], run["attempts"][1:], strict=False):
        assert earlier["next_stage_depths"] == later["stage_depths"]
        assert sum(later["stage_depths"]) < sum(earlier["stage_depths"])


def test_autotune_measures_as_many_samples_as_asked(
    tiny_dataset: Path, tmp_path: Path, run_cli: Callable
) -> None:
    out = tmp_path / "autotune"
    result = run_cli("prune", "autotune", tiny_dataset, "--out", out, "--seeds", "0",
                     "--depth", "2", "--check-epochs", "1", "--max-restarts", "0",
                     "--n-samples", "24", "--width", "4", "--image-size", "16",
                     "--device", "cpu", *TINY_TRAINING)  # fmt: skip
    assert result.code == 0, result.err
    report = json.loads((out / "autotune.json").read_text())
    assert report["autotune_config"]["n_check_samples"] == 24


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["analyze", "--layers", "stem,stages.7.0"], r"unknown layer\(s\) \['stages.7.0'\]"),
        (["greedy", "--blocks", "4"], "would remove every removable block"),
        (["greedy", "--max-drop", "2"], r"max drop must be a share in \[0, 1\)"),
        (["autotune", "--model", "resnet"], "starts from a deep 'plain' network"),
    ],
)
def test_bad_targets_and_names_exit_with_code_2(
    tiny_dataset: Path, tmp_path: Path, run_cli: Callable, flags: list[str], message: str
) -> None:
    result = run_cli("prune", flags[0], tiny_dataset, "--out", tmp_path / "out", *flags[1:],
                     *TINY)  # fmt: skip
    assert result.code == 2
    assert re.search(message, result.err), result.err


def test_a_project_without_a_trained_round_is_refused(
    tiny_dataset: Path, tmp_path: Path, run_cli: Callable
) -> None:
    path = tmp_path / "fresh"
    assert run_cli("init", path, "--images", tiny_dataset, "--image-size", "16").code == 0
    result = run_cli("prune", "lesion", path, "--round", "last", *TINY)
    assert result.code == 2
    assert "has no trained round yet" in result.err


def test_a_round_whose_checkpoint_is_missing_is_refused(
    labeled_project: Path, run_cli: Callable
) -> None:
    with open_project(labeled_project) as project:
        (project.get_round_folder(2) / "model.pt").unlink()
    result = run_cli("prune", "greedy", labeled_project, "--round", "2", "--blocks", "1", *TINY)
    assert result.code == 2
    assert "checkpoint of round 2 is missing" in result.err


def test_a_pruned_round_without_apply_or_with_another_model_is_refused(
    labeled_project: Path, run_cli: Callable
) -> None:
    result = run_cli("round", labeled_project, "--scoring-model", "pruned", *ROUND_FLAGS)
    assert result.code == 2
    assert "no pruned model" in result.err and "prune apply" in result.err
    assert run_cli("prune", "greedy", labeled_project, "--round", "last", "--blocks", "1",
                   "--fine-tune-steps", "2", "--n-random", "1", *TINY).code == 0  # fmt: skip
    assert run_cli("prune", "apply", labeled_project).code == 0
    flags = [*ROUND_FLAGS, "--depth", "3"]
    result = run_cli("round", labeled_project, "--scoring-model", "pruned", *flags)
    assert result.code == 2
    assert "--depth 2" in result.err
    with open_project(labeled_project) as project:
        assert [r.status for r in project.store.get_rounds()][-1] == "done"  # none started


def test_apply_needs_a_greedy_model(labeled_project: Path, run_cli: Callable) -> None:
    result = run_cli("prune", "apply", labeled_project)
    assert result.code == 2
    assert "run `labeler prune greedy" in result.err
