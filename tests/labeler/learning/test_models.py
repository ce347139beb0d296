"""Tests of labeler.learning.models: the registry, the architectures and the input format."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

from labeler.learning import models
from labeler.learning.devices import cpu_threads
from labeler.learning.models import (
    DEFAULT_MODEL_CONFIG,
    BasicBlock,
    ModelConfig,
    add_coordinates,
    count_parameters,
    get_model,
    list_models,
    make_inference_copy,
    make_model,
    make_model_input,
    register_model,
)

SMALL = ModelConfig(width=4, image_size=16)


def test_registry_lists_the_three_models() -> None:
    assert {"resnet", "plain", "resnet18"} <= set(list_models())
    assert list_models() == sorted(list_models())


def test_unknown_model_lists_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown model 'vgg'.*plain.*resnet"):
        get_model("vgg", n_classes=2)


def test_config_name_must_match() -> None:
    with pytest.raises(ValueError, match="differs"):
        get_model("plain", n_classes=2, config=SMALL)


def test_register_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="model 'resnet' is already registered"):
        register_model("resnet")(lambda config, n_classes: make_model(SMALL, n_classes=2))


@pytest.mark.parametrize(
    "changes",
    [
        {"width": 0},
        {"depth": -1},
        {"image_size": 4},
        {"stem_stride": 3},
        {"dropout": 1.0},
        {"in_channels": 2},
        {"coordinates": 1},
        {"coordinates": True, "name": "resnet18"},
    ],
)
def test_bad_config_values(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=f"ModelConfig.{next(iter(changes))}"):
        ModelConfig(**changes)  # type: ignore[arg-type]


def test_bad_n_classes() -> None:
    with pytest.raises(ValueError, match="n_classes"):
        get_model("resnet", n_classes=1, config=DEFAULT_MODEL_CONFIG)


def test_config_dict_round_trip_and_unknown_keys() -> None:
    config = ModelConfig(name="plain", depth=2, width=8, image_size=48, dropout=0.1)
    assert ModelConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="colour"):
        ModelConfig.from_dict({**config.to_dict(), "colour": 1})


@pytest.mark.parametrize("name", ["resnet", "plain", "resnet18"])
def test_shapes_and_forward_is_head_of_features(name: str) -> None:
    torch.manual_seed(0)
    config = dataclasses.replace(SMALL, name=name)
    model = make_model(config, n_classes=3).eval()
    x = torch.rand(5, 1, 16, 16).contiguous(memory_format=torch.channels_last)
    with torch.no_grad(), cpu_threads(1):
        features = model.features(x)
        logits = model(x)
    assert features.shape == (5, model.n_features)
    assert logits.shape == (5, 3)
    torch.testing.assert_close(logits, model.head(features))
    assert isinstance(model.head[0], nn.Dropout) and isinstance(model.head[1], nn.Linear)
    assert model.config == config and model.n_classes == 3


def test_resnet_widths_and_stem_stride() -> None:
    model = make_model(ModelConfig(width=8, depth=2, image_size=32, stem_stride=2), n_classes=2)
    assert model.n_features == 32  # 4 * width
    assert len(model.stages) == 3 and all(len(stage) == 2 for stage in model.stages)
    x = torch.rand(2, 1, 32, 32)
    assert model.stem(x).shape == (2, 8, 16, 16)
    stride_1 = make_model(ModelConfig(width=8, image_size=32, stem_stride=1), n_classes=2)
    assert stride_1.stem(x).shape == (2, 8, 32, 32)
    torch.manual_seed(0)
    stride_4 = make_model(ModelConfig(width=8, image_size=32, stem_stride=4), n_classes=2)
    assert stride_4.stem(x).shape == (2, 8, 8, 8)
    # The pooling adds no weights: the same network as with stride 2, on a quarter of the map.
    assert count_parameters(stride_4) == count_parameters(model)
    # A one-pixel line survives the stem's pooling (a second strided conv could skip it).
    line = torch.zeros(1, 1, 32, 32)
    line[..., 13, :] = 1.0
    blank = stride_4.eval().stem(torch.zeros(1, 1, 32, 32))
    assert (stride_4.stem(line) != blank).any(dim=1)[0, 3].all()


def test_plain_has_no_skip_connections_and_resnet_does() -> None:
    plain = make_model(dataclasses.replace(SMALL, name="plain"), n_classes=2)
    resnet = make_model(SMALL, n_classes=2)
    assert all(not block.residual for block in plain.modules() if isinstance(block, BasicBlock))
    assert all(block.residual for block in resnet.modules() if isinstance(block, BasicBlock))
    # Same layers otherwise: the parameter counts differ only by the projection shortcuts.
    assert models.count_parameters(plain) < models.count_parameters(resnet)


def test_an_identity_block_can_be_pruned() -> None:
    torch.manual_seed(0)
    model = make_model(dataclasses.replace(SMALL, depth=2), n_classes=2).eval()
    x = torch.rand(3, 1, 16, 16)
    del model.stages[1][1]
    assert len(model.stages[1]) == 1
    assert model(x).shape == (3, 2)


def test_model_input_values_and_layout() -> None:
    pixels = torch.tensor([[[255, 0], [51, 204]]], dtype=torch.uint8)
    x = make_model_input(pixels, image_size=2)
    assert x.shape == (1, 1, 2, 2) and x.dtype == torch.float32
    assert x.is_contiguous(memory_format=torch.channels_last)
    expected = torch.tensor([[[[0.0, 1.0], [0.8, 0.2]]]])
    torch.testing.assert_close(x, expected)


def test_model_input_shrinks_by_area_averaging() -> None:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(3, 8, 8), dtype=np.uint8)
    x = make_model_input(torch.from_numpy(pixels), image_size=4)
    # Oracle: mean of each 2x2 block of the inverted image.
    inverted = (255.0 - pixels) / 255.0
    expected = inverted.reshape(3, 4, 2, 4, 2).mean(axis=(2, 4))
    np.testing.assert_allclose(x[:, 0].numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["resnet", "plain", "resnet18"])
def test_colour_models_take_three_channels(name: str) -> None:
    torch.manual_seed(0)
    config = dataclasses.replace(SMALL, name=name, in_channels=3)
    model = make_model(config, n_classes=4).eval()
    pixels = torch.randint(0, 256, (2, 20, 20, 3), dtype=torch.uint8)
    x = make_model_input(pixels, image_size=16)
    with torch.no_grad(), cpu_threads(1):
        assert model(x).shape == (2, 4)
    assert ModelConfig.from_dict(config.to_dict()) == config
    old = config.to_dict()
    del old["in_channels"]  # checkpoints from before colour
    assert ModelConfig.from_dict(old).in_channels == 1


def test_colour_model_input_keeps_each_channel() -> None:
    pixels = torch.zeros((1, 2, 2, 3), dtype=torch.uint8)
    pixels[..., 0] = 255  # red: no ink in R, full ink in G and B
    x = make_model_input(pixels, image_size=2)
    assert x.shape == (1, 3, 2, 2) and x.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(x[0, :, 0, 0], torch.tensor([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match=r"\[n, H, W, 3\]"):
        make_model_input(torch.zeros((1, 2, 2, 4), dtype=torch.uint8), image_size=2)


def test_model_input_grows_bilinear_and_checks_dtype() -> None:
    pixels = torch.full((2, 8, 8), 255, dtype=torch.uint8)
    assert make_model_input(pixels, image_size=16).shape == (2, 1, 16, 16)
    with pytest.raises(ValueError, match="uint8"):
        make_model_input(pixels.float(), image_size=8)


@pytest.mark.parametrize("width", [4, 8])
def test_narrow_resnet_trains_in_channels_last_at_64_px(width: int) -> None:
    # Regression: a strided 1x1 shortcut conv crashed torch 2.14's channels_last backward on CPU
    # with few channels at 64 x 64; the shortcut now pools first.
    torch.manual_seed(0)
    config = ModelConfig(width=width, image_size=64, stem_stride=1)
    model = make_model(config, n_classes=2).to(memory_format=torch.channels_last).train()
    x = torch.rand(64, 1, 64, 64).contiguous(memory_format=torch.channels_last)
    with cpu_threads(1):
        model(x).sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_inference_copy_folds_batch_norm_and_keeps_outputs() -> None:
    torch.manual_seed(0)
    model = make_model(dataclasses.replace(SMALL, depth=2), n_classes=2)
    model.train()
    with torch.no_grad():
        model(torch.rand(16, 1, 16, 16))  # non-default running statistics
    model.eval()
    folded = make_inference_copy(model)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.modules())  # original untouched
    x = torch.rand(4, 1, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(folded(x), model(x), rtol=1e-4, atol=1e-5)


def test_stage_depths_set_each_stage_and_survive_json() -> None:
    config = ModelConfig(depth=3, width=4, image_size=16, stage_depths=[0, 2, 1])
    assert config.stage_depths == (0, 2, 1)  # a tuple, whatever came in
    assert ModelConfig.from_dict(config.to_dict()) == config
    torch.manual_seed(0)
    model = make_model(config, n_classes=2)
    assert [len(stage) for stage in model.stages] == [0, 2, 1]
    assert model(torch.zeros(2, 1, 16, 16)).shape == (2, 2)
    assert ModelConfig(depth=2).get_stage_depths() == (2, 2, 2)


@pytest.mark.parametrize(
    ("depths", "message"),
    [
        ((1, 2), r"stage_depths must be 3 integers of 0 or more, got \(1, 2\)"),
        ((1, -1, 1), r"stage_depths\[1\] must be an integer >= 0, got -1"),
        ((1, 1.5, 1), r"stage_depths\[1\] must be an integer >= 0, got 1\.5"),
        ((True, 1, 1), r"stage_depths\[0\] must be an integer >= 0, got True"),
    ],
)
def test_bad_stage_depths_are_refused(depths, message) -> None:
    with pytest.raises(ValueError, match=message):
        ModelConfig(stage_depths=depths)


def test_coordinate_channels_run_from_minus_one_to_one() -> None:
    x = torch.rand(3, 1, 4, 5)
    out = add_coordinates(x)
    assert out.shape == (3, 3, 4, 5) and out.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(out[:, :1], x)
    columns = torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0])
    rows = torch.tensor([-1.0, -1 / 3, 1 / 3, 1.0])
    torch.testing.assert_close(out[:, 1], columns.expand(3, 4, 5))
    torch.testing.assert_close(out[:, 2], rows.view(4, 1).expand(3, 4, 5))


@pytest.mark.parametrize("in_channels", [1, 3])
def test_a_model_with_coordinates_feeds_them_to_its_stem(in_channels: int) -> None:
    config = dataclasses.replace(SMALL, coordinates=True, in_channels=in_channels)
    torch.manual_seed(0)
    model = make_model(config, n_classes=3).eval()
    stem = model.stem[0]
    assert isinstance(stem, nn.Conv2d) and stem.in_channels == in_channels + 2
    # The same network without coordinates, sharing every other weight: it gives the same
    # features once the coordinates' first-layer weights are zeroed, and other ones before.
    blind = make_model(dataclasses.replace(config, coordinates=False), n_classes=3).eval()
    state = model.state_dict()
    blind.load_state_dict({**state, "stem.0.weight": state["stem.0.weight"][:, :in_channels]})
    x = torch.rand(2, in_channels, 16, 16)
    with torch.no_grad():
        assert not torch.allclose(model.features(x), blind.features(x))
        stem.weight[:, in_channels:] = 0.0
        torch.testing.assert_close(model.features(x), blind.features(x))
    assert ModelConfig.from_dict(config.to_dict()) == config


def test_a_config_saved_before_coordinates_reads_without_them() -> None:
    saved = SMALL.to_dict()
    del saved["coordinates"]
    assert ModelConfig.from_dict(saved).coordinates is False
