"""The orientation family: determinism, balance, held-out families, and truth in the pixels."""

import hashlib
from typing import Any

import numpy as np
import pytest

from generators.family import Batch
from generators.orientation import OBJECT_FAMILIES, OrientationFamily, OrientationParams
from generators.registry import get_family

# sha256 of images 0..3 of ("hv", standard preset, split "train", seed 0).
GOLDEN_HASHES = [
    "0dba328f10a88473d40e04054bac3c34d756bc32cf2fc49edb016321cff9419a",
    "7014f356d4c10bf4447499209de6af55065b8eb1edbdead5fc7cb4b9442a3a8a",
    "1160a9fb60a5b1f4ee8908a637efe98f201133d2d47041c67f2568a8a7171a1a",
    "1879481bdf54d58afdd8cf818a5683a3638fd71a20c3e11f3770066743ff17c3",
]
# Families whose ink is symmetric about the long axis, so the ink's principal axis is the
# object's axis up to rasterisation error; letters (L, Z) and blobs lean by their shape.
SYMMETRIC_FAMILIES = ("bar", "ellipse", "arrow", "zigzag", "cross")
# Worst lean of the ink's principal axis away from the long axis (degrees) at aspect >= 2.5,
# measured on thousands of samples (L 13, Z 13.5, blobs 22), with some room.
LEAN_TOLERANCE = {"letter": 16.0, "blob": 25.0}
RASTER_TOLERANCE = 2.5


@pytest.fixture(scope="module")
def family() -> OrientationFamily:
    family = get_family("orientation")
    assert isinstance(family, OrientationFamily)
    return family


def _generate(
    family: OrientationFamily, params: OrientationParams | None = None, **kwargs: Any
) -> Batch:
    params = params or family.make_params("hv")
    options = {"split": "train", "seed": 0, "start": 0, "count": 16} | kwargs
    return family.generate("hv", params, **options)


