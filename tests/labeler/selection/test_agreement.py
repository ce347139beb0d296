"""Cohen's kappa against hand computations."""

from __future__ import annotations

import pytest

from labeler.selection.agreement import cohen_kappa


def test_kappa_matches_a_hand_computation() -> None:
    # 10 samples: they agree on 7. a gives class 0 six times, b five times:
    # p_e = 0.6 * 0.5 + 0.4 * 0.5 = 0.5, kappa = (0.7 - 0.5) / 0.5 = 0.4.
    a = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1]
    b = [0, 0, 0, 0, 1, 1, 1, 1, 1, 0]
    assert cohen_kappa(a, b, n_classes=2) == pytest.approx(0.4)


def test_perfect_chance_and_worse_than_chance() -> None:
    assert cohen_kappa([0, 1, 2, 1], [0, 1, 2, 1], n_classes=3) == pytest.approx(1.0)
    # Independent-looking labels: p_o = 0.5 = p_e.
    assert cohen_kappa([0, 0, 1, 1], [0, 1, 0, 1], n_classes=2) == pytest.approx(0.0)
    assert cohen_kappa([0, 1, 0, 1], [1, 0, 1, 0], n_classes=2) == pytest.approx(-1.0)


def test_one_shared_class_leaves_kappa_undefined_and_bad_arrays_are_refused() -> None:
    assert cohen_kappa([1, 1, 1], [1, 1, 1], n_classes=2) is None
    with pytest.raises(ValueError, match="two label arrays"):
        cohen_kappa([0, 1], [0], n_classes=2)
    with pytest.raises(ValueError, match="two label arrays"):
        cohen_kappa([], [], n_classes=2)
