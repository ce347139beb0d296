"""Tests of labeler.learning.scoring.score_pool against a direct forward pass (the oracle)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from labeler.learning.models import Classifier
from labeler.learning.scoring import score_features, score_pool
from tests.labeler.learning.scoring_oracle import direct, make_random_images, make_scored_model


@pytest.fixture
def model() -> Classifier:
    return make_scored_model()


@pytest.fixture
def images() -> np.ndarray:
    return make_random_images(37)


def test_deterministic_scores_match_a_direct_pass(model: Classifier, images: np.ndarray) -> None:
    result = score_pool(model, images, batch_size=10, device="cpu", n_threads=1, progress=False)
    probs, features = direct(model, images)
    assert result.probs.shape == (37, 3, 1) and result.probs.dtype == np.float32
    assert result.features.shape == (37, model.n_features) and result.features.dtype == np.float32
    np.testing.assert_allclose(result.probs[:, :, 0], probs, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(result.features, features, rtol=1e-4, atol=1e-5)
    assert result.n_samples == 37 and result.seconds > 0


def test_batch_size_does_not_change_scores(model: Classifier, images: np.ndarray) -> None:
    small = score_pool(model, images, batch_size=4, device="cpu", n_threads=1, progress=False)
    large = score_pool(model, images, batch_size=512, device="cpu", n_threads=1, progress=False)
    np.testing.assert_allclose(small.probs, large.probs, rtol=1e-4, atol=1e-5)


def test_mc_dropout_draws(model: Classifier, images: np.ndarray) -> None:
    torch.manual_seed(5)
    state = torch.get_rng_state()
    first = score_pool(model, images, n_draws=8, seed=1, device="cpu", n_threads=1, progress=False)
    assert torch.equal(torch.get_rng_state(), state)  # the global generator is untouched
    assert first.probs.shape == (37, 3, 8)
    np.testing.assert_allclose(first.probs.sum(axis=1), 1.0, rtol=1e-5)
    # Draws differ from each other, and the features are those of the deterministic pass.
    assert np.ptp(first.probs, axis=2).max() > 0.01
    np.testing.assert_allclose(first.features, direct(model, images)[1], rtol=1e-4, atol=1e-5)
    again = score_pool(model, images, n_draws=8, seed=1, device="cpu", n_threads=1, progress=False)
    np.testing.assert_array_equal(first.probs, again.probs)
    other = score_pool(model, images, n_draws=8, seed=2, device="cpu", n_threads=1, progress=False)
    assert not np.array_equal(first.probs, other.probs)
    assert not model.training and not model.head.training


def test_mc_draws_average_to_the_deterministic_logits(
    model: Classifier, images: np.ndarray
) -> None:
    # Oracle: inverted dropout keeps the expectation, so the mean over draws of the logit
    # differences log(p_i / p_0) = z_i - z_0 tends to the deterministic ones.
    n_draws = 4000
    result = score_pool(
        model, images[:2], n_draws=n_draws, seed=0, device="cpu", n_threads=1, progress=False
    )
    log_ratios = np.log(result.probs[:, 1:, :]) - np.log(result.probs[:, :1, :])
    deterministic = np.log(direct(model, images[:2])[0])
    expected = deterministic[:, 1:] - deterministic[:, :1]
    standard_error = log_ratios.std(axis=2) / np.sqrt(n_draws)
    assert np.all(np.abs(log_ratios.mean(axis=2) - expected) < 5 * standard_error + 1e-4)
    assert np.all(log_ratios.std(axis=2) > 0)


def test_the_model_is_left_as_it_was(model: Classifier, images: np.ndarray) -> None:
    before = {name: value.clone() for name, value in model.state_dict().items()}
    score_pool(model, images, n_draws=3, device="cpu", n_threads=1, progress=False)
    after = model.state_dict()
    assert all(torch.equal(before[name], after[name]) for name in before)
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())


def test_indices_select_rows_in_order(model: Classifier, images: np.ndarray) -> None:
    everything = score_pool(model, images, device="cpu", n_threads=1, progress=False)
    indices = np.array([30, 2, 2, 17, 0])
    subset = score_pool(
        model, images, indices=indices, batch_size=2, device="cpu", n_threads=1, progress=False
    )
    np.testing.assert_allclose(subset.probs, everything.probs[indices], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(subset.features, everything.features[indices], rtol=1e-4, atol=1e-5)


def test_images_are_resized_to_the_model_input(model: Classifier) -> None:
    large = np.random.default_rng(1).integers(0, 256, size=(6, 32, 32), dtype=np.uint8)
    result = score_pool(model, large, device="cpu", n_threads=1, progress=False)
    # Oracle: the 2x2 block means, then the model.
    shrunk = 255 - (255 - large.astype(np.float64)).reshape(6, 16, 2, 16, 2).mean(axis=(2, 4))
    model.eval()
    with torch.no_grad():
        x = torch.from_numpy((255 - shrunk) / 255).float()[:, None]
        probs = torch.softmax(model(x), dim=1).numpy()
    np.testing.assert_allclose(result.probs[:, :, 0], probs, rtol=1e-4, atol=1e-5)


def test_memory_mapped_pool(model: Classifier, images: np.ndarray, tmp_path: Path) -> None:
    np.save(tmp_path / "pool.npy", images)
    mapped = np.load(tmp_path / "pool.npy", mmap_mode="r")
    result = score_pool(model, mapped, batch_size=8, device="cpu", n_threads=1, progress=False)
    np.testing.assert_allclose(
        result.probs[:, :, 0], direct(model, images)[0], rtol=1e-4, atol=1e-5
    )


def test_empty_pool(model: Classifier) -> None:
    result = score_pool(
        model, np.zeros((0, 16, 16), np.uint8), device="cpu", n_threads=1, progress=False
    )
    assert result.probs.shape == (0, 3, 1) and result.features.shape == (0, model.n_features)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_draws": 0}, r"n_draws must be an integer >= 1, got 0"),
        ({"n_draws": True}, r"n_draws must be an integer >= 1, got True"),
        ({"batch_size": 0}, r"batch_size must be an integer >= 1 or None, got 0"),
        ({"indices": np.array([0, 99])}, r"0\.\.36"),
        ({"device": "tpu"}, "unknown device"),
    ],
)
def test_bad_arguments(
    model: Classifier, images: np.ndarray, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        score_pool(model, images, n_threads=1, progress=False, **kwargs)  # type: ignore[arg-type]


def test_bad_images(model: Classifier, images: np.ndarray) -> None:
    with pytest.raises(ValueError, match="uint8"):
        score_pool(model, images.astype(np.float32), progress=False)


def test_scoring_features_gives_the_predictions_of_scoring_the_images(
    model: Classifier, images: np.ndarray
) -> None:
    # Oracle: score_pool on the images; the head on their precomputed features must agree,
    # MC-dropout masks included (same seed and batch size), in the order of the indices.
    rows = np.array([30, 2, 17, 5, 36, 0, 11, 2])
    kwargs = {"n_draws": 3, "seed": 4, "batch_size": 4}
    expected = score_pool(
        model, images, indices=rows, device="cpu", n_threads=1, progress=False, **kwargs
    )
    features = direct(model, images)[1]
    state = torch.get_rng_state()
    result = score_features(model.head, features, indices=rows, **kwargs)
    assert torch.equal(torch.get_rng_state(), state)
    assert result.probs.shape == (8, 3, 3)
    np.testing.assert_allclose(result.probs, expected.probs, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(result.features, features[rows])
    assert np.ptp(result.probs, axis=2).max() > 0.01  # the draws really differ
    deterministic = score_features(model.head, features).probs[:, :, 0]
    np.testing.assert_allclose(deterministic, direct(model, images)[0], rtol=1e-4, atol=1e-5)
