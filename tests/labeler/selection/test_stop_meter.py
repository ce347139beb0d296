"""The stop meter's rule: kappa at or above the threshold for a window of rounds in a row."""

from __future__ import annotations

import numpy as np
import pytest

from labeler.selection.stop_meter import (
    MIN_POOL,
    STOP_SET_MAX,
    STOP_SET_MIN,
    check_stop_rule,
    choose_stop_set,
    read_stop_meter,
)


def test_the_meter_says_stop_after_a_window_of_stable_rounds() -> None:
    meter = read_stop_meter([0.80, 0.995, 0.97, 0.991, 0.999], threshold=0.99, window=3)
    assert meter.n_stable == 2 and not meter.should_stop
    assert meter.describe().startswith("keep labeling: last kappa 0.999, 2 of 3 rounds")
    stopped = read_stop_meter([*meter.kappas, 0.993], threshold=0.99, window=3)
    assert stopped.n_stable == 3 and stopped.should_stop
    assert stopped.describe().startswith("the model has stopped changing")
    # The bound of Bloodgood & Vijay-Shanker: 4 (1 - T) / T.
    assert stopped.f_measure_bound == pytest.approx(4 * 0.01 / 0.99)
    assert "at most 0.040" in stopped.describe()
    assert stopped.to_dict()["should_stop"] is True


def test_an_unmeasured_round_breaks_the_run() -> None:
    meter = read_stop_meter([0.999, 0.999, None], threshold=0.99, window=2)
    assert meter.n_stable == 0 and not meter.should_stop
    assert "last kappa not measured" in meter.describe()
    assert read_stop_meter([None, 0.999, 0.999], window=2).should_stop


def test_no_kappa_yet_asks_for_two_trained_rounds() -> None:
    meter = read_stop_meter([])
    assert not meter.should_stop and meter.last_kappa is None
    assert "needs two trained rounds" in meter.describe()


@pytest.mark.parametrize(
    ("threshold", "window", "message"),
    [
        (0.0, 3, r"stop threshold must be a finite number in \(0, 1\], got 0.0"),
        (1.01, 3, r"stop threshold .* got 1.01"),
        (float("nan"), 3, "stop threshold"),
        (0.99, 0, "stop window must be an integer >= 1, got 0"),
    ],
)
def test_a_rule_out_of_range_is_refused(threshold: float, window: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_stop_rule(threshold, window)
    assert check_stop_rule(1, 1) == (1.0, 1)


def test_the_stop_set_is_a_tenth_of_the_pool_within_its_bounds() -> None:
    rng = np.random.default_rng(0)
    candidates = np.arange(5, 20_005, dtype=np.int64)
    big = choose_stop_set(candidates, n_pool=50_000, rng=rng)
    assert big.shape == (STOP_SET_MAX,) and np.all(np.diff(big) > 0)
    assert np.isin(big, candidates).all()
    assert choose_stop_set(candidates, n_pool=3_000, rng=rng).shape == (300,)
    assert choose_stop_set(candidates, n_pool=MIN_POOL, rng=rng).shape == (STOP_SET_MIN,)
    # Below the minimum size: none, rather than a noisy kappa or half a small pool.
    assert choose_stop_set(candidates, n_pool=MIN_POOL - 10, rng=rng).shape == (0,)
    assert choose_stop_set(candidates[:90], n_pool=600, rng=rng).shape == (0,)
    assert choose_stop_set(candidates[:120], n_pool=600, rng=rng).shape == (60,)
    first = choose_stop_set(candidates, n_pool=3_000, rng=np.random.default_rng(0))
    again = choose_stop_set(candidates, n_pool=3_000, rng=np.random.default_rng(0))
    assert np.array_equal(first, again)
