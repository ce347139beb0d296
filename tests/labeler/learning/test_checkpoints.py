"""Tests of labeler.learning.checkpoints: round trip, the JSON sidecar, corrupt files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from labeler.learning.checkpoints import get_config_path, load_checkpoint, save_checkpoint
from labeler.learning.models import Classifier, ModelConfig, make_model

CONFIG = ModelConfig(name="plain", width=4, depth=2, image_size=16, dropout=0.3)


@pytest.fixture
def model() -> Classifier:
    torch.manual_seed(0)
    net = make_model(CONFIG, n_classes=3)
    net.train()
    with torch.no_grad():
        net(torch.rand(8, 1, 16, 16))  # non-default batch-norm statistics
    return net.eval()


def save(path: Path, model: Classifier) -> Path:
    return save_checkpoint(
        path,
        model,
        model_config=CONFIG,
        n_classes=3,
        class_names=["cat", "dog", "eel"],
        extra={"round": 2, "val_accuracy": 0.75},
    )


def test_round_trip(model: Classifier, tmp_path: Path) -> None:
    path = save(tmp_path / "model.pt", model)
    loaded, info = load_checkpoint(path)
    assert info.model_config == CONFIG and info.n_classes == 3
    assert info.class_names == ("cat", "dog", "eel")
    assert info.extra == {"round": 2, "val_accuracy": 0.75}
    assert not loaded.training
    for (name, saved), restored in zip(
        model.state_dict().items(), loaded.state_dict().values(), strict=True
    ):
        assert torch.equal(saved, restored), name
    x = torch.rand(4, 1, 16, 16)
    with torch.no_grad():
        # Close, not equal: the loaded model runs channels_last, a different summation order.
        torch.testing.assert_close(loaded(x), model(x))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json", "model.pt"]


def test_sidecar_json(model: Classifier, tmp_path: Path) -> None:
    path = save(tmp_path / "model.pt", model)
    assert get_config_path(path) == tmp_path / "model.json"
    sidecar = json.loads(get_config_path(path).read_text())
    assert sidecar["model_config"] == CONFIG.to_dict()
    assert sidecar["class_names"] == ["cat", "dog", "eel"]
    assert sidecar["extra"]["round"] == 2
    assert "state_dict" not in sidecar


def test_overwrite_keeps_no_temporary_files(model: Classifier, tmp_path: Path) -> None:
    path = save(tmp_path / "model.pt", model)
    save(path, model)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json", "model.pt"]


def test_truncated_checkpoint(model: Classifier, tmp_path: Path) -> None:
    path = save(tmp_path / "model.pt", model)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"model\.pt is truncated or corrupt"):
        load_checkpoint(path)


def test_garbage_and_missing(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match=r"garbage\.pt"):
        load_checkpoint(garbage)
    with pytest.raises(ValueError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")


def test_other_torch_file_is_not_a_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "tensor.pt"
    torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(ValueError, match="not a checkpoint"):
        load_checkpoint(path)


def test_weights_of_another_architecture(model: Classifier, tmp_path: Path) -> None:
    path = save(tmp_path / "model.pt", model)
    data = torch.load(path, weights_only=True)
    data["model_config"]["width"] = 8
    torch.save(data, path)
    with pytest.raises(ValueError, match="malformed"):
        load_checkpoint(path)


def test_bad_save_arguments(model: Classifier, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="2 class names given for 3 classes"):
        save_checkpoint(
            tmp_path / "m.pt", model, model_config=CONFIG, n_classes=3, class_names=["a", "b"]
        )
    with pytest.raises(ValueError, match=r"\.json"):
        save_checkpoint(
            tmp_path / "m.json", model, model_config=CONFIG, n_classes=3, class_names="abc"
        )
