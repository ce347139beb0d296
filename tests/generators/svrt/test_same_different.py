"""SVRT same/different problems: the rules checked from the metadata and from the pixels.

Pixel checks work on the 8-connected ink components (scipy), each matched to its shape by its
bounding box, so they hold the metadata to what was actually drawn.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np
import pytest
from numba import njit
from scipy import ndimage
from scipy.spatial import cKDTree

from generators.family import Batch
from generators.rng import make_state
from generators.sprites import make_contour, transform
from generators.svrt.family import SVRTFamily

PROBLEMS = (1, 5, 7, 15, 19, 20, 21, 22)
N_IMAGES = 60
# Prototype group sizes (sorted) of each class: which shapes are copies of which.
GROUPS = {
    1: ([1, 1], [2]),
    5: ([1, 1, 1, 1], [2, 2]),
    7: ([2, 2, 2], [3, 3]),
    15: ([1, 1, 1, 1], [4]),
    19: ([1, 1], [2]),
    20: ([1, 1], [2]),
    21: ([1, 1], [2]),
    22: ([1, 1, 1], [3]),
}
# Problems whose copies are translations only, so pixel-identical.
TRANSLATED = (1, 5, 7, 15, 22)

FAMILY = SVRTFamily()


@cache
def make_batch(problem: int, mode: str = "faithful") -> Batch:
    params = FAMILY.make_params(str(problem), mode=mode)
    return FAMILY.generate(str(problem), params, split="train", seed=3, start=0, count=N_IMAGES)


def get_shape_pixels(image: np.ndarray, meta: dict[str, Any]) -> list[np.ndarray]:
    """The ``[n, 2]`` (x, y) ink pixels of each shape, in the metadata's order.

    Every shape must be exactly one 8-connected ink component whose bounding box is the
    shape's recorded box, so this also checks that nothing touches.
    """
    components, n_components = ndimage.label(image == 0, structure=np.ones((3, 3)))
    assert n_components == len(meta["shapes"])
    by_box = {}
    for k, box in enumerate(ndimage.find_objects(components), start=1):
        ys, xs = np.nonzero(components[box] == k)
        by_box[(box[1].start, box[0].start, box[1].stop - 1, box[0].stop - 1)] = np.stack(
            [xs + box[1].start, ys + box[0].start], axis=1
        )
    return [by_box[tuple(shape["bbox"])] for shape in meta["shapes"]]


def get_mask(pixels: np.ndarray) -> np.ndarray:
    """A shape's ink cropped to its bounding box: equal masks mean equal up to translation."""
    lo = pixels.min(axis=0)
    mask = np.zeros(tuple(pixels.max(axis=0) - lo + 1)[::-1], dtype=bool)
    mask[pixels[:, 1] - lo[1], pixels[:, 0] - lo[0]] = True
    return mask


def get_hausdorff(a: np.ndarray, b: np.ndarray) -> float:
    """Symmetric Hausdorff distance (px) between two point sets."""
    return float(max(cKDTree(b).query(a)[0].max(), cKDTree(a).query(b)[0].max()))


def get_turn_deg(a: float, b: float) -> float:
    """The signed angle (degrees, in [-180, 180)) that turns ``b`` into ``a``."""
    return (a - b + 180.0) % 360.0 - 180.0


def rotate(points: np.ndarray, radians: float) -> np.ndarray:
    """Rotate ``[n, 2]`` (x, y) points by ``radians`` (x right, y down, as ``transform``)."""
    c, s = math.cos(radians), math.sin(radians)
    return points @ np.array([[c, s], [-s, c]])


@pytest.mark.parametrize("problem", PROBLEMS)
def test_classes_alternate_and_shapes_never_touch(problem: int) -> None:
    batch = make_batch(problem)
    np.testing.assert_array_equal(batch.labels, np.arange(N_IMAGES) % 2)
    for index, (image, meta) in enumerate(zip(batch.images, batch.metadata, strict=True)):
        assert meta["label"] == index % 2
        assert meta["relations"]["touching"] == []
        pixels = get_shape_pixels(image, meta)
        for shape, own in zip(meta["shapes"], pixels, strict=True):
            assert shape["touches"] == []
            assert shape["ink"] == len(own)
        assert sum(len(own) for own in pixels) == int((image == 0).sum())
        assert set(np.unique(image)) <= {0, 255}


@pytest.mark.parametrize("problem", PROBLEMS)
def test_copies_follow_the_rule(problem: int) -> None:
    for meta in make_batch(problem).metadata:
        groups: dict[int, int] = {}
        for shape in meta["shapes"]:
            groups[shape["prototype"]] = groups.get(shape["prototype"], 0) + 1
        assert sorted(groups.values()) == GROUPS[problem][meta["label"]]


