import numpy as np
import pytest

from labeler.learning.joint_embedding import (
    add_joint_embedding,
    check_embedding_name,
    get_joint_name,
    join_embeddings,
    measure_agreement,
    order_joint_embeddings,
    split_joint_name,
)


def test_each_part_weighs_the_same_whatever_its_width_and_units():
    rng = np.random.default_rng(0)
    wide = 1000.0 * rng.normal(size=(50, 40)).astype(np.float32)
    narrow = rng.normal(size=(50, 3)).astype(np.float32)
    joint = join_embeddings({"wide": wide, "narrow": narrow})
    assert joint.shape == (50, 43) and joint.dtype == np.float32
    np.testing.assert_allclose(joint.mean(axis=0), 0.0, atol=1e-5)
    assert np.sum(joint[:, :40].var(axis=0)) == pytest.approx(1.0, rel=1e-4)
    assert np.sum(joint[:, 40:].var(axis=0)) == pytest.approx(1.0, rel=1e-4)


def test_a_constant_part_stays_zero():
    joint = join_embeddings({"flat": np.ones((4, 2)), "other": np.arange(8.0).reshape(4, 2)})
    assert np.all(joint[:, :2] == 0.0)


def test_parts_must_have_the_same_rows():
    with pytest.raises(ValueError, match="same rows"):
        join_embeddings({"a": np.zeros((3, 2)), "b": np.zeros((4, 2))})
    with pytest.raises(ValueError, match="at least one part"):
        join_embeddings({})


def _clustered(n_clusters: int, per_cluster: int, dim: int, *, seed: int) -> np.ndarray:
    """Tight clusters of points, cluster after cluster."""
    rng = np.random.default_rng(seed)
    centres = 10.0 * rng.normal(size=(n_clusters, dim))
    return np.repeat(centres, per_cluster, axis=0) + rng.normal(
        size=(n_clusters * per_cluster, dim)
    )


def test_agreement_is_the_share_of_nearest_neighbours_two_embeddings_share() -> None:
    # Two views of the same 20 clusters of 11 points: each point's 10 nearest neighbours are
    # its cluster in both. A third embedding groups the same points into unrelated clusters.
    same = _clustered(20, 11, 6, seed=0)
    other_view = same @ np.random.default_rng(1).normal(size=(6, 30))
    unrelated = _clustered(20, 11, 6, seed=2)[np.random.default_rng(3).permutation(220)]
    assert measure_agreement({"a": same, "b": other_view}) == pytest.approx(1.0)
    assert measure_agreement({"a": same, "c": unrelated}) < 0.1
    # Several parts: the least agreeing pair.
    three = {"a": same, "b": other_view, "c": unrelated}
    assert measure_agreement(three) == measure_agreement({"b": other_view, "c": unrelated})
    assert measure_agreement({"a": same}) == 1.0
    with pytest.raises(ValueError, match="same rows"):
        measure_agreement({"a": same, "b": same[:-1]})
    with pytest.raises(ValueError, match="more than 10 images, got 10"):
        measure_agreement({"a": same[:10], "b": same[:10]})


def test_the_joint_embedding_comes_first_only_when_its_parts_agree() -> None:
    same = _clustered(20, 11, 6, seed=0)
    agreeing = {"a": same, "b": same @ np.random.default_rng(1).normal(size=(6, 30))}
    assert list(add_joint_embedding(agreeing)) == ["a+b", "a", "b"]
    unrelated = _clustered(20, 11, 6, seed=2)[np.random.default_rng(3).permutation(220)]
    assert list(add_joint_embedding({"a": same, "c": unrelated})) == ["a", "c", "a+c"]
    assert list(add_joint_embedding({"a": same})) == ["a"]
    assert split_joint_name(get_joint_name(["a", "b"])) == ["a", "b"]
    # A joint embedding whose parts are not all there cannot be measured: it keeps its place.
    lone = {"a+c": join_embeddings({"a": same, "c": unrelated}), "a": same}
    assert list(order_joint_embeddings(lone)) == ["a+c", "a"]
    few = {"a": same[:10], "c": unrelated[:10]}
    assert list(add_joint_embedding(few)) == ["a+c", "a", "c"]  # too few to measure


def test_names_are_checked_part_by_part():
    assert check_embedding_name("efficientnet_lite0+pixels") == "efficientnet_lite0+pixels"
    with pytest.raises(ValueError, match="unknown embedding kind 'clip'"):
        check_embedding_name("pixels+clip")
