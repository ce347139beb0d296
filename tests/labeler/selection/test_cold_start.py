"""The cold-start registry and the contract every strategy keeps (rows, order, bad input)."""

from __future__ import annotations

import numpy as np
import pytest

from labeler.selection.cold_start import (
    get_cold_start,
    list_cold_starts,
    random_start,
    register_cold_start,
)


def make_pool(n_samples: int = 60, dim: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n_samples, dim)).astype(np.float32)


def test_registry_lists_the_strategies_and_refuses_unknown_names() -> None:
    assert list_cold_starts() == ["max_herding", "random", "typiclust"]
    assert get_cold_start("random") is random_start
    with pytest.raises(
        ValueError, match=r"'probcover'; valid ones: max_herding, random, typiclust"
    ):
        get_cold_start("probcover")
    with pytest.raises(ValueError, match="already registered"):
        register_cold_start("random")(random_start)


@pytest.mark.parametrize("name", ["random", "typiclust", "max_herding"])
def test_picks_are_distinct_unlabeled_rows_and_repeat_for_a_seed(name: str) -> None:
    select = get_cold_start(name)
    pool = make_pool()
    labeled = np.array([3, 17, 41])
    picks = select(pool, 12, labeled=labeled, seed=5)
    assert picks.dtype == np.int64 and picks.shape == (12,)
    assert np.unique(picks).shape == (12,)
    assert picks.min() >= 0 and picks.max() < pool.shape[0]
    assert not np.isin(picks, labeled).any()
    np.testing.assert_array_equal(picks, select(pool, 12, labeled=labeled, seed=5))
    from_generator = select(pool, 12, labeled=labeled, seed=np.random.default_rng(5))
    assert from_generator.shape == (12,)


@pytest.mark.parametrize("name", ["random", "typiclust", "max_herding"])
def test_every_unlabeled_row_can_be_asked_for(name: str) -> None:
    pool = make_pool(n_samples=20)
    labeled = np.array([0, 7])
    picks = get_cold_start(name)(pool, 18, labeled=labeled, seed=0)
    np.testing.assert_array_equal(np.sort(picks), np.setdiff1d(np.arange(20), labeled))


@pytest.mark.parametrize("name", ["random", "typiclust", "max_herding"])
def test_zero_picks_give_an_empty_array(name: str) -> None:
    picks = get_cold_start(name)(make_pool(), 0, seed=0)
    assert picks.dtype == np.int64 and picks.shape == (0,)


@pytest.mark.parametrize("name", ["random", "typiclust", "max_herding"])
def test_more_picks_than_unlabeled_rows_is_a_clear_error(name: str) -> None:
    select = get_cold_start(name)
    with pytest.raises(ValueError, match=r"n_select 11 is larger than the 10 unlabeled samples"):
        select(make_pool(n_samples=10), 11, seed=0)
    with pytest.raises(ValueError, match=r"the 8 unlabeled samples of the pool \(10 samples, 2"):
        select(make_pool(n_samples=10), 9, labeled=[1, 2], seed=0)


@pytest.mark.parametrize("name", ["random", "typiclust", "max_herding"])
@pytest.mark.parametrize(
    ("embedding", "n_select", "labeled", "message"),
    [
        (np.zeros(10), 1, None, r"embedding must be \[n_samples, dim\]"),
        (np.full((4, 2), np.nan), 1, None, "embedding must be finite"),
        (np.zeros((0, 3)), 0, None, "at least one row"),
        (np.zeros((5, 2)), -1, None, "n_select must be an integer >= 0"),
        (np.zeros((5, 2)), 1.5, None, "n_select must be an integer >= 0"),
        (np.zeros((5, 2)), 1, [5], r"labeled must lie in \[0, 5\)"),
        (np.zeros((5, 2)), 1, [1, 1], "duplicate"),
        (np.zeros((5, 2)), 1, [0.5], "integer row indices"),
    ],
)
def test_bad_input_is_named(
    name: str, embedding: np.ndarray, n_select: object, labeled: object, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        get_cold_start(name)(embedding, n_select, labeled=labeled, seed=0)


def test_random_start_is_uniform_over_the_unlabeled_rows() -> None:
    pool = make_pool(n_samples=10)
    labeled = np.array([0, 1])
    counts = np.zeros(10)
    for seed in range(2000):
        counts[random_start(pool, 2, labeled=labeled, seed=seed)] += 1
    assert counts[:2].sum() == 0
    # Each of the 8 unlabeled rows is drawn with probability 2/8 per call: 500 of 2000.
    assert np.abs(counts[2:] - 500).max() < 80
