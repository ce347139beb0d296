"""Tests of labeler.learning.fitting: the shared training loop, its validation split and class
weights."""

from __future__ import annotations

import logging
from copy import deepcopy

import numpy as np
import pytest
import torch

from labeler.learning.fitting import fit, get_class_weights, split_validation
from labeler.learning.models import Classifier, ModelConfig, make_model
from labeler.learning.train_config import TrainConfig

CPU = torch.device("cpu")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def model() -> Classifier:
    torch.manual_seed(0)
    return make_model(ModelConfig(width=4, depth=1, image_size=16), n_classes=2).eval()


def make_features(n: int, n_features: int, *, seed: int) -> tuple[torch.Tensor, np.ndarray]:
    """Two classes, each lifting a feature of its own."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    features = rng.normal(0.0, 1.0, size=(n, n_features)).astype(np.float32)
    features[np.arange(n), labels] += 1.0
    return torch.from_numpy(features), labels


def test_split_is_stratified_disjoint_and_seeded() -> None:
    labels = np.array([0] * 50 + [1] * 10 + [2] * 2)
    train, val = split_validation(labels, val_fraction=0.2, seed=3)
    assert np.bincount(labels[val]).tolist() == [10, 2, 1]
    assert np.intersect1d(train, val).size == 0
    assert np.array_equal(np.sort(np.concatenate([train, val])), np.arange(len(labels)))
    again = split_validation(labels, val_fraction=0.2, seed=3)
    assert np.array_equal(again[1], val)
    assert not np.array_equal(split_validation(labels, val_fraction=0.2, seed=4)[1], val)
    assert split_validation(labels, val_fraction=0.0, seed=0)[1].size == 0


def test_class_weights() -> None:
    counts = np.array([30, 10, 0])
    # Oracle: n / (n_present * count) = 40 / (2 * 30), 40 / (2 * 10).
    np.testing.assert_allclose(get_class_weights(counts, weighting="balanced"), [2 / 3, 2, 0])
    np.testing.assert_allclose(get_class_weights(counts, weighting="auto"), [2 / 3, 2, 0])
    assert get_class_weights(np.array([11, 10]), weighting="auto") is None
    assert get_class_weights(counts, weighting="none") is None
    with pytest.raises(ValueError, match="valid ones: auto, balanced, none"):
        get_class_weights(counts, weighting="sometimes")


@pytest.mark.parametrize(("drop", "n_batches"), [(True, 2), (False, 3)])
def test_a_small_last_batch_is_dropped_or_used(
    model: Classifier, drop: bool, n_batches: int, caplog: pytest.LogCaptureFixture
) -> None:
    features, labels = make_features(37, model.n_features, seed=0)  # 16 + 16 + 5
    config = TrainConfig(max_epochs=1, min_steps=1, batch_size=16, val_fraction=0.0)
    with caplog.at_level(logging.INFO, logger="tests.fit"):
        result = fit(
            lambda: deepcopy(model),
            features,
            labels,
            np.bincount(labels),
            config=config,
            device=CPU,
            logger=logging.getLogger("tests.fit"),
            head_only=True,
            drop_small_last_batch=drop,
        )
    assert (result.n_steps, result.n_epochs, result.n_train) == (n_batches, 1, 37)
    assert [record.name for record in caplog.records] == ["tests.fit"]
    assert f"up to {n_batches} steps (1 epochs of {n_batches})" in caplog.records[0].message


def test_validation_in_one_pass_or_in_batches_agree(model: Classifier) -> None:
    features, labels = make_features(120, model.n_features, seed=1)
    config = TrainConfig(max_epochs=3, min_steps=1, batch_size=16, min_val_per_class=5)
    results = [
        fit(
            lambda: deepcopy(model),
            features,
            labels,
            np.bincount(labels),
            config=config,
            device=CPU,
            logger=logging.getLogger("tests.fit"),
            head_only=True,
            eval_batch_size=eval_batch_size,
            loss_sum_dtype=dtype,
        )
        for eval_batch_size, dtype in [(None, torch.float64), (7, torch.float32)]
    ]
    one_pass, batched = results
    assert one_pass.n_val == batched.n_val == 24
    for first, second in zip(one_pass.history, batched.history, strict=True):
        assert first.val_accuracy == pytest.approx(second.val_accuracy)
        assert first.val_loss == pytest.approx(second.val_loss, rel=1e-5)
        assert first.train_loss == pytest.approx(second.train_loss, rel=1e-5)
    # Only the head was trained; the rest of the model is the one passed in.
    trained = one_pass.model.state_dict()
    for name, value in model.state_dict().items():
        changed = not torch.equal(trained[name], value)
        assert changed == name.startswith("head."), name
