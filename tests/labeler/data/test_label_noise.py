"""add_label_noise: exactly the asked share of labels made wrong, the asked way."""

from __future__ import annotations

import numpy as np
import pytest

from labeler.data.label_noise import add_label_noise


@pytest.mark.parametrize("kind", ["uniform", "confusion"])
def test_the_asked_share_is_wrong_and_nothing_else_changes(kind: str) -> None:
    labels = np.arange(1000) % 5
    noisy = add_label_noise(labels, 0.1, kind, n_classes=5, rng=np.random.default_rng(0))
    assert (noisy != labels).sum() == 100 and noisy.min() >= 0 and noisy.max() < 5
    assert labels.tolist() == (np.arange(1000) % 5).tolist()  # the input is left alone
    pairs = {(int(a), int(b)) for a, b in zip(labels, noisy, strict=True) if a != b}
    if kind == "confusion":  # one wrong class per class, never itself
        assert len({a for a, _ in pairs}) == len(pairs) <= 5
    else:
        assert len(pairs) > 10


def test_no_noise_changes_nothing_and_a_seed_repeats() -> None:
    labels = np.arange(50) % 2
    assert (
        add_label_noise(labels, 0.0, "uniform", n_classes=2, rng=np.random.default_rng(1)) == labels
    ).all()
    first = add_label_noise(labels, 0.2, "uniform", n_classes=2, rng=np.random.default_rng(3))
    again = add_label_noise(labels, 0.2, "uniform", n_classes=2, rng=np.random.default_rng(3))
    assert (first == again).all()


@pytest.mark.parametrize(
    ("rate", "kind", "message"),
    [
        (0.5, "uniform", r"label noise must be in \[0, 0\.5\), got 0\.5"),
        (-0.1, "uniform", r"must be in \[0, 0\.5\)"),
        ("lots", "uniform", "must be a number"),
        (0.1, "swap", "unknown label noise kind 'swap'; valid ones: uniform, confusion"),
    ],
)
def test_bad_noise_is_refused(rate, kind: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        add_label_noise(
            np.zeros(4, dtype=np.int64), rate, kind, n_classes=2, rng=np.random.default_rng(0)
        )
