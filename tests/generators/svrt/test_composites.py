"""SVRT touching chains, lines and repeated pairs (3, 9, 13): the rules checked from the
metadata and from the pixels.

Pixel checks work on the 8-connected ink components (scipy): touching shapes merge into one
component, separate ones are matched to their shapes by bounding box. Distances are between
ink pixel centres, measured with a Euclidean distance transform.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pytest
from scipy import ndimage
from scipy.spatial import cKDTree

from generators.family import Batch
from generators.svrt.family import SVRTFamily

PROBLEMS = (3, 9, 13)
N_IMAGES = 60
EIGHT = np.ones((3, 3), dtype=bool)

FAMILY = SVRTFamily()


@cache
def make_batch(problem: int) -> Batch:
    params = FAMILY.make_params(str(problem))
    return FAMILY.generate(str(problem), params, split="train", seed=7, start=0, count=N_IMAGES)


def get_components(image: np.ndarray) -> list[np.ndarray]:
    """The 8-connected ink components, each as a full-image boolean mask."""
    components, n_components = ndimage.label(image == 0, structure=EIGHT)
    return [components == k for k in range(1, n_components + 1)]


def get_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """Inclusive bounding box (x0, y0, x1, y1) of a mask, as in the metadata."""
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def get_shape_masks(image: np.ndarray, meta: dict[str, Any]) -> list[np.ndarray]:
    """Each shape's ink, in the metadata's order, for images where no shape touches another:
    every shape must be exactly one component whose box is the shape's recorded box.
    """
    components = get_components(image)
    assert len(components) == len(meta["shapes"])
    by_box = {get_box(mask): mask for mask in components}
    return [by_box[tuple(shape["bbox"])] for shape in meta["shapes"]]


def get_distance(mask_a: np.ndarray, mask_b: np.ndarray) -> float:
    """Smallest Euclidean distance (px) between an ink pixel of a and one of b."""
    return float(ndimage.distance_transform_edt(~mask_a)[mask_b].min())


def get_crop(mask: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = get_box(mask)
    return mask[y0 : y1 + 1, x0 : x1 + 1]


def get_touching(meta: dict[str, Any]) -> list[tuple[int, int]]:
    return [(int(a), int(b)) for a, b in meta["relations"]["touching"]]


@pytest.mark.parametrize("problem", PROBLEMS)
def test_classes_alternate_and_ink_matches(problem: int) -> None:
    batch = make_batch(problem)
    np.testing.assert_array_equal(batch.labels, np.arange(N_IMAGES) % 2)
    for index, (image, meta) in enumerate(zip(batch.images, batch.metadata, strict=True)):
        assert meta["label"] == index % 2
        assert set(np.unique(image)) <= {0, 255}
        border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
        assert (border == 255).all()
        assert sum(shape["ink"] for shape in meta["shapes"]) == int((image == 0).sum())
        assert all(shape["inside"] is None for shape in meta["shapes"])


def test_chain_or_pairs_problem_3() -> None:
    batch = make_batch(3)
    for image, meta in zip(batch.images, batch.metadata, strict=True):
        ink = [shape["ink"] for shape in meta["shapes"]]
        touching = get_touching(meta)
        if meta["label"] == 0:
            # A chain 0-1-2 (0 and 2 apart) and shape 3 alone.
            assert touching == [(0, 1), (1, 2)], meta["index"]
            groups = [[0, 1, 2], [3]]
        else:
            assert touching == [(0, 1), (2, 3)], meta["index"]
            groups = [[0, 1], [2, 3]]
        # From the pixels: two components, one per group (touching shapes are 8-adjacent).
        components = get_components(image)
        assert len(components) == 2
        sizes = sorted(int(mask.sum()) for mask in components)
        assert sizes == sorted(sum(ink[i] for i in group) for group in groups)
        if meta["label"] == 0:
            alone = min(components, key=lambda mask: int(mask.sum()))
            assert get_box(alone) == tuple(meta["shapes"][3]["bbox"])
        gap = get_distance(*components)
        assert gap >= 16.0, meta["index"]
        assert gap == pytest.approx(meta["witness"]["group_distance"], abs=1e-3)


def test_big_shape_in_the_middle_or_at_an_end_problem_9() -> None:
    batch = make_batch(9)
    for image, meta in zip(batch.images, batch.metadata, strict=True):
        shapes = meta["shapes"]
        masks = get_shape_masks(image, meta)
        assert [shape["scale"] for shape in shapes] == [1.0, 0.5, 0.5]
        assert len({shape["prototype"] for shape in shapes}) == 1
        assert len({shape["rotation_deg"] for shape in shapes}) == 1
        # The two half-scale copies are pixel-identical, shifted by their centres' offset.
        assert np.array_equal(get_crop(masks[1]), get_crop(masks[2]))
        shift = np.subtract(shapes[2]["centre"], shapes[1]["centre"])
        np.testing.assert_array_equal(
            np.subtract(shapes[2]["bbox"][:2], shapes[1]["bbox"][:2]), shift
        )
        # The big contour halved about its centre lands on a copy's contour (rounding only),
        # which ties the recorded centres to the pixels.
        big_points = np.argwhere(masks[0])[:, ::-1] - shapes[0]["centre"]
        small_points = np.argwhere(masks[1])[:, ::-1] - shapes[1]["centre"]
        halved = 0.5 * big_points
        gap = max(
            cKDTree(small_points).query(halved)[0].max(),
            cKDTree(halved).query(small_points)[0].max(),
        )
        assert gap <= 1.5, meta["index"]
        # Collinear, with the middle one at a fraction in [0.25, 0.75] of the outer segment.
        centres = np.array([shape["centre"] for shape in shapes], dtype=float)
        order = None
        for middle in range(3):
            a, b = (centres[i] for i in range(3) if i != middle)
            length = float(np.linalg.norm(b - a))
            t = float((centres[middle] - a) @ (b - a)) / length**2
            if 0.0 < t < 1.0:
                assert order is None
                order = middle
                d = centres[middle] - a
                off_line = abs((b - a)[0] * d[1] - (b - a)[1] * d[0]) / length
                # Rounding the middle centre moves it by at most 0.71 px.
                assert off_line <= 0.71
                slack = 0.71 / length
                assert 0.25 - slack <= min(t, 1 - t) <= 0.75 + slack
                assert t == pytest.approx(meta["witness"]["middle_fraction"], abs=1e-4) or (
                    1 - t == pytest.approx(meta["witness"]["middle_fraction"], abs=1e-4)
                )
        # Shape 0 is the big one: in the middle in class 0 only.
        assert order is not None
        assert (order == 0) == (meta["label"] == 0), meta["index"]
        for i in range(3):
            for j in range(i + 1, 3):
                assert get_distance(masks[i], masks[j]) >= 2.0


def test_second_pair_translated_or_moved_problem_13() -> None:
    batch = make_batch(13)
    for image, meta in zip(batch.images, batch.metadata, strict=True):
        shapes = meta["shapes"]
        masks = get_shape_masks(image, meta)
        assert [shape["prototype"] for shape in shapes] == [0, 1, 0, 1]
        # Copies are pixel-identical, so box corners move exactly as centres do.
        assert np.array_equal(get_crop(masks[0]), get_crop(masks[2]))
        assert np.array_equal(get_crop(masks[1]), get_crop(masks[3]))
        corner = [np.array(get_box(mask)[:2]) for mask in masks]
        offset_error = float(np.linalg.norm((corner[3] - corner[2]) - (corner[1] - corner[0])))
        assert offset_error == pytest.approx(meta["witness"]["offset_error"], abs=1e-4)
        if meta["label"] == 1:
            assert offset_error == 0.0
        else:
            assert offset_error >= 32.0, meta["index"]
        # Each small shape is near its own big one (a gap under 10 px) and not the other's.
        for small, own, other in ((1, 0, 2), (3, 2, 0)):
            assert 2.0 <= get_distance(masks[small], masks[own]) < 10.0
            assert get_distance(masks[small], masks[other]) >= 10.0
        assert get_distance(masks[0], masks[2]) >= 2.0
        assert get_distance(masks[1], masks[3]) >= 2.0
        assert meta["relations"]["touching"] == []


@pytest.mark.parametrize("problem", PROBLEMS)
def test_image_alone_matches_batch(problem: int) -> None:
    """Kernels reuse one canvas: image k made alone must equal image k of a batch."""
    batch = make_batch(problem)
    params = FAMILY.make_params(str(problem))
    for index in (7, 8):
        alone = FAMILY.generate(str(problem), params, split="train", seed=7, start=index, count=1)
        np.testing.assert_array_equal(alone.images[0], batch.images[index])
        assert alone.metadata[0] == batch.metadata[index]