@pytest.mark.parametrize("problem", TRANSLATED)
def test_copies_are_pixel_identical_and_others_are_not(problem: int) -> None:
    batch = make_batch(problem)
    for image, meta in zip(batch.images, batch.metadata, strict=True):
        masks = [get_mask(own) for own in get_shape_pixels(image, meta)]
        shapes = meta["shapes"]
        for i in range(len(shapes)):
            for j in range(i + 1, len(shapes)):
                same = shapes[i]["prototype"] == shapes[j]["prototype"]
                equal = masks[i].shape == masks[j].shape and bool((masks[i] == masks[j]).all())
                assert equal == same, (meta["index"], i, j)


def test_square_corners_problem_15() -> None:
    for meta in make_batch(15).metadata:
        centres = np.array([shape["centre"] for shape in meta["shapes"]], dtype=float)
        # Corners are stored in turn around the square: four sides, then two diagonals.
        sides = np.linalg.norm(centres - np.roll(centres, 1, axis=0), axis=1)
        diagonals = np.linalg.norm(centres[:2] - centres[2:], axis=1)
        side = meta["witness"]["side"]
        # Rounding moves each corner by at most 0.71 px, so a distance by at most 1.42 px.
        np.testing.assert_allclose(sides, side, atol=1.42)
        np.testing.assert_allclose(diagonals, side * math.sqrt(2.0), atol=1.42)
        assert meta["witness"]["max_corner_error"] <= 0.71


def test_three_collinear_shapes_problem_22() -> None:
    for meta in make_batch(22).metadata:
        (x0, y0), (x1, y1), (x2, y2) = (shape["centre"] for shape in meta["shapes"])
        deviation = abs((x2 - x0) * (y1 - y0) - (y2 - y0) * (x1 - x0)) / math.hypot(
            x2 - x0, y2 - y0
        )
        assert deviation <= 0.71
        assert deviation == pytest.approx(meta["witness"]["collinearity_deviation"], abs=1e-4)
        # The middle shape lies between the others.
        assert (x1 - x0) * (x2 - x1) + (y1 - y0) * (y2 - y1) > 0


def test_mirror_identity_problem_20() -> None:
    """Reflecting A across the bisector gives A's contour drawn mirrored at 2 phi - theta."""

    @njit
    def make_base() -> np.ndarray:
        return make_contour(make_state(np.uint64(5), np.uint64(0)), 16.0, 2.0)

    base = make_base()
    rng = np.random.default_rng(0)
    for _ in range(20):
        theta = rng.uniform(0, 2 * math.pi)
        a, b = rng.uniform(0, 128, size=(2, 2))
        phi = math.atan2(b[1] - a[1], b[0] - a[0])
        u = np.array([math.cos(phi), math.sin(phi)])
        points = a + transform(base, 1.0, theta, False)
        middle = 0.5 * (a + b)
        reflected = points - 2.0 * np.outer((points - middle) @ u, u)
        expected = b + transform(base, 1.0, 2 * phi - theta, True)
        np.testing.assert_allclose(reflected, expected, atol=1e-9)


def test_mirror_image_problem_20() -> None:
    batch = make_batch(20)
    for image, meta in zip(batch.images, batch.metadata, strict=True):
        first, second = meta["shapes"]
        a = np.array(first["centre"], dtype=float)
        b = np.array(second["centre"], dtype=float)
        u = (b - a) / np.linalg.norm(b - a)
        pixels_a, pixels_b = get_shape_pixels(image, meta)
        reflected = pixels_a - 2.0 * np.outer((pixels_a - 0.5 * (a + b)) @ u, u)
        gap = get_hausdorff(reflected, pixels_b.astype(float))
        if meta["label"] == 1:
            # Each pixel is within 0.71 px of its contour: at most 1.42 px apart after rounding.
            assert gap <= 1.5
            assert second["mirror"] and not first["mirror"]
            phi = math.atan2(b[1] - a[1], b[0] - a[0])
            expected = math.degrees(2 * phi) - first["rotation_deg"]
            assert get_turn_deg(second["rotation_deg"], expected) == pytest.approx(0, abs=1e-3)
        else:
            assert gap > 2.0


