import numpy as np

from labeler.selection.pool_query import PoolQuery


def test_a_new_batch_keeps_the_scores_and_scores_its_unscored_images_zero() -> None:
    query = PoolQuery(
        np.array([3, 1]), np.array([1, 2, 3]), np.array([0.5, 0.2, 0.9]),
        np.array([0, 1, 0]), np.array([0.6, 0.7, 0.8]),
    )  # fmt: skip
    batch = query.with_batch(np.array([3, 7, 1, 9]))
    assert batch.selected.tolist() == [3, 7, 1, 9]
    assert batch.scored_ids.tolist() == [1, 2, 3, 7, 9]
    assert batch.scores.tolist() == [0.5, 0.2, 0.9, 0.0, 0.0]
    assert batch.guesses.tolist() == [0, 1, 0] and batch.confidences.tolist() == [0.6, 0.7, 0.8]
    # A batch of scored images only leaves the scores as they were.
    assert query.with_batch(np.array([2])).scored_ids.tolist() == [1, 2, 3]
