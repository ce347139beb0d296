"""Warm-started networks: carrying on or shrink and perturb, the fit check, the shorter
schedule."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from labeler.learning import warm_start
from labeler.learning.models import ModelConfig, make_model
from labeler.learning.train_config import TrainConfig
from labeler.learning.warm_start import (
    get_warm_train_config,
    plan_warm_start,
    shrink_perturb,
    train_warm,
)

CONFIG = ModelConfig(width=4, image_size=16)


def test_shrink_perturb_mixes_parameters_and_keeps_batch_norm_statistics() -> None:
    torch.manual_seed(0)
    previous = make_model(CONFIG, n_classes=3)
    with torch.no_grad():
        for buffer_name, buffer in previous.named_buffers():
            if buffer_name.endswith("running_mean"):
                buffer.fill_(0.25)
    fresh = make_model(CONFIG, n_classes=3)
    before = {name: value.clone() for name, value in previous.state_dict().items()}
    warm = shrink_perturb(previous, fresh, shrink=0.4, perturb=0.1)
    parameters = dict(previous.named_parameters())
    fresh_parameters = dict(fresh.named_parameters())
    for name, value in warm.state_dict().items():
        if name in parameters:
            expected = 0.4 * parameters[name] + 0.1 * fresh_parameters[name]
            torch.testing.assert_close(value, expected.detach())
        else:
            torch.testing.assert_close(value, before[name])
    assert any(name.endswith("running_mean") for name in before)
    # Neither input changed.
    for name, value in previous.state_dict().items():
        torch.testing.assert_close(value, before[name])


def test_by_default_training_carries_on_from_the_previous_weights(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    torch.manual_seed(0)
    previous = make_model(CONFIG, n_classes=3)
    start = plan_warm_start(previous, CONFIG, n_classes=3, seed=1)
    assert start.model is not None and start.model is not previous
    for name, value in previous.state_dict().items():
        torch.testing.assert_close(start.model.state_dict()[name], value)
    # Set to mix, the constants are read when the round plans, and the note says how.
    monkeypatch.setattr(warm_start, "SHRINK", 0.5)
    monkeypatch.setattr(warm_start, "PERTURB", 0.2)
    mixed = plan_warm_start(previous, CONFIG, n_classes=3, seed=1)
    assert mixed.model is not None
    weight = next(name for name, _ in previous.named_parameters())
    assert not torch.equal(mixed.model.state_dict()[weight], previous.state_dict()[weight])
    assert mixed.note == (
        "warm: the last round's weights shrunk by 0.5 and perturbed by 0.2 of a fresh "
        "initialization, trained on for 33% of the steps"
    )


def test_a_previous_network_that_does_not_fit_is_not_used() -> None:
    previous = make_model(CONFIG, n_classes=3)
    start = plan_warm_start(previous, CONFIG, n_classes=3, seed=1)
    assert start.used
    assert start.note == "warm: the last round's weights, trained on for 33% of the steps"
    wider = dataclasses.replace(CONFIG, width=8)
    refused = plan_warm_start(previous, wider, n_classes=3, seed=1, previous_source="round 4")
    assert not refused.used
    assert refused.note == (
        "from scratch: round 4's network (resnet, depth 2, width 4, stem 2, 16 px, 1 "
        "channel(s), 3 classes) does not fit the one asked for (resnet, depth 2, width 8, "
        "stem 2, 16 px, 1 channel(s), 3 classes)"
    )
    # A network that differs in its stem only (a preset that changed) says so too.
    pooled = dataclasses.replace(CONFIG, stem_stride=4)
    note = plan_warm_start(previous, pooled, n_classes=3, seed=1).note
    assert "width 4, stem 2, 16 px" in note and "width 4, stem 4, 16 px" in note
    assert not plan_warm_start(previous, CONFIG, n_classes=4, seed=1).used
    none = plan_warm_start(None, CONFIG, n_classes=3, seed=1, previous_source="the project")
    assert none.note == "from scratch: the project has no network to start from"


def test_a_warm_schedule_plans_a_third_of_the_steps() -> None:
    warm = get_warm_train_config(TrainConfig(max_epochs=30, min_steps=200, max_steps=2000))
    assert (warm.max_epochs, warm.min_steps, warm.max_steps) == (10, 67, 667)
    assert get_warm_train_config(TrainConfig(max_steps=None)).max_steps is None


def test_a_warm_network_trains_fewer_steps_and_says_how_it_started() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(40, 16, 16), dtype=np.uint8)
    labels = np.repeat([0, 1], 20)
    config = TrainConfig(min_steps=30, max_epochs=3, batch_size=8, device="cpu", n_threads=1)
    fresh = train_warm(
        None, images, labels, n_classes=2, model_config=CONFIG, train_config=config,
        progress=False, previous_source="the project",
    )  # fmt: skip
    warm = train_warm(
        fresh.model, images, labels, n_classes=2, model_config=CONFIG, train_config=config,
        progress=False,
    )  # fmt: skip
    assert fresh.start.startswith("from scratch") and warm.start.startswith("warm:")
    assert fresh.n_steps == 30 and warm.n_steps == 10
    # A previous network that saw half the labels or fewer is not carried on.
    doubled = train_warm(
        fresh.model, images, labels, n_classes=2, model_config=CONFIG, train_config=config,
        progress=False, n_previous_labels=20,
    )  # fmt: skip
    assert doubled.start == (
        "from scratch: 20 of the 40 labels are new since the last round's network (50% or more)"
    )
    assert doubled.n_steps == 30
    grown = train_warm(
        fresh.model, images, labels, n_classes=2, model_config=CONFIG, train_config=config,
        progress=False, n_previous_labels=21,
    )  # fmt: skip
    assert grown.start.startswith("warm:") and grown.n_steps == 10
