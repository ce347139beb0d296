from pathlib import Path

import numpy as np
import pytest

from labeler.learning.linear_head import LinearHead, fit_linear_head


def blobs(n_per_class: int, n_classes: int, *, dim: int = 5, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = 6.0 * rng.normal(size=(n_classes, dim))
    labels = np.repeat(np.arange(n_classes), n_per_class)
    rows = centres[labels] + rng.normal(size=(labels.shape[0], dim))
    return rows.astype(np.float32), labels


def test_a_head_separates_separable_classes_and_gives_probabilities():
    rows, labels = blobs(20, 3)
    head = fit_linear_head(rows, labels, n_classes=3)
    probs = head.predict_proba(rows)
    assert probs.shape == (60, 3) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert np.mean(head.predict(rows) == labels) == 1.0


def test_a_class_without_labels_gets_probability_zero():
    rows, labels = blobs(10, 3)
    present = labels != 1
    head = fit_linear_head(rows[present], labels[present], n_classes=3)
    probs = head.predict_proba(rows)
    assert probs.shape == (30, 3)
    assert np.all(probs[:, 1] == 0.0)
    assert set(head.predict(rows).tolist()) <= {0, 2}


def test_two_classes_use_the_binary_form():
    rows, labels = blobs(10, 2)
    head = fit_linear_head(rows, labels, n_classes=4)
    assert head.weights.shape[0] == 1  # one row of weights for two classes
    probs = head.predict_proba(rows)
    assert np.all(probs[:, 2:] == 0.0)
    assert np.mean(head.predict(rows) == labels) == 1.0


def test_the_rows_scale_does_not_change_the_head():
    # One global scale: multiplying the embedding by a constant gives the same predictions.
    rows, labels = blobs(8, 3, seed=1)
    small = fit_linear_head(rows, labels, n_classes=3)
    large = fit_linear_head(rows * 1000.0, labels, n_classes=3)
    np.testing.assert_allclose(
        small.predict_proba(rows), large.predict_proba(rows * 1000.0), atol=1e-5
    )


def test_a_saved_head_loads_back_the_same(tmp_path: Path):
    rows, labels = blobs(6, 3)
    head = fit_linear_head(rows, labels, n_classes=3)
    path = tmp_path / "head.npz"
    head.save(path)
    again = LinearHead.load(path)
    np.testing.assert_array_equal(again.predict_proba(rows), head.predict_proba(rows))
    assert again.n_classes == 3 and again.classes.tolist() == [0, 1, 2]


@pytest.mark.parametrize(
    ("rows", "labels", "message"),
    [
        (np.zeros((3, 2)), np.array([0, 1]), "one label each"),
        (np.zeros((0, 2)), np.zeros(0, dtype=np.int64), "one label each"),
        (np.zeros((2, 2)), np.array([0, 5]), "label 5 is not a class index in 0..2"),
        (np.zeros((2, 2)), np.array([1, 1]), "training needs at least 2"),
    ],
)
def test_bad_input_is_refused(rows, labels, message):
    with pytest.raises(ValueError, match=message):
        fit_linear_head(rows, labels, n_classes=3)