@pytest.mark.parametrize("problem", [19, 21])
def test_same_shape_up_to_scale_and_rotation(problem: int) -> None:
    batch = make_batch(problem)
    for image, meta in zip(batch.images, batch.metadata, strict=True):
        first, second = meta["shapes"]
        assert 1.0 <= first["scale"] <= 4.0 and 1.0 <= second["scale"] <= 4.0
        if problem == 19 and meta["label"] == 1:
            assert first["rotation_deg"] == second["rotation_deg"]
        witness = meta["witness"]
        assert witness["scale_ratio"] == pytest.approx(second["scale"] / first["scale"], abs=1e-3)
        if problem == 21:
            turn = abs(get_turn_deg(second["rotation_deg"], first["rotation_deg"]))
            assert witness["rotation_difference_deg"] == pytest.approx(turn, abs=1e-3)
        # Map the larger shape's pixels onto the smaller one with the recorded transforms.
        big, small = (0, 1) if first["scale"] >= second["scale"] else (1, 0)
        pixels = get_shape_pixels(image, meta)
        shape_big, shape_small = meta["shapes"][big], meta["shapes"][small]
        ratio = shape_small["scale"] / shape_big["scale"]
        turn = math.radians(shape_small["rotation_deg"] - shape_big["rotation_deg"])
        mapped = ratio * rotate(pixels[big] - shape_big["centre"], turn) + shape_small["centre"]
        gap = get_hausdorff(mapped, pixels[small].astype(float))
        if meta["label"] == 1:
            # Rounding error: 0.71 px in the small shape, 0.71 * ratio in the mapped one.
            assert gap <= 0.71 * (1.0 + ratio) + 0.1, meta["index"]
        else:
            assert gap > 2.0, meta["index"]


def get_ink_gaps(problem: int, meta: dict[str, Any]) -> list[tuple[int, float]]:
    """(ink gap, copy's ink) for each 'different' shape and the copy it stands in for."""
    ink = [shape["ink"] for shape in meta["shapes"]]
    if problem in (1, 15, 22):
        return [(abs(value - ink[0]), ink[0]) for value in ink[1:]]
    if problem == 5:
        return [(abs(ink[1] - ink[0]), ink[0]), (abs(ink[3] - ink[2]), ink[2])]
    # Problem 7: the two copies of C stand in for the third A and the third B.
    target = (ink[0] + ink[3] + 1) // 2
    return [(abs(ink[2] - target), target)]


@pytest.mark.parametrize("problem", [1, 5, 7, 15, 22])
def test_balanced_mode_matches_ink(problem: int) -> None:
    def get_gaps(mode: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Gaps (px), their targets, and whether each is within ink_tolerance (1 %, >= 1 px)."""
        pairs = np.array(
            [
                pair
                for meta in make_batch(problem, mode).metadata
                if meta["label"] == 0
                for pair in get_ink_gaps(problem, meta)
            ],
            dtype=float,
        )
        gaps, targets = pairs[:, 0], pairs[:, 1]
        return gaps, targets, gaps <= np.maximum(1.0, 0.01 * targets)

    gaps, targets, within = get_gaps("balanced")
    # A target in the far tail of the ink distribution may not be met within the redraw
    # budget: the best draw is kept, so it still comes close.
    assert within.mean() >= 0.9
    assert (gaps <= np.maximum(3.0, 0.05 * targets)).all()
    gaps, targets, within = get_gaps("faithful")
    assert within.mean() < 0.5
    assert (gaps > 0.1 * targets).any()


@pytest.mark.parametrize("problem", [19, 20, 21])
def test_balanced_mode_matches_ink_of_transformed_copy(problem: int) -> None:
    """The copy's ink is not in the metadata: compare the ink per unit scale instead.

    In class 1 that ratio only moves with rasterisation (|log| < 0.25 here); faithful class 0
    pairs unrelated shapes, balanced class 0 must look like class 1.
    """

    def get_log_ratios(mode: str, label: int) -> np.ndarray:
        values = []
        for meta in make_batch(problem, mode).metadata:
            if meta["label"] == label:
                a, b = meta["shapes"]
                values.append(math.log((b["ink"] / b["scale"]) / (a["ink"] / a["scale"])))
        return np.abs(values)

    assert get_log_ratios("faithful", 1).max() < 0.25
    assert get_log_ratios("balanced", 0).max() < 0.25
    assert get_log_ratios("faithful", 0).max() > 0.3


@pytest.mark.parametrize("problem", PROBLEMS)
def test_image_alone_matches_batch(problem: int) -> None:
    """Kernels reuse one canvas: image k made alone must equal image k of a batch."""
    batch = make_batch(problem)
    params = FAMILY.make_params(str(problem))
    for index in (7, 8):
        alone = FAMILY.generate(str(problem), params, split="train", seed=3, start=index, count=1)
        np.testing.assert_array_equal(alone.images[0], batch.images[index])
        assert alone.metadata[0] == batch.metadata[index]
