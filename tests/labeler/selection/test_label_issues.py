"""rank_suspects: confident learning on out-of-sample probabilities, against a hand computation."""

from __future__ import annotations

import numpy as np
import pytest

from labeler.selection.label_issues import rank_suspects

LABELS = np.array([0, 0, 1, 1, 2, 2])
PROBS = np.array(
    [
        [0.8, 0.1, 0.1],  # labeled 0, clearly 0
        [0.2, 0.7, 0.1],  # labeled 0, confidently 1: flagged
        [0.1, 0.8, 0.1],
        [0.1, 0.6, 0.3],  # labeled 1, below every threshold: not flagged
        [0.1, 0.1, 0.8],
        [0.6, 0.1, 0.3],  # labeled 2, confidently 0: flagged
    ]
)


def test_thresholds_flags_scores_and_order_match_a_hand_computation() -> None:
    ranking = rank_suspects(LABELS, PROBS)
    # t_j = mean of p_j over the samples labeled j.
    np.testing.assert_allclose(ranking.thresholds, [0.5, 0.7, 0.55])
    assert ranking.flagged.tolist() == [False, True, False, False, False, True]
    # score = 1 - p_y / t_y: row 1 is 1 - 0.2 / 0.5, row 3 is 1 - 0.6 / 0.7, and so on.
    np.testing.assert_allclose(
        ranking.scores, [-0.6, 0.6, -1 / 7, 1 / 7, -0.25 / 0.55, 0.25 / 0.55]
    )
    assert ranking.suggested.tolist() == [0, 1, 1, 1, 2, 0]
    assert ranking.order.tolist() == [1, 5, 3, 2, 4, 0]  # by score
    assert ranking.n_flagged == 2


def test_a_label_the_model_hardly_backs_outranks_a_flagged_one() -> None:
    # Row 2 is labeled 0 but gets 0.1 of it, spread over two other classes that clear no
    # threshold: not flagged. Row 5 is flagged (0.7 >= t_0), yet the model backs its label 1
    # with 0.3. The low self-confidence is the stronger evidence.
    labels = [0, 0, 0, 1, 1, 1, 2, 2]
    probs = [
        [0.9, 0.05, 0.05],
        [0.9, 0.05, 0.05],
        [0.1, 0.45, 0.45],
        [0.05, 0.9, 0.05],
        [0.05, 0.9, 0.05],
        [0.7, 0.3, 0.0],
        [0.05, 0.05, 0.9],
        [0.05, 0.05, 0.9],
    ]
    ranking = rank_suspects(labels, probs)
    assert ranking.flagged.tolist() == [False, False, False, False, False, True, False, False]
    assert ranking.scores[2] == pytest.approx(1 - 0.1 / (1.9 / 3))
    assert ranking.scores[5] == pytest.approx(1 - 0.3 / 0.7)
    assert ranking.order.tolist()[:2] == [2, 5]


def test_labels_annotators_dispute_come_first() -> None:
    disputed = rank_suspects(LABELS, PROBS, disagreement=[0.5, 0, 0, 0, 0, 0])
    assert disputed.order.tolist() == [0, 1, 5, 3, 2, 4]
    both = rank_suspects(LABELS, PROBS, disagreement=[0, 0, 0, 0.5, 0, 1.0])
    assert both.order.tolist() == [5, 3, 1, 2, 4, 0]  # the disputed by score, then the rest


def test_equal_scores_go_to_the_more_disputed_label_then_by_row() -> None:
    probs = [[0.6, 0.4], [0.6, 0.4], [0.4, 0.6], [0.4, 0.6]]  # every score 0
    tied = rank_suspects([0, 0, 1, 1], probs, disagreement=[0, 0.5, 0, 1.0])
    assert tied.order.tolist() == [3, 1, 0, 2]


def test_rows_without_probabilities_rank_last_in_their_tier() -> None:
    probs = PROBS.copy()
    probs[1] = np.nan
    ranking = rank_suspects(LABELS, probs)
    assert not ranking.flagged[1] and np.isnan(ranking.scores[1]) and ranking.suggested[1] == -1
    # Row 1 is unscored: the threshold of class 0 comes from row 0 alone, and row 5 (p_0 = 0.6)
    # no longer clears it.
    assert ranking.thresholds[0] == pytest.approx(0.8) and ranking.n_flagged == 0
    assert ranking.order.tolist() == [5, 3, 0, 2, 4, 1]
    disputed = rank_suspects(LABELS, probs, disagreement=[0, 0.5, 0, 0, 0, 0])
    assert disputed.order.tolist() == [1, 5, 3, 0, 2, 4]  # disputed: first all the same


def test_a_class_without_labels_never_makes_a_sample_confident() -> None:
    ranking = rank_suspects([0, 0, 1], [[0.9, 0.05, 0.05], [0.1, 0.1, 0.8], [0.2, 0.7, 0.1]])
    assert np.isnan(ranking.thresholds[2])
    assert not ranking.flagged[1]  # its likeliest class, 2, has no threshold
    assert ranking.scores[1] == pytest.approx(1 - 0.1 / 0.5)  # t_0 = (0.9 + 0.1) / 2


@pytest.mark.parametrize(
    ("labels", "probs", "disagreement", "message"),
    [
        ([0, 1], [[0.5, 0.5]], None, r"labels must be \[n\] and probs \[n, n_classes\]"),
        ([0, 3], [[0.5, 0.5], [0.5, 0.5]], None, r"labels must lie in 0 \.\. 1"),
        ([0, 1], [[0.5, 0.5], [0.5, 0.5]], [0.5], r"disagreement must be \[n\] shares"),
        ([0, 1], [[0.5, 0.5], [0.5, 0.5]], [0.5, 2.0], r"shares in \[0, 1\]"),
    ],
)
def test_bad_input_is_refused(labels, probs, disagreement, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rank_suspects(labels, probs, disagreement=disagreement)
