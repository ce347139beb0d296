"""Predictors: a network on images and its head on the images' features answer alike, and
each one's accuracy is the share of its argmax that matches (an independent count)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from labeler.learning.models import Classifier, ModelConfig, make_model, make_model_input
from labeler.learning.predictors import FeaturePredictor, ImagePredictor


@pytest.fixture
def model() -> Classifier:
    torch.manual_seed(0)
    net = make_model(ModelConfig(width=4, image_size=16, dropout=0.5), n_classes=3)
    net.train()
    with torch.no_grad():
        net(torch.rand(32, 1, 16, 16))  # batch-norm statistics away from their defaults
    return net.eval()


@pytest.fixture
def images() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(29, 16, 16), dtype=np.uint8)


def direct(model: Classifier, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Oracle: one eval-mode forward pass; (probs [n, c], features [n, f])."""
    with torch.no_grad():
        x = make_model_input(torch.from_numpy(images), image_size=model.config.image_size)
        features = model.features(x)
        return torch.softmax(model.head(features), dim=1).numpy(), features.numpy()


def test_image_and_feature_predictors_agree_with_a_direct_pass(
    model: Classifier, images: np.ndarray
) -> None:
    probs, features = direct(model, images)
    ids = np.array([3, 28, 0, 11, 11], dtype=np.int64)
    on_images = ImagePredictor(model, images, device="cpu", n_threads=1)
    on_features = FeaturePredictor(model.head, features)
    for predictor in (on_images, on_features):
        predictions = predictor.predict(ids)
        np.testing.assert_allclose(predictions.probs[:, :, 0], probs[ids], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(predictor.get_features(ids), features[ids], rtol=1e-4, atol=1e-5)
    drawn = [p.predict(ids, n_draws=4, seed=2).probs for p in (on_images, on_features)]
    np.testing.assert_allclose(drawn[0], drawn[1], rtol=1e-4, atol=1e-5)
    assert np.ptp(drawn[0], axis=2).max() > 0.01  # MC-dropout draws really differ


def test_accuracy_counts_the_argmax_matches(model: Classifier, images: np.ndarray) -> None:
    probs, features = direct(model, images)
    ids = np.arange(0, 29, 2, dtype=np.int64)
    guesses = probs[ids].argmax(axis=1)
    labels = guesses.copy()
    labels[:5] = (labels[:5] + 1) % 3  # five wrong on purpose
    expected = float(np.mean(labels == guesses))
    assert expected == pytest.approx(10 / 15)
    assert ImagePredictor(model, images, device="cpu").get_accuracy(ids, labels) == expected
    assert FeaturePredictor(model.head, features).get_accuracy(ids, labels) == expected
