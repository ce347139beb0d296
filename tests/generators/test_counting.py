"""The counting family: determinism, balance, truth in the pixels, and no ink shortcut."""

import hashlib
from typing import Any

import numpy as np
import pytest
from scipy import ndimage
from scipy.spatial.distance import cdist

from generators.counting import CountingFamily, CountingParams
from generators.family import Batch
from generators.registry import get_family
from labeler.data.audit import FEATURE_NAMES, compute_features

# sha256 of images 0..5 (one per class) of ("shapes", standard preset, split "train", seed 0).
GOLDEN_HASHES = [
    "d56f8da73f31d5057ddb909171c85a8b47dcc947e19b4f0c108de2ae40151fed",
    "916f4e98b92639105aff01c5bc6a4bc7de00cf1c4c85139517a84099aa29bf2b",
    "c7bdafacea0eba4067e46bd5dc1bc329315bd138be66b2c59c7d1978de529f14",
    "5a00df6ce4bd3c0b99915309fe1a572cf4352444f4dfeb76cf0b14b80a0df489",
    "b8536ad38fd4ae1e97d9619a33e383cf56adb7b55e239cdac68ca8903ccef197",
    "035f02018e311ee847ca23337a00c9b366896801f296e585b2a9be32cdd575d2",
]
EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


@pytest.fixture(scope="module")
def family() -> CountingFamily:
    family = get_family("counting")
    assert isinstance(family, CountingFamily)
    return family


def _generate(family: CountingFamily, params: CountingParams | None = None, **kwargs: Any) -> Batch:
    params = params or family.make_params("shapes")
    options = {"split": "train", "seed": 0, "start": 0, "count": 24} | kwargs
    return family.generate("shapes", params, **options)


