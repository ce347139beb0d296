"""Acquisition functions against hand-computed values on tiny arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest

from labeler.selection.acquisition import (
    bald,
    entropy,
    get_acquisition,
    least_confidence,
    list_acquisitions,
    margin,
    random_scores,
    variation_ratio,
)


def make_probs(draws_per_sample: list[list[list[float]]]) -> np.ndarray:
    """``[n_samples][n_draws][n_classes]`` nested lists -> ``[n_samples, n_classes, n_draws]``."""
    return np.array(draws_per_sample, dtype=np.float64).transpose(0, 2, 1)


def test_entropy_by_hand() -> None:
    probs = make_probs([[[0.5, 0.5]], [[1.0, 0.0]], [[0.25, 0.75]]])
    # -(0.5 ln 0.5 + 0.5 ln 0.5) = ln 2;  a certain prediction has entropy 0 (0 ln 0 := 0, no
    # NaN);  -(0.25 ln 0.25 + 0.75 ln 0.75) = 0.25 * 1.386294 + 0.75 * 0.287682 = 0.562335.
    expected = [math.log(2), 0.0, 0.5623351446]
    np.testing.assert_allclose(entropy(probs), expected, atol=1e-9)


def test_entropy_of_three_uniform_classes_is_ln_3() -> None:
    probs = make_probs([[[1 / 3, 1 / 3, 1 / 3]]])
    np.testing.assert_allclose(entropy(probs), [math.log(3)])


def test_entropy_averages_the_draws_first() -> None:
    # Draws [1, 0] and [0, 1] average to [0.5, 0.5]: entropy ln 2, though each draw is certain.
    probs = make_probs([[[1.0, 0.0], [0.0, 1.0]]])
    np.testing.assert_allclose(entropy(probs), [math.log(2)])


def test_least_confidence_by_hand() -> None:
    probs = make_probs([[[0.7, 0.2, 0.1]], [[0.4, 0.35, 0.25]], [[1.0, 0.0, 0.0]]])
    # 1 - 0.7 = 0.3;  1 - 0.4 = 0.6;  1 - 1 = 0.
    np.testing.assert_allclose(least_confidence(probs), [0.3, 0.6, 0.0])


def test_margin_by_hand_and_ordering() -> None:
    probs = make_probs([[[0.7, 0.2, 0.1]], [[0.4, 0.35, 0.25]], [[0.1, 0.9, 0.0]]])
    # 1 - (0.7 - 0.2) = 0.5;  1 - (0.4 - 0.35) = 0.95;  1 - (0.9 - 0.1) = 0.2 (order of the
    # classes does not matter, only the two largest).
    scores = margin(probs)
    np.testing.assert_allclose(scores, [0.5, 0.95, 0.2])
    # The closest call between the top two classes is the most informative.
    assert list(np.argsort(-scores)) == [1, 0, 2]


def test_bald_is_zero_when_the_draws_agree() -> None:
    probs = make_probs([[[0.7, 0.3], [0.7, 0.3], [0.7, 0.3]]])
    # H(mean) = H(0.7, 0.3) = 0.6109, and every draw has that same entropy: 0.6109 - 0.6109 = 0.
    np.testing.assert_allclose(bald(probs), [0.0], atol=1e-12)
    assert entropy(probs)[0] > 0.6


def test_bald_by_hand_when_the_draws_disagree() -> None:
    probs = make_probs([[[1.0, 0.0], [0.0, 1.0]], [[0.9, 0.1], [0.1, 0.9]]])
    # Sample 0: mean [0.5, 0.5] -> ln 2 = 0.693147; each draw is certain -> 0; BALD = ln 2.
    # Sample 1: mean [0.5, 0.5] -> ln 2; each draw: -(0.9 ln 0.9 + 0.1 ln 0.1)
    #   = 0.9 * 0.1053605 + 0.1 * 2.3025851 = 0.0948245 + 0.2302585 = 0.3250830;
    #   BALD = 0.6931472 - 0.3250830 = 0.3680642.
    np.testing.assert_allclose(bald(probs), [math.log(2), 0.3680642], atol=1e-7)


def test_bald_is_zero_for_a_deterministic_model() -> None:
    probs = make_probs([[[0.6, 0.4]], [[0.5, 0.5]]])
    np.testing.assert_allclose(bald(probs), [0.0, 0.0], atol=1e-12)


def test_variation_ratio_on_four_draws() -> None:
    probs = make_probs(
        [
            # argmaxes 0, 0, 1, 0: modal class 0 has 3 of 4 votes -> 1 - 3/4 = 0.25.
            [[0.8, 0.2], [0.6, 0.4], [0.3, 0.7], [0.9, 0.1]],
            # argmaxes 0, 1, 0, 1: 2 of 4 -> 1 - 2/4 = 0.5.
            [[0.8, 0.2], [0.4, 0.6], [0.9, 0.1], [0.2, 0.8]],
            # all four vote class 1 -> 0, however soft the probabilities.
            [[0.45, 0.55], [0.4, 0.6], [0.3, 0.7], [0.49, 0.51]],
        ]
    )
    np.testing.assert_allclose(variation_ratio(probs), [0.25, 0.5, 0.0])


def test_scores_are_float64_per_sample() -> None:
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(4), size=(7, 3)).transpose(0, 2, 1).astype(np.float32)
    for name in list_acquisitions():
        scores = get_acquisition(name)(probs, seed=0)
        assert scores.shape == (7,), name
        assert scores.dtype == np.float64, name
        assert np.isfinite(scores).all(), name


def test_random_scores_are_reproducible_from_a_seed_or_generator() -> None:
    probs = make_probs([[[0.5, 0.5]]] * 5)
    first = random_scores(probs, seed=3)
    np.testing.assert_array_equal(first, random_scores(probs, seed=3))
    np.testing.assert_array_equal(first, random_scores(probs, seed=np.random.default_rng(3)))
    assert not np.array_equal(first, random_scores(probs, seed=4))
    assert ((first >= 0) & (first < 1)).all()


def test_registry_lists_the_strategies() -> None:
    assert list_acquisitions() == sorted(
        ["random", "least_confidence", "margin", "entropy", "bald", "variation_ratio"]
    )
    assert get_acquisition("bald") is bald


def test_unknown_acquisition_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown acquisition 'maragin'.*bald.*margin"):
        get_acquisition("maragin")


@pytest.mark.parametrize(
    ("probs", "message"),
    [
        (np.array([[0.5, 0.5]]), r"\[n_samples, n_classes, n_draws\], got shape \(1, 2\)"),
        (np.ones((2, 1, 1)), r"n_classes >= 2"),
        (np.array([[[np.nan], [0.5]]]), r"finite"),
        (np.array([[[1.5], [-0.5]]]), r"\[0, 1\].*logits"),
        (np.array([[[0.5], [0.4]]]), r"sum to 1 over classes"),
    ],
)
def test_bad_probs_are_rejected(probs: np.ndarray, message: str) -> None:
    for name in list_acquisitions():
        with pytest.raises(ValueError, match=message):
            get_acquisition(name)(probs, seed=0)


def test_float32_softmax_rounding_is_accepted() -> None:
    probs = np.array([[[0.3333333], [0.3333333], [0.3333333]]], dtype=np.float32)
    np.testing.assert_allclose(entropy(probs), [math.log(3)], atol=1e-6)