def _hash(image: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()


def _get_ink_axis(image: np.ndarray) -> float:
    """Direction in [0, 180) degrees (clockwise from +x) of the ink's principal axis."""
    ys, xs = np.nonzero(image == 0)
    covariance = np.cov(np.stack([xs, ys]).astype(np.float64))
    _, vectors = np.linalg.eigh(covariance)
    vx, vy = vectors[:, -1]  # eigh sorts ascending: the last vector has the largest variance
    return float(np.degrees(np.arctan2(vy, vx)) % 180.0)


def _get_angle_gap(a: float, b: float) -> float:
    """Smallest difference between two axis directions, in [0, 90] degrees."""
    return abs((a - b + 90.0) % 180.0 - 90.0)


def test_family_is_registered_with_one_problem_and_presets(family: OrientationFamily) -> None:
    assert family.list_problems() == ["hv"]
    assert family.class_names == ("horizontal", "vertical")
    assert {"easy", "standard", "hard"} <= set(family.list_presets())
    for preset in family.list_presets():
        params = family.make_params("hv", preset)
        batch = _generate(family, params, count=4)
        assert batch.images.shape == (4, 128, 128)


def test_golden_hashes(family: OrientationFamily) -> None:
    batch = _generate(family, count=len(GOLDEN_HASHES))
    assert [_hash(image) for image in batch.images] == GOLDEN_HASHES


def test_image_alone_equals_image_in_batch(family: OrientationFamily) -> None:
    batch = _generate(family, count=24)
    for k in (0, 7, 23):
        alone = _generate(family, start=k, count=1)
        np.testing.assert_array_equal(alone.images[0], batch.images[k])
        assert alone.metadata[0] == batch.metadata[k]
        assert alone.labels[0] == batch.labels[k]
    # Another batch boundary gives the same stream.
    tail = _generate(family, start=10, count=14)
    np.testing.assert_array_equal(tail.images, batch.images[10:])


def test_splits_and_seeds_give_different_images(family: OrientationFamily) -> None:
    train = _generate(family, count=8)
    test = _generate(family, split="test", count=8)
    other_seed = _generate(family, seed=1, count=8)
    train_hashes = {_hash(image) for image in train.images}
    assert train_hashes.isdisjoint(_hash(image) for image in test.images)
    assert train_hashes.isdisjoint(_hash(image) for image in other_seed.images)


def test_classes_are_balanced_and_images_binary(family: OrientationFamily) -> None:
    batch = _generate(family, start=3, count=20)
    np.testing.assert_array_equal(batch.labels, (np.arange(3, 23)) % 2)
    assert np.bincount(batch.labels).tolist() == [10, 10]
    assert batch.images.dtype == np.uint8 and set(np.unique(batch.images)) == {0, 255}
    for label, meta in zip(batch.labels, batch.metadata, strict=True):
        assert meta["label"] == label
        assert meta["class_name"] == meta["orientation"] == family.class_names[label]


def test_metadata_is_coarse_without_it(family: OrientationFamily) -> None:
    with_truth = _generate(family, count=6)
    without = _generate(family, count=6, with_metadata=False)
    assert without.metadata == []
    np.testing.assert_array_equal(with_truth.images, without.images)


def test_holdout_families_split_train_from_test(family: OrientationFamily) -> None:
    params = family.make_params("hv", holdout_families="arrow,blob")
    assert params.holdout_families == ("arrow", "blob")
    train = _generate(family, params, count=60)
    test = _generate(family, params, split="test", count=40)
    train_families = {obj["family"] for meta in train.metadata for obj in meta["objects"]}
    test_families = {obj["family"] for meta in test.metadata for obj in meta["objects"]}
    assert train_families == set(OBJECT_FAMILIES) - {"arrow", "blob"}
    assert test_families == {"arrow", "blob"}


@pytest.mark.parametrize("preset", ["standard", "easy"])
def test_ink_axis_follows_the_label(family: OrientationFamily, preset: str) -> None:
    """The pixels' principal axis is the labelled one, within jitter plus each family's lean."""
    for name in OBJECT_FAMILIES:
        params = family.make_params("hv", preset, families=(name,))
        batch = _generate(family, params, seed=3, count=40)
        for image, label, meta in zip(batch.images, batch.labels, batch.metadata, strict=True):
            (obj,) = meta["objects"]
            ink_axis = _get_ink_axis(image)
            nominal = 90.0 if label == 1 else 0.0
            lean = LEAN_TOLERANCE.get(name, RASTER_TOLERANCE)
            assert _get_angle_gap(ink_axis, nominal) <= params.jitter_deg + lean, (name, meta)
            assert _get_angle_gap(obj["axis_angle"], nominal) <= params.jitter_deg + 1e-6
            if name in SYMMETRIC_FAMILIES:
                assert _get_angle_gap(ink_axis, obj["axis_angle"]) <= RASTER_TOLERANCE, meta


@pytest.mark.parametrize(
    "overrides",
    [{}, {"line_width": 3, "max_length": 0.9, "jitter_deg": 40.0}, {"n_objects": 4}],
)
def test_objects_stay_inside_with_a_clear_margin(
    family: OrientationFamily, overrides: dict[str, Any]
) -> None:
    params = family.make_params("hv", **overrides)
    batch = _generate(family, params, count=40)
    for image, meta in zip(batch.images, batch.metadata, strict=True):
        ink = image == 0
        assert not (ink[0].any() or ink[-1].any() or ink[:, 0].any() or ink[:, -1].any())
        boxes = [obj["bbox"] for obj in meta["objects"]]
        assert len(boxes) == params.n_objects
        covered = np.zeros_like(ink)
        for x0, y0, x1, y1 in boxes:
            assert 1 <= x0 <= x1 <= 126 and 1 <= y0 <= y1 <= 126
            box_ink = ink[y0 : y1 + 1, x0 : x1 + 1]
            # The box is tight: its ink reaches all four sides.
            assert box_ink[0].any() and box_ink[-1].any()
            assert box_ink[:, 0].any() and box_ink[:, -1].any()
            covered[y0 : y1 + 1, x0 : x1 + 1] = True
        assert not (ink & ~covered).any()
        # Several objects keep at least one clear pixel between their boxes.
        for i, (ax0, ay0, ax1, ay1) in enumerate(boxes):
            for bx0, by0, bx1, by1 in boxes[i + 1 :]:
                assert ax1 + 1 < bx0 or bx1 + 1 < ax0 or ay1 + 1 < by0 or by1 + 1 < ay0


def test_poses_cover_both_flips_and_mirrors_in_each_class(family: OrientationFamily) -> None:
    params = family.make_params("hv", families=("arrow",))
    batch = _generate(family, params, count=80)
    for label in (0, 1):
        poses = {
            (obj["flip"], obj["mirror"])
            for meta in batch.metadata
            if meta["label"] == label
            for obj in meta["objects"]
        }
        assert len(poses) == 4


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"jitter_deg": 50.0}, "jitter_deg"),
        ({"line_width": 0}, "line_width"),
        ({"image_size": 16}, "image_size"),
        ({"n_objects": 2.5}, "n_objects"),
        ({"min_length": 0.6, "max_length": 0.5}, "max_length"),
        ({"min_aspect": 1.0}, "min_aspect"),
        ({"families": ("bar", "square")}, "'square'"),
        ({"holdout_families": ("hexagon",)}, "'hexagon'"),
        ({"families": ("bar",), "holdout_families": ("bar",)}, "at least one family"),
        ({"image_size": 32, "max_aspect": 6.0}, "px wide"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_parameters_name_the_value(
    family: OrientationFamily, overrides: dict[str, Any], named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        family.make_params("hv", **overrides)


def test_unknown_family_lists_the_valid_ones(family: OrientationFamily) -> None:
    with pytest.raises(ValueError, match="valid families: bar, ellipse, arrow"):
        family.make_params("hv", families=("square",))


def test_bad_requests_raise(family: OrientationFamily) -> None:
    params = family.make_params("hv")
    with pytest.raises(ValueError, match="'vh'"):
        family.generate("vh", params, split="train", seed=0, start=0, count=1)
    with pytest.raises(ValueError, match="count"):
        family.generate("hv", params, split="train", seed=0, start=0, count=-1)
    with pytest.raises(ValueError, match="preset 'medium'"):
        family.make_params("hv", "medium")
