"""Which embedding ``auto`` reads first: agreement of nearest neighbours between embeddings."""

import re

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from labeler.learning.embedding_preference import (
    MIN_AGREEMENT,
    get_nearest_neighbours,
    get_neighbour_agreement,
    order_by_agreement,
)

JOINT = "efficientnet_lite0+pixels"
NAMES = [JOINT, "efficientnet_lite0", "pixels"]


def _clusters(rng: np.random.Generator, n_rows: int, dim: int) -> np.ndarray:
    """Rows around 20 well-separated centres: neighbours are mostly of one's own centre."""
    centres = rng.normal(scale=10.0, size=(20, dim))
    return centres[np.arange(n_rows) % 20] + rng.normal(size=(n_rows, dim))


def test_nearest_neighbours_match_a_brute_force() -> None:
    rows = np.random.default_rng(0).normal(size=(60, 5))
    distances = cdist(rows, rows)
    np.fill_diagonal(distances, np.inf)
    expected = np.argsort(distances, axis=1)[:, :4]
    found = get_nearest_neighbours(rows, 4)
    assert found.shape == (60, 4)
    assert all(set(a) == set(b) for a, b in zip(found, expected, strict=True))


def test_the_same_neighbours_agree_fully_and_unrelated_ones_at_chance() -> None:
    rng = np.random.default_rng(1)
    rows = rng.normal(size=(300, 16))
    rotation = np.linalg.qr(rng.normal(size=(16, 16)))[0]
    # A rotation and a scale keep every distance's rank: the same neighbours.
    assert get_neighbour_agreement(rows, 3.0 * rows @ rotation) == pytest.approx(1.0)
    unrelated = get_neighbour_agreement(rows, rng.normal(size=(300, 16)))
    assert abs(unrelated) < 0.05


def test_a_large_pool_is_measured_on_a_seeded_sample() -> None:
    rng = np.random.default_rng(2)
    first = _clusters(rng, 500, 8)
    second = first + rng.normal(scale=0.5, size=first.shape)
    sampled = get_neighbour_agreement(first, second, max_rows=200)
    assert sampled == get_neighbour_agreement(first, second, max_rows=200)
    assert 0.2 < sampled < 1.0
    assert sampled != get_neighbour_agreement(first, second)


@pytest.mark.parametrize(
    ("shapes", "message"),
    [(((30, 4), (31, 4)), "same images, got 30 and 31 rows"), (((11, 4), (11, 4)), "more than 11")],
)
def test_bad_inputs_are_named(shapes: tuple, message: str) -> None:
    first, second = (np.zeros(shape) for shape in shapes)
    with pytest.raises(ValueError, match=message):
        get_neighbour_agreement(first, second)


def test_agreeing_parts_keep_the_joint_embedding_first() -> None:
    rng = np.random.default_rng(3)
    pretrained = _clusters(rng, 400, 32)
    # The pixels see the same clusters, through another projection and noise.
    pixels = pretrained @ rng.normal(size=(32, 8)) + rng.normal(size=(400, 8))
    names, note = order_by_agreement(NAMES, {"efficientnet_lite0": pretrained, "pixels": pixels})
    assert names == NAMES
    assert (
        note.startswith(f"{JOINT} first: the neighbours of efficientnet_lite0") and "agree" in note
    )


def test_disagreeing_parts_put_the_pretrained_features_first() -> None:
    rng = np.random.default_rng(4)
    vectors = {"efficientnet_lite0": _clusters(rng, 400, 32), "pixels": rng.normal(size=(400, 8))}
    names, note = order_by_agreement(NAMES, vectors)
    assert names == ["efficientnet_lite0", JOINT, "pixels"]
    assert note.startswith("efficientnet_lite0 first:")
    assert f"below {MIN_AGREEMENT:g}" in note
    assert re.search(r"\(pixels -?0\.0\d;", note), note  # about chance


def test_a_single_embedding_or_too_few_images_keep_the_order() -> None:
    assert order_by_agreement(["pixels"], {})[0] == ["pixels"]
    few = {"efficientnet_lite0": np.zeros((5, 3)), "pixels": np.zeros((5, 2))}
    names, note = order_by_agreement(NAMES, few)
    assert names == NAMES and "agreement not measured" in note
