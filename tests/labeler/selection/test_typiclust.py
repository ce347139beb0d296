"""TypiClust against hand computations on tiny, well-separated point sets."""

from __future__ import annotations

import numpy as np
import pytest

from labeler.selection import cold_start_checks
from labeler.selection.typiclust import get_typicality, rank_by_typicality, typiclust


def naive_typicality(points: np.ndarray, k_neighbors: int) -> np.ndarray:
    """Oracle: 1 / mean distance to the k nearest other points, by explicit differences."""
    n_points = points.shape[0]
    k = min(k_neighbors, n_points - 1)
    values = np.empty(n_points)
    for i in range(n_points):
        distances = sorted(
            float(np.sqrt(((points[i] - points[j]) ** 2).sum())) for j in range(n_points) if j != i
        )
        values[i] = 1.0 / np.mean(distances[:k])
    return values


def make_blobs() -> tuple[np.ndarray, list[np.ndarray]]:
    """Three far-apart blobs: 30 tight points, 20 looser ones, 10 loosest; rows shuffled."""
    rng = np.random.default_rng(7)
    blobs = [
        np.array([0.0, 0.0]) + 0.1 * rng.normal(size=(30, 2)),
        np.array([50.0, 0.0]) + 0.3 * rng.normal(size=(20, 2)),
        np.array([0.0, 50.0]) + 0.5 * rng.normal(size=(10, 2)),
    ]
    points = np.concatenate(blobs)
    order = rng.permutation(points.shape[0])
    points = points[order]
    where = np.argsort(order)  # where[i] = new row of old row i
    rows, start = [], 0
    for blob in blobs:
        rows.append(np.sort(where[start : start + blob.shape[0]]))
        start += blob.shape[0]
    return points.astype(np.float32), rows


def densest(points: np.ndarray, rows: np.ndarray, k_neighbors: int = 20) -> int:
    """Oracle: the row of ``rows`` with the highest typicality within ``rows``."""
    return int(rows[np.argmax(naive_typicality(points[rows].astype(np.float64), k_neighbors))])


def test_typicality_matches_the_hand_computation_across_blocks(monkeypatch) -> None:
    points = np.random.default_rng(0).normal(size=(23, 3))
    expected = naive_typicality(points, 4)
    np.testing.assert_allclose(get_typicality(points, 4), expected, rtol=1e-9)
    # Blocks of 2 rows against 23 columns: the row blocks and the self-distance offsets.
    monkeypatch.setattr(cold_start_checks, "BLOCK_ENTRIES", 46)
    np.testing.assert_allclose(get_typicality(points, 4), expected, rtol=1e-9)
    ranking = rank_by_typicality(points, 4)
    np.testing.assert_array_equal(ranking, np.argsort(-expected, kind="stable"))


def test_typicality_of_duplicates_and_a_lone_point() -> None:
    points = np.array([[0.0, 0.0], [0.0, 0.0], [3.0, 4.0]])
    # Row 0's nearest other row is its duplicate (distance 0), not itself.
    assert get_typicality(points, 1).tolist() == [np.inf, np.inf, 0.2]
    assert get_typicality(points[:1], 20).tolist() == [0.0]


def test_one_pick_per_blob_the_densest_point_the_biggest_blob_first() -> None:
    points, blobs = make_blobs()
    picks = typiclust(points, 3, seed=0)
    assert picks.tolist() == [densest(points, blob) for blob in blobs]


def test_blobs_holding_a_label_come_after_the_others() -> None:
    points, (big, middle, small) = make_blobs()
    picks = typiclust(points, 2, labeled=big[:1], seed=0)
    assert picks.tolist() == [densest(points, middle), densest(points, small)]
    # Labels in the two larger blobs: the small one is now the only uncovered cluster.
    picks = typiclust(points, 1, labeled=[big[0], middle[0]], seed=0)
    assert picks.tolist() == [densest(points, small)]


def test_clusters_below_the_minimum_size_come_last() -> None:
    points, (big, middle, _) = make_blobs()
    # With min_cluster_size 15 the 10-point blob is an outlier: the third pick goes back to
    # the largest of the covered blobs, to its second most typical point.
    picks = typiclust(points, 3, seed=0, min_cluster_size=15)
    typicality = naive_typicality(points[big].astype(np.float64), 20)
    second_best = int(big[np.argsort(-typicality, kind="stable")[1]])
    assert picks.tolist() == [densest(points, big), densest(points, middle), second_best]


def test_the_same_seed_gives_the_same_picks() -> None:
    points = np.random.default_rng(3).normal(size=(300, 5)).astype(np.float32)
    first = typiclust(points, 17, seed=11)
    np.testing.assert_array_equal(first, typiclust(points, 17, seed=11))
    # A prefix is not a smaller selection's exact answer (k-means differs), but it is unique.
    assert np.unique(first).shape == (17,)


def test_duplicate_points_never_give_a_row_twice() -> None:
    distinct = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0], [30.0, 30.0]])
    points = np.repeat(distinct, 4, axis=0)  # rows 4i..4i+3 hold point i
    picks = typiclust(points, 8, seed=0)
    assert np.unique(picks).shape == (8,)
    # Only 5 distinct points, so 5 clusters; each gets one pick before any gets a second.
    assert sorted(np.unique(picks[:5] // 4).tolist()) == [0, 1, 2, 3, 4]


def test_a_pool_of_identical_points_is_taken_in_row_order() -> None:
    assert typiclust(np.ones((10, 3)), 3, seed=0).tolist() == [0, 1, 2]


@pytest.mark.parametrize("option", ["k_neighbors", "max_clusters", "min_cluster_size"])
def test_options_must_be_positive(option: str) -> None:
    with pytest.raises(ValueError, match=f"{option} must be an integer >= 1"):
        typiclust(np.zeros((5, 2)), 1, seed=0, **{option: 0})
