"""Rounds with pretrained backbones (``labeler round --model <backbone>-pretrained``), on
stand-in weights files of random weights: torch's cache via TORCH_HOME, or ``--weights``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from labeler.learning.checkpoints import load_checkpoint
from labeler.learning.models import PretrainedBackbone
from labeler.learning.scoring import score_pool
from labeler.store import project_files
from labeler.store.project import open_project
from labeler.store.project_files import FEATURES_FOLDER
from tests.backbone_weights import get_cache_file, write_random_weights
from tests.last_round import get_last_round_folder, read_last_report

BACKBONE = "mobilenet_v3_small"
MODEL = f"{BACKBONE}-pretrained"
FLAGS = ["--model", MODEL, "--query-size", "6", "--min-steps", "20", "--max-epochs", "3"]
FLAGS += ["--batch-size", "16", "--device", "cpu", "--threads", "1"]
WEIGHTS_FILE = "mobilenet_v3_small-047dcff4.pth"


@pytest.fixture
def labeled_project(tiny_dataset: Path, tmp_path: Path, run_cli: Callable) -> Path:
    """The tiny dataset at 16 px with 16 labels from the oracle."""
    path = tmp_path / "proj"
    assert run_cli("init", path, "--images", tiny_dataset, "--image-size", "16").code == 0
    assert run_cli("round", path, "--initial", "16", "--initial-strategy", "random").code == 0
    assert run_cli("oracle", path).code == 0
    return path


@pytest.fixture
def torch_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty torch cache for this test (TORCH_HOME), so that no real cache is read."""
    home = tmp_path / "torch-home"
    monkeypatch.setenv("TORCH_HOME", str(home))
    return home


def test_a_frozen_round_caches_features_and_saves_a_full_model(
    labeled_project: Path, torch_home: Path, run_cli: Callable
) -> None:
    state = write_random_weights(get_cache_file(torch_home, WEIGHTS_FILE), BACKBONE, seed=0)
    result = run_cli("round", labeled_project, "--strategy", "bald", *FLAGS)
    assert result.code == 0, result.err
    assert "cnn learned from 16 labels" in result.out
    cached = sorted((labeled_project / FEATURES_FOLDER).glob("*.npy"))
    assert len(cached) == 1
    folder = get_last_round_folder(labeled_project)
    report = json.loads((folder / project_files.REPORT_FILE).read_text())
    assert report["config"]["backbone"] == {"mode": "frozen", "weights": None}
    assert report["backbone"]["features"] == str(cached[0])
    assert report["backbone"]["feature_seconds"] > 0
    assert report["test_accuracy"] is not None

    # The checkpoint is a whole classifier: the file's backbone and the trained head, which
    # scores raw images as the round scored their cached features (MC-dropout draws aside).
    model, info = load_checkpoint(folder / project_files.CHECKPOINT_FILE)
    assert isinstance(model, PretrainedBackbone) and info.model_config.name == MODEL
    loaded = model.body.state_dict()
    for key, value in state.items():
        if not key.startswith("classifier."):
            assert torch.equal(loaded[key], value), key
    scored = np.load(folder / project_files.SCORED_IDS_FILE)
    with open_project(labeled_project) as opened:
        images = opened.load_images()
        predictions = score_pool(model, images, indices=scored, device="cpu", progress=False)
    # The saved head turns the cached features into the probabilities the images give.
    with torch.no_grad():
        head_probs = torch.softmax(
            model.head.eval()(torch.from_numpy(np.load(cached[0])[scored])), dim=1
        )
    np.testing.assert_allclose(predictions.probs[:, :, 0], head_probs.numpy(), atol=1e-4)
    guesses = np.load(folder / project_files.GUESSES_FILE)
    assert guesses.shape == scored.shape and guesses.max() < 2
    np.testing.assert_allclose(
        predictions.features, np.load(cached[0])[scored], rtol=1e-4, atol=1e-5
    )

    # The next round reuses the cache instead of computing it again.
    written = cached[0].stat().st_mtime_ns
    assert run_cli("oracle", labeled_project).code == 0
    result = run_cli("round", labeled_project, *FLAGS)
    assert result.code == 0, result.err
    report = read_last_report(labeled_project)
    assert report["n_labels"] == 22
    assert report["backbone"]["feature_seconds"] == 0.0
    assert cached[0].stat().st_mtime_ns == written


def test_a_finetuned_round_reads_a_named_weights_file(
    labeled_project: Path, torch_home: Path, tmp_path: Path, run_cli: Callable
) -> None:
    weights = tmp_path / "my-weights.pth"
    state = write_random_weights(weights, BACKBONE, seed=1)
    result = run_cli(
        "round", labeled_project, *FLAGS, "--backbone-mode", "finetune", "--weights", weights
    )
    assert result.code == 0, result.err
    assert not (labeled_project / FEATURES_FOLDER).exists()  # nothing frozen to cache
    folder = get_last_round_folder(labeled_project)
    report = json.loads((folder / project_files.REPORT_FILE).read_text())
    assert report["config"]["backbone"] == {"mode": "finetune", "weights": str(weights)}
    model, _ = load_checkpoint(folder / project_files.CHECKPOINT_FILE)
    # Fine-tuning moved the backbone's weights away from the file's.
    first_conv = model.body.state_dict()["features.0.0.weight"]
    assert first_conv.shape == state["features.0.0.weight"].shape
    assert not torch.equal(first_conv, state["features.0.0.weight"])


def test_missing_weights_end_the_round_with_exit_code_2(
    labeled_project: Path, torch_home: Path, run_cli: Callable
) -> None:
    result = run_cli("round", labeled_project, *FLAGS)
    assert result.code == 2
    assert str(get_cache_file(torch_home, WEIGHTS_FILE)) in result.err
    assert "torchvision.models.mobilenet_v3_small(weights='IMAGENET1K_V1')" in result.err
    with open_project(labeled_project) as opened:
        assert [r.strategy for r in opened.store.get_rounds()] == ["initial-random"]
    result = run_cli("round", labeled_project, *FLAGS, "--weights", labeled_project / "none.pth")
    assert result.code == 2
    assert str(labeled_project / "none.pth") in result.err


def test_unfitting_weights_end_the_round_with_exit_code_2(
    labeled_project: Path, torch_home: Path, tmp_path: Path, run_cli: Callable
) -> None:
    weights = tmp_path / "resnet18.pth"
    write_random_weights(weights, "resnet18", seed=0)
    result = run_cli("round", labeled_project, *FLAGS, "--weights", weights)
    assert result.code == 2
    assert f"weights file {weights} does not fit mobilenet_v3_small" in result.err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--model", "resnet", "--weights", "w.pth"], "--weights apply to the -pretrained"),
        (["--backbone-mode", "frozen"], "--backbone-mode apply to the -pretrained models only"),
        (["--model", MODEL, "--scoring-model", "pruned"], "use --scoring-model full"),
    ],
)
def test_backbone_flags_need_a_pretrained_model(
    labeled_project: Path, run_cli: Callable, flags: list[str], message: str
) -> None:
    result = run_cli("round", labeled_project, *flags)
    assert result.code == 2
    assert message in result.err


def test_other_commands_refuse_pretrained_models(
    tiny_dataset: Path, tmp_path: Path, run_cli: Callable
) -> None:
    # simulate would train the backbone from random weights: refused rather than misleading.
    result = run_cli("simulate", tiny_dataset, "--model", MODEL, "--out", tmp_path / "sim")
    assert result.code == 2
    assert "only supported by `labeler round`" in result.err
