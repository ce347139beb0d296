"""Predictors: a network on images and its head on the images' features answer alike, and
each one's accuracy is the share of its argmax that matches (an independent count)."""

from __future__ import annotations

import numpy as np
import pytest

from labeler.learning.models import Classifier
from labeler.learning.predictors import FeaturePredictor, ImagePredictor
from tests.labeler.learning.scoring_oracle import direct, make_random_images, make_scored_model


@pytest.fixture
def model() -> Classifier:
    return make_scored_model()


@pytest.fixture
def images() -> np.ndarray:
    return make_random_images(29)


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
