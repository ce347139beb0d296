"""The accuracy estimate's pure parts: Wilson's interval, counts, class lights, the audit slice."""

from __future__ import annotations

import math

import numpy as np
import pytest

from labeler.selection.accuracy_estimate import (
    AMBER,
    GREEN,
    GREY,
    RED,
    Estimate,
    check_audit_share,
    count_audit_picks,
    count_right,
    light_classes,
    mix_audit_slice,
    wilson_interval,
)


def test_wilson_interval_matches_a_hand_computation() -> None:
    # 8 of 10, z = 1.96: centre (0.8 + 0.192) / 1.384 = 0.7168; half-width
    # 1.96 * sqrt(0.016 + 0.009604) / 1.384 = 0.2266.
    low, high = wilson_interval(8, 10, z=1.96)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)
    # None right still leaves room above 0, all right room below 1; nothing measured: [0, 1].
    assert wilson_interval(0, 10)[0] == 0.0 and 0.2 < wilson_interval(0, 10)[1] < 0.35
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0) and wilson_interval(10, 10)[0] < 0.8
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_the_interval_narrows_as_n_grows() -> None:
    widths = [np.subtract(*wilson_interval(n * 9 // 10, n)[::-1]) for n in (10, 100, 1000)]
    assert widths[0] > widths[1] > widths[2] > 0
    assert widths[2] == pytest.approx(2 * 1.96 * math.sqrt(0.09 / 1000), rel=0.02)


def test_count_right_counts_matches_and_refuses_ragged_arrays() -> None:
    estimate = count_right([0, 1, 2, 2], [0, 1, 1, 2])
    assert (estimate.correct, estimate.n, estimate.accuracy) == (3, 4, 0.75)
    assert estimate.to_dict()["low"] == pytest.approx(wilson_interval(3, 4)[0])
    assert Estimate(0, 0).to_dict() == {
        "correct": 0, "n": 0, "accuracy": None, "low": None, "high": None,
    }  # fmt: skip
    with pytest.raises(ValueError, match="same samples"):
        count_right([0, 1], [0])


def test_class_lights_compare_each_recall_with_the_overall_accuracy() -> None:
    # Overall 64 of 83 (0.77). Class a: 40 of 40 right; b: 15 of 20 (point below the overall,
    # interval not); c: 6 of 20 (interval wholly below); d: 3 labels only.
    labels = [0] * 40 + [1] * 20 + [2] * 20 + [3, 3, 3]
    guesses = [0] * 40 + [1] * 15 + [0] * 5 + [2] * 6 + [1] * 14 + [3, 3, 3]
    overall = count_right(labels, guesses)
    rows = light_classes(labels, guesses, class_names=["a", "b", "c", "d"], overall=overall)
    assert [row["light"] for row in rows] == [GREEN, AMBER, RED, GREY]
    assert [row["n"] for row in rows] == [40, 20, 20, 3]
    assert rows[1]["accuracy"] == pytest.approx(0.75) and rows[1]["high"] > overall.accuracy
    assert rows[2]["high"] < overall.accuracy


def test_audit_picks_are_a_share_rounded_up_and_at_most_half_the_batch() -> None:
    assert count_audit_picks(20, 0.1) == 2
    assert count_audit_picks(15, 0.1) == 2
    assert count_audit_picks(3, 0.1) == 1
    assert count_audit_picks(1, 0.5) == 0
    assert count_audit_picks(50, 0.0) == 0
    assert check_audit_share(0.25) == 0.25
    for bad in (-0.1, 0.6, float("nan")):
        with pytest.raises(ValueError, match=r"audit share must be a finite number in \[0, 0.5\]"):
            check_audit_share(bad)


def test_the_audit_slice_replaces_the_batch_tail_with_random_unselected_images() -> None:
    selected = np.arange(100, 120, dtype=np.int64)
    scored = np.arange(100, 400, dtype=np.int64)
    batch, audit = mix_audit_slice(selected, scored, share=0.1, rng=np.random.default_rng(0))
    assert batch.shape == (20,) and np.unique(batch).shape == (20,)
    assert audit.shape == (2,) and not np.isin(audit, selected).any()
    assert np.isin(audit, scored).all()
    # The 18 best picks keep their order; the audit sits inside the batch, not at its ends.
    kept = batch[~np.isin(batch, audit)]
    assert kept.tolist() == list(range(100, 118))
    positions = np.flatnonzero(np.isin(batch, audit)).tolist()
    assert positions == [6, 13]
    again, _ = mix_audit_slice(selected, scored, share=0.1, rng=np.random.default_rng(0))
    assert again.tolist() == batch.tolist()


def test_no_audit_without_spare_images_or_share() -> None:
    selected = np.arange(10, dtype=np.int64)
    for scored, share in ((selected, 0.2), (np.arange(50, dtype=np.int64), 0.0)):
        batch, audit = mix_audit_slice(selected, scored, share=share, rng=np.random.default_rng(1))
        assert batch.tolist() == selected.tolist() and audit.shape == (0,)
