"""labeler.api: the labeling loop from Python, with the commands' options and a researcher's own
strategy or model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from torch import nn

from labeler import api
from labeler.api.options import ROUND_DEFAULTS, SIMULATION_DEFAULTS
from labeler.cli import make_parser
from labeler.learning import model_presets
from labeler.learning.model_presets import ModelPreset
from labeler.store import project_files
from labeler.store.project import open_project

FAST = {"width": 4, "min_steps": 20, "max_epochs": 3, "batch_size": 16, "device": "cpu"}
FAST |= {"threads": 1}


@pytest.fixture
def project(tiny_dataset: Path, tmp_path: Path) -> Path:
    path = tmp_path / "proj"
    summary = api.create_project(path, tiny_dataset, image_size=16)
    assert summary.n_pool == 40 and summary.class_names == ("class_0", "class_1")
    return path


def label_queue_with_truth(path: Path) -> int:
    queued = api.get_queue(path)
    return api.add_labels(path, {item["sample"]: item["known_label"] for item in queued})


def read_last_report(path: Path) -> dict:
    return json.loads((path / report_folder(path) / project_files.REPORT_FILE).read_text())


def test_the_commands_and_the_api_share_their_options_and_defaults() -> None:
    parser = make_parser()
    for command, defaults in (("round", ROUND_DEFAULTS), ("simulate", SIMULATION_DEFAULTS)):
        argv = [command, "x"] + (["--out", "y"] if command == "simulate" else [])
        args = vars(parser.parse_args(argv))
        for name, value in defaults.items():
            parsed = args[name]
            if name == "strategies":
                parsed = tuple(parsed.split(","))
            assert parsed == value, (command, name)


def test_a_loop_from_python_creates_labels_rounds_and_exports(
    project: Path, tmp_path: Path
) -> None:
    first = api.run_round(project, initial=8, progress=False, **FAST)
    assert first.n_queued == 8
    assert label_queue_with_truth(project) == 8
    second = api.run_round(project, query_size=6, progress=False, **FAST)
    assert second.n_labels == 8 and second.n_queued == 6
    status = api.get_status(project)
    assert status["n_labeled"] == 8 and len(status["rounds"]) == 2
    summary = api.export_labels(project, tmp_path / "labels.csv")
    lines = (tmp_path / "labels.csv").read_text().splitlines()
    assert summary.n_labels == 8 and len(lines) == 9 and lines[0].startswith("sample,path,label")


def test_bad_options_and_labels_are_refused(project: Path) -> None:
    with pytest.raises(
        ValueError, match=r"unknown round option\(s\) querysize; valid ones: audit_share, augment"
    ):
        api.run_round(project, querysize=5)
    with pytest.raises(ValueError, match=r"unknown strategy 'smart'"):
        api.run_round(project, strategy="smart", initial=4)
    with pytest.raises(ValueError, match=r"unknown label 'no_such_class'; the classes are"):
        api.add_labels(project, {0: "class_0", 1: "no_such_class"})
    assert api.get_status(project)["n_labeled"] == 0  # all or nothing


def farthest_from_half(probs: np.ndarray) -> np.ndarray:
    """A custom acquisition: the most confident first (the opposite of margin)."""
    return np.abs(probs.mean(axis=2)[:, 0] - 0.5)


def test_a_custom_strategy_is_used_and_recorded(project: Path) -> None:
    api.run_round(project, initial=10, progress=False, **FAST)
    label_queue_with_truth(project)
    summary = api.run_round(
        project,
        strategy=farthest_from_half,
        model="linear@pixels",
        query_size=5,
        audit_share=0.0,  # the whole batch by the strategy: no random audit slice
        progress=False,
    )
    assert summary.strategy == "custom:farthest_from_half"
    report = read_last_report(project)
    assert report["config"]["selection"]["strategy"] == "custom:farthest_from_half"
    folder = project / report_folder(project)
    scores = np.load(folder / project_files.SCORES_FILE)
    scored = np.load(folder / project_files.SCORED_IDS_FILE)
    confidences = np.load(folder / project_files.CONFIDENCES_FILE)
    np.testing.assert_allclose(scores, confidences - 0.5, atol=1e-6)  # two classes
    queued = {item["sample"] for item in api.get_queue(project)}
    assert queued == set(scored[np.argsort(-scores, kind="stable")[:5]].tolist())


def report_folder(path: Path) -> str:
    with open_project(path) as opened:
        last = opened.store.get_last_done_round()
        assert last is not None and last.folder
        return last.folder


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        (lambda probs: np.zeros(3), r"returned scores of shape \(3,\); it must return one score"),
        (lambda probs: np.full(probs.shape[0], np.nan), r"returned \d+ NaN or infinite scores"),
    ],
)
def test_a_bad_custom_strategy_stops_the_round_before_anything_is_queued(
    project: Path, returned, message: str
) -> None:
    api.run_round(project, initial=10, progress=False, **FAST)
    label_queue_with_truth(project)
    api.run_round(project, model="linear@pixels", query_size=5, progress=False)
    before = api.get_queue(project)
    assert len(before) == 5

    def broken(probs: np.ndarray) -> np.ndarray:
        return returned(probs)

    with pytest.raises(ValueError, match=f"strategy 'custom:broken' {message}"):
        api.run_round(project, strategy=broken, model="linear@pixels", query_size=5)
    assert api.get_queue(project) == before


class TinyNet(nn.Module):
    """A researcher's network, with features and a head."""

    def __init__(self, n_classes: int, in_channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, 4, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(4, n_classes))

    def features(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.features(x))


