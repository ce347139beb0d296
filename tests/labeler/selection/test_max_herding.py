"""MaxHerding against a brute-force greedy that recomputes every kernel value each step."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import pdist

from labeler.selection import cold_start_checks
from labeler.selection import max_herding as max_herding_module
from labeler.selection.max_herding import get_median_distance, greedy_coverage, max_herding


def brute_force_herding(
    points: np.ndarray, n_select: int, sigma: float, labeled: list[int] | None = None
) -> list[int]:
    """Oracle: F(S) = sum_x max_{s in S} exp(-|x - s|^2 / (2 sigma^2)), recomputed in full for
    every candidate at every step (explicit differences, float64); the first row wins ties."""
    n_points = points.shape[0]
    differences = points[:, None, :] - points[None, :, :]
    kernel = np.exp(-(differences**2).sum(axis=2) / (2.0 * sigma**2))
    chosen = list(labeled or [])
    picks: list[int] = []

    def coverage(selected: list[int]) -> float:
        return float(kernel[:, selected].max(axis=1).sum()) if selected else 0.0

    for _ in range(n_select):
        best, best_value = -1, -np.inf
        for row in range(n_points):
            if row in chosen:
                continue
            value = coverage([*chosen, row])
            if value > best_value + 1e-9:
                best, best_value = row, value
        chosen.append(best)
        picks.append(best)
    return picks


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_greedy_picks_match_the_brute_force(seed: int) -> None:
    points = np.random.default_rng(seed).normal(size=(30, 3))
    sigma = float(np.median(pdist(points)))
    assert max_herding(points, 8, seed=0).tolist() == brute_force_herding(points, 8, sigma)


def test_a_narrow_kernel_and_labels_match_the_brute_force() -> None:
    points = np.random.default_rng(5).normal(size=(40, 2))
    labeled = [4, 19, 33]
    picks = max_herding(points, 10, labeled=labeled, seed=0, bandwidth=0.4).tolist()
    assert picks[:8] == brute_force_herding(points, 8, 0.4, labeled)
    # At step 8 only rows 13 and 21 still gain: each adds (1 - its coverage) + (k(13, 21) -
    # the other's coverage), equal sums in exact arithmetic, so float32 rounding may take
    # either. Each pick must still be a best gain of its step.
    differences = points[:, None, :] - points[None, :, :]
    kernel = np.exp(-(differences**2).sum(axis=2) / (2.0 * 0.4**2))
    chosen = list(labeled)
    for pick in picks:
        covered = kernel[:, chosen].max(axis=1)
        gains = np.maximum(kernel - covered[:, None], 0.0).sum(axis=0)
        gains[chosen] = -np.inf
        assert gains[pick] == pytest.approx(gains.max(), rel=1e-6)
        chosen.append(pick)


def test_blocks_do_not_change_the_picks(monkeypatch) -> None:
    points = np.random.default_rng(9).normal(size=(30, 3))
    expected = max_herding(points, 6, labeled=[1, 2, 3], seed=0)
    monkeypatch.setattr(cold_start_checks, "BLOCK_ENTRIES", 45)
    np.testing.assert_array_equal(max_herding(points, 6, labeled=[1, 2, 3], seed=0), expected)


def test_lazy_greedy_equals_a_full_argmax_every_step() -> None:
    rng = np.random.default_rng(4)
    points = rng.normal(size=(400, 6))
    distances = ((points[:, None, :] - points[None, :200, :]) ** 2).sum(axis=2)
    kernel = np.exp(-distances / 8.0).astype(np.float32)
    picks = greedy_coverage(kernel, np.zeros(200, dtype=np.float32), 60)

    covered = np.zeros(200, dtype=np.float32)
    expected = []
    for _ in range(60):
        gains = np.maximum(kernel - covered, 0.0).sum(axis=1, dtype=np.float64)
        gains[expected] = -np.inf
        expected.append(int(np.argmax(gains)))
        covered = np.maximum(covered, kernel[expected[-1]])
    assert picks.tolist() == expected


def test_one_pick_per_blob_the_largest_blob_first() -> None:
    rng = np.random.default_rng(7)
    blobs = [
        np.array([0.0, 0.0]) + 0.3 * rng.normal(size=(30, 2)),
        np.array([20.0, 0.0]) + 0.3 * rng.normal(size=(20, 2)),
        np.array([0.0, 20.0]) + 0.3 * rng.normal(size=(10, 2)),
    ]
    picks = max_herding(np.concatenate(blobs), 3, seed=0)
    assert picks[0] < 30 and 30 <= picks[1] < 50 and picks[2] >= 50


def test_identical_points_are_taken_in_row_order() -> None:
    assert max_herding(np.ones((6, 2)), 3, seed=0).tolist() == [0, 1, 2]


def test_a_reference_subset_keeps_every_row_a_candidate_and_repeats_for_a_seed() -> None:
    points = np.random.default_rng(2).normal(size=(200, 4)).astype(np.float32)
    picks = max_herding(points, 20, seed=3, max_reference=50)
    assert np.unique(picks).shape == (20,)
    np.testing.assert_array_equal(picks, max_herding(points, 20, seed=3, max_reference=50))


def test_a_large_pool_offers_a_subset_of_candidates_within_the_memory_bound(monkeypatch) -> None:
    points = np.random.default_rng(6).normal(size=(300, 4))
    labeled = np.arange(0, 300, 7)
    # 100 reference rows and a bound of 5,000 entries: 50 candidates of the 257 unlabeled.
    monkeypatch.setattr(max_herding_module, "_MAX_KERNEL_ENTRIES", 5_000)
    picks = max_herding(points, 12, labeled=labeled, seed=1, max_reference=100)
    assert np.unique(picks).shape == (12,) and not np.isin(picks, labeled).any()
    np.testing.assert_array_equal(
        picks, max_herding(points, 12, labeled=labeled, seed=1, max_reference=100)
    )
    # More picks than the bound allows candidates: every pick is still met.
    picks = max_herding(points, 120, labeled=labeled, seed=1, max_reference=100)
    assert np.unique(picks).shape == (120,) and not np.isin(picks, labeled).any()


def test_median_distance_is_exact_for_small_pools_and_close_for_large_ones() -> None:
    rng = np.random.default_rng(0)
    small = rng.normal(size=(50, 3))
    assert get_median_distance(small, seed=0) == pytest.approx(float(np.median(pdist(small))))
    large = rng.normal(size=(1000, 3))  # 499,500 pairs: 100,000 of them are drawn
    estimate = get_median_distance(large, seed=0)
    assert estimate == pytest.approx(float(np.median(pdist(large))), rel=0.02)
    assert get_median_distance(np.ones((4, 2)), seed=0) == 0.0
    assert get_median_distance(small[:1], seed=0) == 0.0


def test_pair_distances_by_blocks_equal_the_whole_difference(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(size=(40, 7))
    first = rng.integers(40, size=23)
    second = (first + rng.integers(1, 40, size=23)) % 40
    whole = ((values[first] - values[second]) ** 2).sum(axis=1)
    # 21 entries per block: 3 pairs of 7 columns, so 23 pairs end on a partial block.
    monkeypatch.setattr(max_herding_module, "_PAIR_BLOCK_ENTRIES", 21)
    np.testing.assert_allclose(
        max_herding_module.get_pair_distances(values, first, second), whole, rtol=1e-12
    )


def test_bandwidth_must_be_positive() -> None:
    with pytest.raises(ValueError, match="bandwidth must be a finite number > 0"):
        max_herding(np.zeros((5, 2)), 1, seed=0, bandwidth=0.0)
