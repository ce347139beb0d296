"""Rules of the arrangement problems (6, 10, 12, 14, 16, 17, 18), from metadata and pixels."""

from typing import Any

import numpy as np
import pytest
from scipy import ndimage

from generators.svrt.family import SVRTFamily

N_IMAGES = 40


def _batch(problem: int, mode: str = "faithful") -> Any:
    family = SVRTFamily()
    params = family.make_params(str(problem), mode=mode)
    return family.generate(str(problem), params, split="test", seed=3, start=0, count=N_IMAGES)


def _centres(meta: dict[str, Any]) -> np.ndarray:
    return np.array([shape["centre"] for shape in meta["shapes"]], dtype=float)


def _component_masks(image: np.ndarray) -> list[np.ndarray]:
    """The ink's 8-connected components, each cropped to its box."""
    labels, n = ndimage.label(image == 0, structure=np.ones((3, 3)))
    return [labels[box] == k + 1 for k, box in enumerate(ndimage.find_objects(labels))][:n]


def _n_distinct(masks: list[np.ndarray]) -> int:
    distinct: list[np.ndarray] = []
    for mask in masks:
        if not any(m.shape == mask.shape and (m == mask).all() for m in distinct):
            distinct.append(mask)
    return len(distinct)


def test_p6_pairs_have_equal_or_clearly_different_distances() -> None:
    batch = _batch(6)
    for meta, image in zip(batch.metadata, batch.images, strict=True):
        c = _centres(meta)
        d_a = np.hypot(*(c[0] - c[1]))
        d_b = np.hypot(*(c[2] - c[3]))
        if meta["label"] == 1:
            assert abs(d_a - d_b) <= 1.0
        else:
            assert abs(d_a - d_b) >= 21.0 - 1.0
        masks = _component_masks(image)
        assert len(masks) == 4 and _n_distinct(masks) == 2


def test_p10_square_only_in_class_1() -> None:
    batch = _batch(10)
    errors = {0: [], 1: []}
    for meta, image in zip(batch.metadata, batch.images, strict=True):
        c = _centres(meta)
        # A square: 4 equal sides and 2 equal diagonals, each diagonal sqrt(2) x side.
        d = np.sort([np.hypot(*(c[i] - c[j])) for i in range(4) for j in range(i + 1, 4)])
        errors[meta["label"]].append(np.abs(d[:4] - d[:4].mean()).max() + abs(d[4] - d[5]))
        masks = _component_masks(image)
        assert len(masks) == 4 and _n_distinct(masks) == 1
    assert max(errors[1]) <= 3.0
    assert np.median(errors[0]) > 10.0


def test_p12_the_close_pair_decides_the_class() -> None:
    batch = _batch(12)
    for meta in batch.metadata:
        c = _centres(meta)
        small_pair = np.hypot(*(c[0] - c[1]))
        small_to_big = min(np.hypot(*(c[0] - c[2])), np.hypot(*(c[1] - c[2])))
        if meta["label"] == 1:
            assert small_pair < small_to_big
        else:
            assert small_to_big < small_pair


def _alignment(c: np.ndarray) -> float:
    best = np.inf
    for k in range(3):
        p, a, b = c[k], c[(k + 1) % 3], c[(k + 2) % 3]
        t = np.clip(np.dot(p - a, b - a) / np.dot(b - a, b - a), 0.0, 1.0)
        best = min(best, float(np.hypot(*(p - (a + t * (b - a))))))
    return best


def test_p14_aligned_or_clearly_not() -> None:
    batch = _batch(14)
    for meta, image in zip(batch.metadata, batch.images, strict=True):
        alignment = _alignment(_centres(meta))
        if meta["label"] == 1:
            assert alignment <= 1.0
        else:
            assert alignment >= 6.4
        assert _n_distinct(_component_masks(image)) == 1


@pytest.mark.parametrize("mode", ["faithful", "balanced"])
def test_p16_class_1_is_mirror_symmetric(mode: str) -> None:
    batch = _batch(16, mode)
    for meta, image in zip(batch.metadata, batch.images, strict=True):
        c = _centres(meta)
        # Positions are mirror-symmetric about the vertical midline in both classes.
        np.testing.assert_array_equal(c[3:, 0], 127 - c[:3, 0])
        np.testing.assert_array_equal(c[3:, 1], c[:3, 1])
        symmetric = bool((image == image[:, ::-1]).all())
        assert symmetric == (meta["label"] == 1) or (
            meta["label"] == 0 and _is_self_symmetric(image)
        )


def _is_self_symmetric(image: np.ndarray) -> bool:
    """A class-0 image can only be symmetric if the shape is its own mirror image."""
    masks = _component_masks(image)
    return any((m == m[:, ::-1]).all() for m in masks)


def test_p17_odd_shape_at_the_circumcentre_or_far_from_it() -> None:
    batch = _batch(17)
    for meta, image in zip(batch.metadata, batch.images, strict=True):
        c = _centres(meta)
        (ax, ay), (bx, by), (cx, cy) = c[:3]
        d = 2 * (ax * (by - cy) + bx * (cy - ay) + cx * (ay - by))
        ux = (
            (ax**2 + ay**2) * (by - cy) + (bx**2 + by**2) * (cy - ay) + (cx**2 + cy**2) * (ay - by)
        ) / d
        uy = (
            (ax**2 + ay**2) * (cx - bx) + (bx**2 + by**2) * (ax - cx) + (cx**2 + cy**2) * (bx - ax)
        ) / d
        offset = np.hypot(c[3, 0] - ux, c[3, 1] - uy)
        if meta["label"] == 1:
            assert offset <= 0.75
        else:
            assert offset >= 21.0
        assert _n_distinct(_component_masks(image)) == 2


def test_p18_right_shapes_keep_heights_and_mirror_only_in_class_1() -> None:
    batch = _batch(18)
    for meta, image in zip(batch.metadata, batch.images, strict=True):
        c = _centres(meta)
        np.testing.assert_array_equal(c[3:, 1], c[:3, 1])
        mirrored = bool((c[3:, 0] == 127 - c[:3, 0]).all())
        if meta["label"] == 1:
            assert mirrored
        masks = _component_masks(image)
        assert len(masks) == 6 and _n_distinct(masks) == 1
    class_0_mirrored = [
        bool((_centres(m)[3:, 0] == 127 - _centres(m)[:3, 0]).all())
        for m in batch.metadata
        if m["label"] == 0
    ]
    assert not any(class_0_mirrored)
