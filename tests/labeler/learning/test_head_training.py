"""Tests of labeler.learning.head_training: a head trained on precomputed features."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from labeler.learning.head_training import train_head
from labeler.learning.models import Classifier, ModelConfig, make_model
from labeler.learning.training import TrainConfig

CONFIG = TrainConfig(min_steps=200, max_epochs=5, batch_size=16, device="cpu", n_threads=1)


@pytest.fixture
def model() -> Classifier:
    torch.manual_seed(0)
    return make_model(ModelConfig(width=4, image_size=16), n_classes=3).eval()


def make_features(n: int, n_features: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Three classes, each lifting a feature of its own: linearly separable."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 3
    features = rng.normal(0.0, 0.3, size=(n, n_features)).astype(np.float32)
    features[np.arange(n), labels] += 3.0
    return features, labels


def test_a_separable_head_is_learned_and_the_backbone_kept(model: Classifier) -> None:
    features, labels = make_features(90, model.n_features, seed=0)
    before = {name: value.clone() for name, value in model.state_dict().items()}
    result = train_head(model, features, labels, train_config=CONFIG)
    assert result.val_accuracy == 1.0
    assert result.n_train + result.n_val == 90 and result.n_val > 0
    trained = result.model
    assert not trained.training
    # Only the head changed, and the model passed in is as it was.
    for name, value in trained.state_dict().items():
        if name.startswith("head."):
            assert not torch.equal(value, before[name]), name
        else:
            assert torch.equal(value, before[name]), name
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name]), name
    # Oracle: a fresh separable sample is classified by the head alone.
    test_features, test_labels = make_features(30, model.n_features, seed=1)
    with torch.no_grad():
        predicted = trained.head(torch.from_numpy(test_features)).argmax(dim=1).numpy()
    assert np.mean(predicted == test_labels) >= 0.95


def test_head_training_is_seeded(model: Classifier) -> None:
    features, labels = make_features(60, model.n_features, seed=2)
    state = torch.get_rng_state()
    first = train_head(model, features, labels, train_config=CONFIG).model
    assert torch.equal(torch.get_rng_state(), state)
    again = train_head(model, features, labels, train_config=CONFIG).model
    assert torch.equal(first.head[1].weight, again.head[1].weight)


def test_bad_features_and_labels_are_refused(model: Classifier) -> None:
    features, labels = make_features(30, model.n_features, seed=3)
    with pytest.raises(ValueError, match=r"expected features \[30, 16\]"):
        train_head(model, features[:, :5], labels, train_config=CONFIG)
    no_class_2 = labels != 2
    with pytest.raises(ValueError, match=r"too few labels in class\(es\) \{2: 0\}"):
        train_head(model, features[no_class_2], labels[no_class_2], train_config=CONFIG)
