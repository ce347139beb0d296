import numpy as np
import pytest

from labeler.learning.joint_embedding import (
    add_joint_embedding,
    check_embedding_name,
    get_joint_name,
    join_embeddings,
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


def test_the_joint_embedding_comes_first_when_there_are_two_kinds():
    vectors = {"a": np.zeros((2, 1)), "b": np.ones((2, 1))}
    joined = add_joint_embedding(vectors)
    assert list(joined) == ["a+b", "a", "b"]
    assert list(add_joint_embedding({"a": vectors["a"]})) == ["a"]
    assert split_joint_name(get_joint_name(["a", "b"])) == ["a", "b"]


def test_names_are_checked_part_by_part():
    assert check_embedding_name("efficientnet_lite0+pixels") == "efficientnet_lite0+pixels"
    with pytest.raises(ValueError, match="unknown embedding kind 'clip'"):
        check_embedding_name("pixels+clip")