def _hash(image: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()


def _get_gap_oracle(ink: np.ndarray) -> int | None:
    """Fewest clear pixels between two 8-connected ink components, by brute force (None for
    fewer than two): Chebyshev distance between their pixels, less one."""
    parts, n_parts = ndimage.label(ink, structure=EIGHT_CONNECTED)
    pixels = [np.argwhere(parts == part) for part in range(1, n_parts + 1)]
    gaps = [
        int(cdist(a, b, metric="chebyshev").min()) - 1
        for i, a in enumerate(pixels)
        for b in pixels[i + 1 :]
    ]
    return min(gaps) if gaps else None


def _fit_intervals(values: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """The best classifier that cuts ``values`` into at most ``n_classes`` intervals, each
    predicting one class, by exhaustive dynamic programming over the distinct values.

    Returns ``[n_distinct, 2]``: each distinct training value and the class predicted there;
    a new value takes the class of the nearest training value at or below it.
    """
    distinct, groups = np.unique(values, return_inverse=True)
    counts = np.zeros((len(distinct), n_classes), dtype=np.int64)
    np.add.at(counts, (groups, labels), 1)
    cumulative = np.vstack([np.zeros(n_classes, dtype=np.int64), np.cumsum(counts, axis=0)])
    n = len(distinct)
    # best[k, i]: most images right with k intervals over the first i distinct values.
    best = np.full((n_classes + 1, n + 1), -1, dtype=np.int64)
    best[0, 0] = 0
    cut = np.zeros((n_classes + 1, n + 1), dtype=np.int64)
    for k in range(1, n_classes + 1):
        for i in range(1, n + 1):
            gains = best[k - 1, :i] + (cumulative[i] - cumulative[:i]).max(axis=1)
            gains[best[k - 1, :i] < 0] = -1
            cut[k, i] = int(np.argmax(gains))
            best[k, i] = gains[cut[k, i]]
    predicted = np.zeros(n, dtype=np.int64)
    k, i = int(np.argmax(best[:, n])), n
    while k > 0:
        j = cut[k, i]
        predicted[j:i] = int(np.argmax(cumulative[i] - cumulative[j]))
        k, i = k - 1, j
    return np.stack([distinct, predicted], axis=1)


def _predict_intervals(model: np.ndarray, values: np.ndarray) -> np.ndarray:
    positions = np.searchsorted(model[:, 0], values, side="right") - 1
    return model[np.clip(positions, 0, len(model) - 1), 1]


def test_family_is_registered_with_six_classes_and_presets(family: CountingFamily) -> None:
    assert family.list_problems() == ["shapes"]
    assert family.class_names == ("1", "2", "3", "4", "5", "6")
    assert {"easy", "standard", "hard"} <= set(family.list_presets())
    for preset in family.list_presets():
        batch = _generate(family, family.make_params("shapes", preset), count=6)
        assert batch.images.shape == (6, 128, 128)
        assert [meta["count"] for meta in batch.metadata] == [1, 2, 3, 4, 5, 6]


def test_golden_hashes(family: CountingFamily) -> None:
    batch = _generate(family, count=len(GOLDEN_HASHES))
    assert [_hash(image) for image in batch.images] == GOLDEN_HASHES


def test_image_alone_equals_image_in_batch(family: CountingFamily) -> None:
    batch = _generate(family, count=24)
    for k in (0, 5, 11, 23):
        alone = _generate(family, start=k, count=1)
        np.testing.assert_array_equal(alone.images[0], batch.images[k])
        assert alone.metadata[0] == batch.metadata[k]
        assert alone.labels[0] == batch.labels[k]
    tail = _generate(family, start=7, count=17)
    np.testing.assert_array_equal(tail.images, batch.images[7:])


def test_splits_and_seeds_give_different_images(family: CountingFamily) -> None:
    train = {_hash(image) for image in _generate(family, count=12).images}
    test = {_hash(image) for image in _generate(family, split="test", count=12).images}
    other_seed = {_hash(image) for image in _generate(family, seed=1, count=12).images}
    assert len(train) == 12
    assert not train & test and not train & other_seed


def test_classes_are_balanced_and_images_binary(family: CountingFamily) -> None:
    batch = _generate(family, start=4, count=36)
    np.testing.assert_array_equal(batch.labels, np.arange(4, 40) % 6)
    assert np.bincount(batch.labels).tolist() == [6] * 6
    assert batch.images.dtype == np.uint8 and set(np.unique(batch.images)) == {0, 255}
    for label, meta in zip(batch.labels.tolist(), batch.metadata, strict=True):
        assert meta["label"] == label and meta["count"] == label + 1
        assert meta["class_name"] == family.class_names[label] == str(label + 1)
        assert len(meta["shapes"]) == meta["count"]


def test_metadata_is_left_out_on_request(family: CountingFamily) -> None:
    with_truth = _generate(family, count=6)
    without = _generate(family, count=6, with_metadata=False)
    assert without.metadata == []
    np.testing.assert_array_equal(with_truth.images, without.images)


def test_the_interval_probe_finds_a_perfect_feature() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 6, size=300)
    values = 10.0 * labels + rng.random(300)
    model = _fit_intervals(values, labels, 6)
    assert (_predict_intervals(model, values + 0.01) == labels).all()
    # Two classes, one cut: as good as the best single threshold found by brute force.
    values = rng.random(200)
    labels = (values + 0.3 * rng.random(200) > 0.6).astype(np.int64)
    model = _fit_intervals(values, labels, 2)
    brute = max(
        max(np.mean((values > t) == labels), np.mean((values <= t) == labels)) for t in values
    )
    assert np.mean(_predict_intervals(model, values) == labels) >= brute


@pytest.mark.parametrize("preset", ["standard", "hard"])
def test_no_one_number_feature_but_the_count_itself_reads_the_count(
    family: CountingFamily, preset: str
) -> None:
    """The audit's features, each cut into six intervals (fitted on one split, scored on the
    other): total ink is at chance; the ink's bounding box is close to it; the number of
    connected components is the rule itself, so it reads every count."""
    params = family.make_params("shapes", preset)
    train = _generate(family, params, count=1200, with_metadata=False)
    test = _generate(family, params, split="test", count=600, with_metadata=False)
    train_features = compute_features(train.images)
    test_features = compute_features(test.images, median_ink=np.median(train_features[:, 0]))
    accuracy = {}
    for column, name in enumerate(FEATURE_NAMES):
        model = _fit_intervals(train_features[:, column], train.labels, 6)
        predicted = _predict_intervals(model, test_features[:, column])
        accuracy[name] = float(np.mean(predicted == test.labels))
    chance = 1 / 6
    assert accuracy["ink_count"] < chance + 0.06, accuracy
    assert accuracy["ink_deviation"] < chance + 0.06, accuracy
    assert accuracy["bbox_area"] < chance + 0.12, accuracy
    assert accuracy["n_components"] == 1.0


@pytest.mark.parametrize("preset", ["easy", "standard", "hard"])
def test_the_pixels_hold_the_truth(family: CountingFamily, preset: str) -> None:
    """Shapes are countable: one closed contour each, apart by the gap, inside the border."""
    params = family.make_params("shapes", preset)
    gap = params.get_gap_px()
    border = params.get_border_px()
    batch = _generate(family, params, seed=2, count=60)
    for image, meta in zip(batch.images, batch.metadata, strict=True):
        ink = image == 0
        parts, n_parts = ndimage.label(ink, structure=EIGHT_CONNECTED)
        assert n_parts == meta["count"]
        assert meta["total_ink"] == ink.sum() == sum(shape["ink"] for shape in meta["shapes"])
        # Every ink pixel keeps `border` clear pixels to the edge.
        ys, xs = np.nonzero(ink)
        assert xs.min() >= border and ys.min() >= border
        assert xs.max() <= 127 - border and ys.max() <= 127 - border
        # One component per shape, with the shape's box, ink and (closed: it encloses pixels)
        # filled area; no shape lies inside another.
        boxes = [
            (xs.start, ys.start, xs.stop - 1, ys.stop - 1) for ys, xs in ndimage.find_objects(parts)
        ]
        filled = np.zeros(ink.shape, dtype=np.int64)
        for shape in meta["shapes"]:
            part = boxes.index(tuple(shape["bbox"])) + 1
            assert (parts == part).sum() == shape["ink"]
            region = ndimage.binary_fill_holes(parts == part)
            assert region.sum() == shape["area"] > shape["ink"]
            filled += region
        assert filled.max() == 1
        oracle = _get_gap_oracle(ink)
        assert meta["clearance"] == oracle
        if oracle is not None:
            assert oracle >= gap


def test_total_ink_is_on_target_and_says_nothing_of_the_count(family: CountingFamily) -> None:
    """Every count covers the whole range of total ink, so ink alone cannot tell the count."""
    params = family.make_params("shapes")
    batch = _generate(family, params, count=600)
    ink = (batch.images == 0).sum(axis=(1, 2))
    targets = np.array([meta["target_ink"] for meta in batch.metadata])
    assert np.all(np.abs(ink - targets) <= np.maximum(1.0, params.ink_tolerance * targets))
    low, high = params.min_total_ink, params.max_total_ink
    span = high - low
    for label in range(6):
        of_class = ink[batch.labels == label]
        assert of_class.min() < low + 0.1 * span and of_class.max() > high - 0.1 * span
        assert abs(np.median(of_class) - (low + high) / 2) < 0.15 * span


def test_shapes_shrink_as_they_share_the_ink(family: CountingFamily) -> None:
    batch = _generate(family, family.make_params("shapes", size_spread=2.0), count=120)
    for meta in batch.metadata:
        targets = [shape["target_ink"] for shape in meta["shapes"]]
        # The largest first; the last one makes up for the others' rounding.
        assert targets[:-1] == sorted(targets[:-1], reverse=True)
        assert max(targets) <= 2.0 * min(targets) * 1.1
        drawn = sum(shape["ink"] for shape in meta["shapes"][:-1])
        assert drawn + targets[-1] == pytest.approx(meta["target_ink"], abs=0.002)


@pytest.mark.parametrize(
    "overrides", [{"image_size": 96}, {"image_size": 256}, {"line_width": 2}, {"min_gap": 8}]
)
def test_other_sizes_and_lines_keep_the_guarantees(
    family: CountingFamily, overrides: dict[str, Any]
) -> None:
    params = family.make_params("shapes", **overrides)
    batch = _generate(family, params, count=12)
    size = params.image_size
    assert batch.images.shape == (12, size, size)
    for image, meta in zip(batch.images, batch.metadata, strict=True):
        ink = image == 0
        _, n_parts = ndimage.label(ink, structure=EIGHT_CONNECTED)
        assert n_parts == meta["count"]
        assert meta["clearance"] is None or meta["clearance"] >= params.get_gap_px()


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"image_size": 32}, "image_size"),
        ({"image_size": 100.5}, "image_size"),
        ({"min_total_ink": 300.0, "max_total_ink": 250.0}, "max_total_ink"),
        ({"size_spread": 0.5}, "size_spread"),
        ({"hole_ratio": 0.9}, "hole_ratio"),
        ({"min_gap": 0}, "min_gap"),
        ({"min_window": 0.8, "max_window": 0.5}, "max_window"),
        ({"line_width": True}, "line_width"),
        ({"ink_tolerance": float("nan")}, "ink_tolerance"),
        ({"min_total_ink": 60.0, "max_total_ink": 60.0}, "the smallest could get"),
        ({"max_total_ink": 400.0}, "lone shape"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_parameters_name_the_value(
    family: CountingFamily, overrides: dict[str, Any], named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        family.make_params("shapes", **overrides)


def test_bad_requests_raise(family: CountingFamily) -> None:
    params = family.make_params("shapes")
    with pytest.raises(ValueError, match="'angles'"):
        family.generate("angles", params, split="train", seed=0, start=0, count=1)
    with pytest.raises(ValueError, match="count"):
        family.generate("shapes", params, split="train", seed=0, start=0, count=-1)
    with pytest.raises(ValueError, match="CountingParams"):
        family.generate("shapes", object(), split="train", seed=0, start=0, count=1)
    with pytest.raises(ValueError, match="preset 'medium'"):
        family.make_params("shapes", "medium")
