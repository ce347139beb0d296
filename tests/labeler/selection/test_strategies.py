from __future__ import annotations

import numpy as np
import pytest

from labeler.selection.strategies import (
    DEFAULT_N_DRAWS,
    SelectionConfig,
    check_strategy,
    choose_batch,
    list_strategies,
)


def _make_probs(p_class_1: list[float]) -> np.ndarray:
    p = np.array(p_class_1)[:, None]
    return np.concatenate([1.0 - p, p], axis=1)[:, :, None]


def test_margin_picks_the_closest_calls_best_first() -> None:
    probs = _make_probs([0.99, 0.52, 0.10, 0.45, 0.70])
    features = np.zeros((5, 2))
    choice = choose_batch(probs, features, config=SelectionConfig("margin", query_size=3), seed=0)
    # margins |2p - 1|: 0.98, 0.04, 0.80, 0.10, 0.40 -> closest calls 1, 3, 4.
    assert choice.indices.tolist() == [1, 3, 4]
    np.testing.assert_allclose(choice.scores, [0.02, 0.96, 0.2, 0.9, 0.6])


def test_random_depends_on_the_seed_only() -> None:
    probs = _make_probs(list(np.linspace(0.01, 0.99, 50)))
    features = np.zeros((50, 2))
    config = SelectionConfig("random", query_size=10, diversity="kcenter")
    first = choose_batch(probs, features, config=config, seed=7).indices
    again = choose_batch(probs, features, config=config, seed=7).indices
    other = choose_batch(probs, features, config=config, seed=8).indices
    assert first.tolist() == again.tolist()
    assert first.tolist() != other.tolist()
    assert len(set(first.tolist())) == 10


def test_kcenter_diversity_skips_near_duplicates() -> None:
    # Samples 0-2 are equally uncertain duplicates at one point; 3 is a little less uncertain
    # but elsewhere; 4 is far but certain. Plain top-2 takes two duplicates; k-center among
    # the best 4 takes one of them and 3.
    probs = _make_probs([0.5, 0.5, 0.5, 0.45, 0.99])
    features = np.array([[0, 0], [0, 0], [0, 0], [5, 5], [9, 9]], dtype=float)
    plain = choose_batch(probs, features, config=SelectionConfig("margin", query_size=2), seed=0)
    diverse = choose_batch(
        probs,
        features,
        config=SelectionConfig("margin", query_size=2, diversity="kcenter", pool_factor=2),
        seed=0,
    )
    assert plain.indices.tolist() == [0, 1]
    assert diverse.indices.tolist() == [0, 3]


def test_class_balance_guard_caps_a_predicted_class() -> None:
    # The six most uncertain all lean to class 1; the cap of half the batch lets class 0 in.
    probs = _make_probs([0.51, 0.52, 0.53, 0.54, 0.55, 0.56, 0.40, 0.30, 0.05])
    features = np.zeros((9, 2))
    config = SelectionConfig("margin", query_size=4, max_class_fraction=0.5, pool_factor=3)
    chosen = choose_batch(probs, features, config=config, seed=0).indices
    predicted = np.array([0.51, 0.52, 0.53, 0.54, 0.55, 0.56, 0.40, 0.30, 0.05]) > 0.5
    assert chosen.tolist() == [0, 1, 6, 7]
    assert predicted[chosen].sum() == 2


def test_coreset_covers_what_the_labels_do_not() -> None:
    features = np.array([[0.0], [0.1], [10.0], [10.1], [20.0]])
    labeled = np.array([[0.05], [20.0]])
    probs = _make_probs([0.5] * 5)
    choice = choose_batch(
        probs,
        features,
        config=SelectionConfig("coreset", query_size=1),
        seed=0,
        labeled_features=labeled,
    )
    assert choice.indices.tolist() in ([2], [3])


def test_bald_gets_draws_by_default() -> None:
    assert SelectionConfig("bald").effective_n_draws == DEFAULT_N_DRAWS
    assert SelectionConfig("margin").effective_n_draws == 1
    assert SelectionConfig("margin", n_draws=5).effective_n_draws == 5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"strategy": "smart"}, "unknown strategy 'smart'; valid ones: auto, badge, bald, coreset"),
        ({"query_size": 0}, "query size must be positive"),
        ({"diversity": "cluster"}, "unknown diversity 'cluster'; valid ones: none, kcenter"),
        ({"max_class_fraction": 1.5}, "max class fraction must be in (0, 1]"),
        ({"strategy": "bald", "n_draws": 1}, "needs several MC-dropout draws"),
    ],
)
def test_bad_configurations_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        SelectionConfig(**kwargs)  # type: ignore[arg-type]


def test_a_query_larger_than_the_pool_is_refused() -> None:
    with pytest.raises(ValueError, match="query size 5 is larger than the pool of 3"):
        choose_batch(
            _make_probs([0.1, 0.5, 0.9]),
            np.zeros((3, 1)),
            config=SelectionConfig("margin", query_size=5),
            seed=0,
        )


def test_strategy_list_names_every_acquisition_and_coreset() -> None:
    names = list_strategies()
    for name in ("random", "least_confidence", "margin", "entropy", "bald", "variation_ratio"):
        assert name in names
    assert "coreset" in names
    assert check_strategy("entropy") == "entropy"
