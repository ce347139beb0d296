"""Tests of labeler.pruning.layer_outputs: hooks catch the right tensors; per-layer bundles."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from torch import nn

from labeler.learning.models import ModelConfig, make_model, make_model_input
from labeler.pruning.bundles import compute_bundle_entropy, get_max_weight
from labeler.pruning.layer_outputs import collect_layer_outputs, list_layers, measure_layers

RESNET = ModelConfig(name="resnet", depth=2, width=4, image_size=16, stem_stride=1)
PLAIN = ModelConfig(name="plain", depth=3, width=4, image_size=16)


def make_images(n: int, *, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, 16, 16), dtype=np.uint8)


def test_layers_of_a_residual_network_name_branch_and_output() -> None:
    torch.manual_seed(0)
    model = make_model(RESNET, n_classes=2)
    layers = list_layers(model)
    assert layers[:3] == ["stem", "stages.0.0.branch", "stages.0.0"]
    assert len(layers) == 1 + 2 * 6 + 2
    assert layers[-2:] == ["pooled", "logits"]


def test_layers_of_a_plain_network_are_the_block_outputs() -> None:
    torch.manual_seed(0)
    assert list_layers(make_model(PLAIN, n_classes=2)) == [
        "stem",
        *(f"stages.{s}.{b}" for s in range(3) for b in range(3)),
        "pooled",
        "logits",
    ]


def test_hooks_catch_the_branch_before_the_addition_and_the_block_after() -> None:
    torch.manual_seed(0)
    model = make_model(RESNET, n_classes=2).eval()
    for module in model.modules():  # give every branch a non-zero output
        if isinstance(module, nn.BatchNorm2d):
            nn.init.uniform_(module.weight, 0.5, 1.5)
    x = make_model_input(torch.from_numpy(make_images(4, seed=0)), image_size=16)
    outputs = collect_layer_outputs(model, x)
    block = model.stages[0][1]
    block_input = outputs["stages.0.0"]
    with torch.no_grad():
        branch = block.body(block_input)
        expected = torch.relu(branch + block_input)
    torch.testing.assert_close(outputs["stages.0.1.branch"], branch)
    torch.testing.assert_close(outputs["stages.0.1"], expected)
    assert outputs["stem"].shape == (4, 4, 16, 16)
    assert outputs["stages.2.1"].shape == (4, 16, 4, 4)
    pooled = outputs["stages.2.1"].mean(dim=(2, 3))
    torch.testing.assert_close(outputs["pooled"], pooled)
    torch.testing.assert_close(outputs["logits"], model.head(pooled))


def test_measured_layers_equal_the_bundles_of_the_collected_outputs() -> None:
    torch.manual_seed(1)
    model = make_model(RESNET, n_classes=2).eval()
    images = make_images(40, seed=1)
    labels = np.arange(40) % 2
    x = make_model_input(torch.from_numpy(images), image_size=16)
    outputs = collect_layer_outputs(model, x)
    # A small budget forces one forward pass per layer: the grouping must not change results.
    measured = measure_layers(model, images, labels, lr=1e-3, batch_size=64, chunk_size=7)
    grouped = measure_layers(
        model, images, labels, lr=1e-3, batch_size=64, memory_budget=1, chunk_size=16
    )
    w_max = get_max_weight(model)
    for name, output in outputs.items():
        expected = compute_bundle_entropy(output, labels, lr=1e-3, batch_size=64, w_max=w_max)
        assert measured[name] == expected == grouped[name], name
    # zero-initialised branches: one bundle holding both classes
    assert measured["stages.0.0.branch"].n_bundles == 1


def test_a_plain_networks_bundle_entropy_never_falls_with_depth() -> None:
    """Constructed so that every layer shrinks its input: nearby samples merge at some depth
    and, in a network without skips, stay merged at every later one."""
    torch.manual_seed(2)
    model = make_model(PLAIN, n_classes=3).eval()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                module.weight.mul_(0.6)
    rng = np.random.default_rng(2)
    prototypes = rng.integers(0, 256, size=(12, 16, 16), dtype=np.uint8)
    images = np.clip(
        prototypes[np.repeat(np.arange(12), 20)].astype(int)
        + rng.integers(-3, 4, size=(240, 16, 16)),
        0,
        255,
    ).astype(np.uint8)
    labels = rng.integers(0, 3, size=240)
    stats = measure_layers(model, images, labels, lr=1e-3, batch_size=64)
    entropies = [stats[name].entropy for name in list_layers(model)]
    assert entropies[0] == 0.0 and entropies[-1] > 0.5
    assert all(later >= earlier for earlier, later in itertools.pairwise(entropies))


def test_unknown_layer_names_list_the_valid_ones() -> None:
    torch.manual_seed(0)
    model = make_model(RESNET, n_classes=2)
    with pytest.raises(ValueError, match=r"unknown layer.*stages\.9\.9.*valid ones: stem"):
        measure_layers(
            model, make_images(4, seed=0), np.zeros(4, int), lr=1e-3, batch_size=8,
            layers=["stages.9.9"],
        )  # fmt: skip


def test_models_without_stages_are_refused() -> None:
    torch.manual_seed(0)
    model = make_model(ModelConfig(name="resnet18", image_size=32), n_classes=2)
    with pytest.raises(ValueError, match="pruning works on the 'resnet' and 'plain'"):
        list_layers(model)
