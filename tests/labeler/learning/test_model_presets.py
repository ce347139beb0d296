from dataclasses import replace
from types import SimpleNamespace

import pytest
import torch

from labeler.api.options import MODEL_DEFAULTS, get_model_config, get_requested_image_size
from labeler.learning.model_presets import PRESETS, get_preset, list_presets
from labeler.learning.models import count_parameters, make_model
from labeler.loop.round_config import RoundConfig


def _args(**given):
    return SimpleNamespace(**{**MODEL_DEFAULTS, **given})


def test_a_preset_resolves_to_its_fixed_network() -> None:
    config = get_model_config(_args(model="research-resnet"), image_size=128)
    assert (config.name, config.width, config.depth, config.stem_stride) == ("resnet", 16, 2, 4)
    assert config.image_size == 128 and config.coordinates
    model = make_model(config, n_classes=2).eval()
    with torch.no_grad():
        logits = model(torch.zeros(2, 1, 128, 128))
    assert logits.shape == (2, 2)
    assert 150_000 < count_parameters(model) < 200_000  # the size its docstring states


def test_a_preset_refuses_a_size_it_does_not_take() -> None:
    with pytest.raises(ValueError, match="takes images of 128 px only, got 64 px"):
        get_model_config(_args(model="research-resnet"), image_size=64)
    with pytest.raises(ValueError, match="takes images of 128 px only, got 96 px"):
        get_model_config(_args(model="research-resnet", image_size=96), image_size=128)


def test_a_preset_takes_no_shape_flags() -> None:
    with pytest.raises(ValueError, match="--depth 3 do not apply"):
        get_model_config(_args(model="research-resnet", depth=3), image_size=128)


def test_a_preset_asks_for_its_own_size_unless_one_is_given() -> None:
    assert get_requested_image_size(_args(model="research-resnet")) == 128
    assert get_requested_image_size(_args(model="research-resnet", image_size=64)) == 64
    assert get_requested_image_size(_args(model="resnet")) is None


def test_every_preset_is_listed_and_builds_a_registered_network() -> None:
    assert list_presets() == sorted(PRESETS)
    assert get_preset("resnet") is None
    for name in list_presets():
        preset = PRESETS[name]
        config = preset.make_config(
            name, image_size=preset.image_sizes[0], dropout=0.0, in_channels=1
        )
        assert make_model(config, n_classes=3) is not None


def test_a_round_config_names_only_a_preset_that_stands_for_its_network() -> None:
    config = get_model_config(_args(model="research-resnet"), image_size=128)
    assert RoundConfig(model=config, model_preset="research-resnet").model_preset == (
        "research-resnet"
    )
    with pytest.raises(ValueError, match="unknown model preset 'big-resnet'; valid ones: research"):
        RoundConfig(model=config, model_preset="big-resnet")
    with pytest.raises(ValueError, match="model preset research-resnet stands for"):
        RoundConfig(model=replace(config, width=8), model_preset="research-resnet")
