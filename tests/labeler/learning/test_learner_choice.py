import re
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from labeler.learning.learner_choice import (
    CNN,
    check_learner,
    choose_learner,
    get_chance_level,
    get_head_embedding,
    get_head_name,
    get_paired_error,
)
from labeler.learning.train_config import TrainConfig
from labeler.selection.strategies import check_strategy_fits

N_CLASSES = 3


def make_vectors(n_per_class: int, *, seed: int = 0) -> tuple[dict[str, Any], np.ndarray]:
    """``informative`` separates the classes; ``noise`` says nothing of them."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(N_CLASSES), n_per_class)
    centres = 5.0 * np.eye(N_CLASSES)
    informative = centres[labels] + rng.normal(size=(labels.shape[0], N_CLASSES))
    noise = rng.normal(size=(labels.shape[0], 4))
    return {"noise": noise, "informative": informative}, labels


def fake_cnn(val_accuracy: float, calls: list[int]) -> Any:
    def train() -> Any:
        calls.append(1)
        return SimpleNamespace(val_accuracy=val_accuracy, validation="held out 20%", model=None)

    return train


def test_cross_validation_chooses_the_informative_embedding():
    vectors, labels = make_vectors(6)
    choice = choose_learner(
        labels,
        n_classes=N_CLASSES,
        head_vectors=vectors,
        train_cnn=None,
        train_config=TrainConfig(),
        seed=0,
    )
    assert choice.chosen == "linear@informative"
    scores = {score.name: score for score in choice.scores}
    assert scores["linear@informative"].accuracy > 0.9
    assert scores["linear@noise"].accuracy < 0.7
    assert scores["linear@informative"].method == "5-fold cross-validation"
    assert choice.head is not None and choice.trained is None
    # The head is refitted on every label: it knows all of them.
    assert np.mean(choice.head.predict(vectors["informative"]) == labels) == 1.0
    assert choice.to_dict()["accuracy"] == choice.accuracy


def test_folds_follow_the_smallest_class():
    vectors, labels = make_vectors(3)
    choice = choose_learner(
        labels, n_classes=N_CLASSES, head_vectors=vectors, train_cnn=None,
        train_config=TrainConfig(), seed=0,
    )  # fmt: skip
    assert all(score.method.startswith("3-fold cross-validation") for score in choice.scores)
    # With 9 labels, chance is a third plus a margin: the noise head is marked, not chosen.
    (noise,) = [score for score in choice.scores if score.name == "linear@noise"]
    assert noise.method.endswith(f"no better than chance ({get_chance_level(labels):.3f})")
    assert choice.chosen == "linear@informative"


def test_with_one_label_in_a_class_the_first_candidate_is_taken():
    vectors, labels = make_vectors(1)
    choice = choose_learner(
        labels, n_classes=N_CLASSES, head_vectors=vectors, train_cnn=None,
        train_config=TrainConfig(), seed=0,
    )  # fmt: skip
    assert choice.chosen == "linear@noise"  # first in order of preference
    assert "first candidate" in choice.reason
    assert all(score.accuracy is None for score in choice.scores)


def test_a_class_without_labels_is_allowed_for_heads():
    vectors, labels = make_vectors(4)
    keep = labels != 2
    choice = choose_learner(
        labels[keep],
        n_classes=N_CLASSES,
        head_vectors={kind: rows[keep] for kind, rows in vectors.items()},
        train_cnn=None,
        train_config=TrainConfig(),
        seed=0,
    )
    assert choice.chosen == "linear@informative"
    assert choice.head is not None
    assert np.all(choice.head.predict_proba(vectors["informative"])[:, 2] == 0.0)


def test_the_cnn_is_trained_only_once_its_validation_split_exists():
    calls: list[int] = []
    vectors, labels = make_vectors(5)
    config = TrainConfig(min_val_per_class=6)
    choice = choose_learner(
        labels, n_classes=N_CLASSES, head_vectors=vectors, train_cnn=fake_cnn(1.0, calls),
        train_config=config, seed=0,
    )  # fmt: skip
    assert calls == []
    (cnn,) = [score for score in choice.scores if score.name == CNN]
    assert cnn.accuracy is None and "needs 6 labels of every class (fewest: 5)" in cnn.method


@pytest.mark.parametrize(("cnn_accuracy", "winner"), [(1.0, CNN), (0.0, "linear@noise")])
def test_the_cnn_wins_only_when_more_accurate_on_its_own_split(cnn_accuracy, winner):
    calls: list[int] = []
    all_vectors, labels = make_vectors(10)
    vectors = {"noise": all_vectors["noise"]}
    config = TrainConfig(min_val_per_class=5, val_fraction=0.2)
    choice = choose_learner(
        labels, n_classes=N_CLASSES, head_vectors=vectors,
        train_cnn=fake_cnn(cnn_accuracy, calls), train_config=config, seed=0,
    )  # fmt: skip
    assert calls == [1]
    assert choice.chosen == winner
    names = [score.name for score in choice.scores]
    assert names[-2:] == ["linear@noise (split)", CNN]
    split = choice.scores[-2]
    assert split.method == "the CNN's validation split (6 labels)"  # 2 of each class of 10
    assert (choice.trained is not None) == (winner == CNN)
    assert (choice.head is not None) == (winner != CNN)


def test_a_tie_on_the_split_keeps_the_head():
    vectors, labels = make_vectors(10)
    config = TrainConfig(min_val_per_class=5, val_fraction=0.2)
    choice = choose_learner(
        labels, n_classes=N_CLASSES, head_vectors=vectors, train_cnn=fake_cnn(1.0, []),
        train_config=config, seed=0,
    )  # fmt: skip
    # The informative head is perfect on the split as well: a tie, so no CNN.
    assert choice.scores[-2].accuracy == 1.0
    assert choice.chosen == "linear@informative"


def test_learner_names():
    assert check_learner("auto") == "auto"
    assert check_learner("cnn") == "cnn"
    assert check_learner("linear@pixels") == "linear@pixels"
    assert check_learner("linear@efficientnet_lite0+pixels") == "linear@efficientnet_lite0+pixels"
    assert get_head_embedding(get_head_name("pixels")) == "pixels"
    assert get_head_embedding("cnn") is None
    for bad in ("linear@clip", "vgg", "linear@pixels+clip"):
        expected = re.escape(f"unknown learner '{bad}'; valid ones: auto, cnn")
        with pytest.raises(ValueError, match=expected):
            check_learner(bad)


def test_strategies_that_need_dropout_draws_need_a_network():
    check_strategy_fits("cnn", "bald")
    check_strategy_fits("auto", "margin")
    with pytest.raises(ValueError, match="needs MC-dropout draws of a network"):
        check_strategy_fits("auto", "bald")
    with pytest.raises(ValueError, match="needs MC-dropout draws"):
        check_strategy_fits("linear@pixels", "variation_ratio")


def test_at_least_one_embedding_is_needed():
    _, labels = make_vectors(2)
    with pytest.raises(ValueError, match="at least one embedding"):
        choose_learner(
            labels, n_classes=N_CLASSES, head_vectors={}, train_cnn=None,
            train_config=TrainConfig(), seed=0,
        )  # fmt: skip


def test_a_joint_head_is_left_out_when_a_part_alone_is_at_chance():
    vectors, labels = make_vectors(6)
    joint = np.concatenate([vectors["informative"], vectors["noise"]], axis=1)
    choice = choose_learner(
        labels,
        n_classes=N_CLASSES,
        head_vectors={"informative+noise": joint, **vectors},
        train_cnn=None,
        train_config=TrainConfig(),
        seed=0,
    )
    assert choice.chosen == "linear@informative"
    (joint_score,) = [s for s in choice.scores if s.name == "linear@informative+noise"]
    assert "left out: noise alone is no better than chance" in joint_score.method


def test_the_chance_level_is_the_commonest_share_plus_a_margin():
    labels = np.array([0] * 6 + [1] * 3 + [2] * 3)
    share = 0.5
    assert get_chance_level(labels) == pytest.approx(share + 1.64 * np.sqrt(0.25 / 12))


def test_when_every_head_is_at_chance_the_best_of_them_is_taken():
    rng = np.random.default_rng(3)
    labels = np.repeat(np.arange(2), 4)
    vectors = {"a": rng.normal(size=(8, 3)), "b": rng.normal(size=(8, 3))}
    choice = choose_learner(
        labels, n_classes=2, head_vectors=vectors, train_cnn=None,
        train_config=TrainConfig(), seed=0,
    )  # fmt: skip
    accuracies = {score.name: score.accuracy for score in choice.scores}
    assert max(accuracies.values()) <= get_chance_level(labels)
    assert accuracies[choice.chosen] == max(accuracies.values())


def test_the_paired_standard_error_matches_a_hand_computation():
    first = np.array([True, True, False, True, False])
    second = np.array([True, False, False, False, True])
    # Differences 0, 1, 0, 1, -1: mean 0.2, sample variance (4 * 0.04 + 2 * 0.64 + 1.44) / 4.
    expected = np.sqrt((0.04 * 2 + 0.64 * 2 + 1.44) / 4 / 5)
    assert get_paired_error(first, second) == pytest.approx(expected)
    assert get_paired_error(first, first) == 0.0


def _choose_between_two_views(fair_scale: float, seed: int) -> tuple[Any, dict[str, Any]]:
    """The choice on 12 labels of 3 classes in two embeddings, ``fair`` (noise of
    ``fair_scale``) then ``clean`` (less noise) in order of preference, with each head's
    cross-validated accuracy."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(N_CLASSES), 4)
    centres = 3.0 * np.eye(N_CLASSES)
    fair = centres[labels] + rng.normal(scale=fair_scale, size=(12, N_CLASSES))
    clean = centres[labels] + rng.normal(scale=0.6, size=(12, N_CLASSES))
    choice = choose_learner(
        labels, n_classes=N_CLASSES, head_vectors={"fair": fair, "clean": clean},
        train_cnn=None, train_config=TrainConfig(), seed=0,
    )  # fmt: skip
    return choice, {score.name: score.accuracy for score in choice.scores}


def test_a_head_ahead_by_one_label_yields_to_the_preferred_one():
    choice, scores = _choose_between_two_views(1.5, seed=3)
    # One label of 12 apart: a lead of exactly one standard error (1/12), within the noise.
    assert scores["linear@clean"] == 1.0 and scores["linear@fair"] == pytest.approx(11 / 12)
    assert choice.chosen == "linear@fair"
    assert choice.reason.startswith("linear@fair: earlier in the order of preference")
    assert "within one standard error of the best cross-validated head, linear@clean" in (
        choice.reason
    )
    assert "ahead by 0.083, standard error 0.083" in choice.reason


def test_a_head_ahead_by_more_than_the_noise_is_chosen_over_the_preferred_one():
    choice, scores = _choose_between_two_views(2.0, seed=4)
    assert scores["linear@clean"] == 1.0 and scores["linear@fair"] < 0.5
    assert choice.chosen == "linear@clean"
    assert choice.reason == "linear@clean: the best cross-validated head"