def tiny_net(n_classes: int, in_channels: int, image_size: int) -> nn.Module:
    return TinyNet(n_classes, in_channels)


def test_a_custom_model_is_trained_scored_and_recorded(project: Path) -> None:
    with open_project(project) as opened:
        ids, labels = opened.store.get_known_labels("pool")
        names = opened.class_names
    truth = {int(i): names[int(label)] for i, label in zip(ids, labels, strict=True)}
    api.add_labels(project, dict(list(truth.items())[:30]))
    summary = api.run_round(
        project, model=tiny_net, strategy="bald", query_size=4, progress=False, **FAST
    )
    assert summary.learner == "cnn" and summary.n_queued == 4
    report = read_last_report(project)
    assert report["config"]["model"]["name"] == "custom:tiny_net"


def test_a_simulation_records_the_model_preset_it_was_asked_for(
    tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny = ModelPreset("resnet", 4, 1, 2, (16,), "a network small enough for a test")
    monkeypatch.setitem(model_presets.PRESETS, "tiny-test", tiny)
    options = {"seeds": 1, "initial": 4, "query_size": 4, "budget": 8, "max_epochs": 1}
    named = api.simulate(
        tiny_dataset, tmp_path / "preset", strategies=["random"], model="tiny-test", **options
    )
    saved = json.loads((named.out / "results.json").read_text())
    assert saved["model_preset"] == "tiny-test"
    assert (saved["model_config"]["width"], saved["model_config"]["depth"]) == (4, 1)
    plain = api.simulate(
        tiny_dataset, tmp_path / "plain", strategies=["random"], model="resnet", **options
    )
    assert plain.results["model_preset"] is None


def test_a_simulation_runs_custom_strategies_beside_the_built_in_ones(
    tiny_dataset: Path, tmp_path: Path
) -> None:
    outcome = api.simulate(
        tiny_dataset,
        tmp_path / "sim",
        strategies=["random", farthest_from_half],
        model="linear@pixels",
        seeds=1,
        initial=4,
        query_size=4,
        budget=12,
        image_size=16,
        progress=False,
    )
    runs = outcome.results["runs"]
    assert [run["strategy"] for run in runs] == ["random", "custom:farthest_from_half"]
    assert all(run["n_labels"] == [4, 8, 12] for run in runs)
    assert "custom:farthest_from_half" in outcome.table
    assert (outcome.out / "learning_curves.png").is_file()
    with pytest.raises(ValueError, match="list of names or functions"):
        api.simulate(tiny_dataset, tmp_path / "x", strategies="random")  # type: ignore[arg-type]
