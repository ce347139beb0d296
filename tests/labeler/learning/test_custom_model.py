"""Custom models: a researcher's torch module behind the Classifier interface."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from labeler.learning.custom_model import register_custom_model
from labeler.learning.models import DEFAULT_MODEL_CONFIG, ModelConfig, list_models, make_model


def plain_logits(n_classes: int, in_channels: int, image_size: int) -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(in_channels * image_size**2, n_classes))


class WithFeatures(nn.Module):
    def __init__(self, n_classes: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, 5, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Sequential(nn.Dropout(0.5), nn.Linear(5, n_classes))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def config(name: str) -> ModelConfig:
    return dataclasses.replace(DEFAULT_MODEL_CONFIG, name=name, image_size=16)


def test_a_factory_becomes_a_model_whose_logits_stand_in_for_features() -> None:
    name = register_custom_model(plain_logits)
    assert name == "custom:plain_logits" and name in list_models()
    model = make_model(config(name), n_classes=3)
    x = torch.rand(4, 1, 16, 16)
    assert model(x).shape == (4, 3)
    assert torch.equal(model.features(x), model(x)) and model.n_features == 3
    assert torch.equal(model.head(model.features(x)), model(x))


def test_a_module_with_features_and_a_head_keeps_them() -> None:
    name = register_custom_model(lambda n, c, s: WithFeatures(n), name="with_features")
    model = make_model(config(name), n_classes=2)
    x = torch.rand(3, 1, 16, 16)
    assert model.features(x).shape == (3, 5) and model.n_features == 5
    model.eval()
    assert torch.allclose(model.head(model.features(x)), model(x))


def test_factories_that_return_bad_modules_are_refused() -> None:
    wrong = register_custom_model(lambda n, c, s: plain_logits(n + 1, c, s), name="wrong")
    with pytest.raises(ValueError, match=r"returned \(2, 3\) for input .*logits \[n, 2\]"):
        make_model(config(wrong), n_classes=2)
    not_module = register_custom_model(lambda n, c, s: "net", name="not_module")
    with pytest.raises(ValueError, match=r"returned str, not a torch\.nn\.Module"):
        make_model(config(not_module), n_classes=2)
    with pytest.raises(ValueError, match="name the custom model"):
        register_custom_model(lambda n, c, s: plain_logits(n, c, s))
