"""Power sampling and BADGE: draws in proportion to the score, gradient-embedding seeding."""

from __future__ import annotations

import numpy as np
import pytest

from labeler.selection.batch_methods import badge, power_sample
from labeler.selection.strategies import SelectionConfig, choose_batch, list_strategies


def test_power_sampling_draws_in_proportion_to_the_score() -> None:
    scores = np.array([0.0, 1.0, 2.0, 7.0])
    rng = np.random.default_rng(0)
    firsts = np.bincount([power_sample(scores, 1, rng=rng)[0] for _ in range(4000)], minlength=4)
    # 1 : 2 : 7 of ten, and never the zero score while others remain.
    np.testing.assert_allclose(firsts / 4000, [0.0, 0.1, 0.2, 0.7], atol=0.025)
    batch = power_sample(scores, 4, rng=rng)
    assert sorted(batch.tolist()) == [0, 1, 2, 3] and batch[-1] == 0
    with pytest.raises(ValueError, match="finite scores of 0 or more"):
        power_sample(np.array([0.5, -1.0]), 1, rng=rng)


def test_badge_distances_match_the_built_gradient_embeddings() -> None:
    rng = np.random.default_rng(1)
    probs = rng.dirichlet(np.ones(3), size=30)
    features = rng.normal(size=(30, 4))
    errors = probs.copy()
    errors[np.arange(30), probs.argmax(axis=1)] -= 1.0
    built = (errors[:, :, None] * features[:, None, :]).reshape(30, -1)
    picks = badge(probs, features, 5, rng=np.random.default_rng(2))
    assert picks[0] == np.argmax(np.linalg.norm(built, axis=1))
    assert np.unique(picks).shape == (5,)
    # The same draws from the built vectors: k-means++ with the same random stream.
    again = np.random.default_rng(2)
    chosen = [int(picks[0])]
    nearest = ((built - built[chosen[0]]) ** 2).sum(axis=1)
    for _ in range(4):
        nearest[chosen] = 0.0
        chosen.append(int(again.choice(30, p=nearest / nearest.sum())))
        nearest = np.minimum(nearest, ((built - built[chosen[-1]]) ** 2).sum(axis=1))
    assert picks.tolist() == chosen


def test_badge_and_power_are_offered_as_a_strategy_and_a_diversity() -> None:
    assert "badge" in list_strategies()
    rng = np.random.default_rng(3)
    probs = rng.dirichlet(np.ones(2), size=40)[:, :, None]
    features = rng.normal(size=(40, 3))
    for config in (
        SelectionConfig("badge", query_size=6),
        SelectionConfig("margin", query_size=6, diversity="power"),
    ):
        choice = choose_batch(probs, features, config=config, seed=0)
        assert choice.indices.shape == (6,) and np.unique(choice.indices).shape == (6,)
    with pytest.raises(ValueError, match="valid ones: none, kcenter, power"):
        SelectionConfig("margin", diversity="spread")
