"""Properties every SVRT problem shares: determinism, balance, truth, no unwanted contact."""

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import ndimage

from generators.registry import get_family
from generators.svrt.family import SVRTFamily

PROBLEMS = [str(p) for p in range(1, 24)]
N_SHAPES = {
    1: 2, 2: 2, 3: 4, 4: 2, 5: 4, 6: 4, 7: 6, 8: 2, 9: 3, 10: 4, 11: 2, 12: 3,
    13: 4, 14: 3, 15: 4, 16: 6, 17: 4, 18: 6, 19: 2, 20: 2, 21: 2, 22: 3, 23: 3,
}  # fmt: skip
# Only these rules put shapes in contact (P3 chains and pairs, P11 class 1).
CONTACT_PROBLEMS = {3, 11}
GOLDEN_PATH = Path(__file__).with_name("golden_hashes.json")
N_GOLDEN = 4


@pytest.fixture(scope="module")
def family() -> SVRTFamily:
    family = get_family("svrt")
    assert isinstance(family, SVRTFamily)
    return family


def _generate(family: SVRTFamily, problem: str, **kwargs: Any) -> Any:
    mode = kwargs.pop("mode", "faithful")
    params = family.make_params(problem, mode=mode)
    options = {"split": "train", "seed": 0, "start": 0, "count": 12} | kwargs
    return family.generate(problem, params, **options)


def _hash(image: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()


@pytest.mark.parametrize("problem", PROBLEMS)
def test_images_are_binary_balanced_and_carry_their_truth(family: SVRTFamily, problem: str) -> None:
    number = int(problem)
    batch = _generate(family, problem, count=16)
    assert batch.images.shape == (16, 128, 128) and batch.images.dtype == np.uint8
    assert set(np.unique(batch.images)) == {0, 255}
    np.testing.assert_array_equal(batch.labels, np.arange(16) % 2)
    for image, meta in zip(batch.images, batch.metadata, strict=True):
        shapes = meta["shapes"]
        assert len(shapes) == N_SHAPES[number]
        assert meta["label"] in (0, 1) and meta["problem"] == number
        ink = image == 0
        # A clear 1-px frame: nothing touches the border.
        assert not (ink[0].any() or ink[-1].any() or ink[:, 0].any() or ink[:, -1].any())
        for shape in shapes:
            x0, y0, x1, y1 = shape["bbox"]
            assert 1 <= x0 <= x1 <= 126 and 1 <= y0 <= y1 <= 126
            assert shape["ink"] > 0
        assert sum(shape["ink"] for shape in shapes) == ink.sum()
        _, n_parts = ndimage.label(ink, structure=np.ones((3, 3)))
        if number not in CONTACT_PROBLEMS:
            assert meta["relations"]["touching"] == []
            assert n_parts == len(shapes)


@pytest.mark.parametrize("problem", PROBLEMS)
def test_one_image_alone_equals_the_same_image_in_a_batch(family: SVRTFamily, problem: str) -> None:
    batch = _generate(family, problem, count=8)
    alone = _generate(family, problem, start=5, count=1)
    np.testing.assert_array_equal(alone.images[0], batch.images[5])
    assert alone.metadata[0]["shapes"] == batch.metadata[5]["shapes"]
    assert alone.labels[0] == batch.labels[5]


@pytest.mark.parametrize("problem", PROBLEMS)
def test_splits_and_seeds_give_disjoint_images(family: SVRTFamily, problem: str) -> None:
    train = {_hash(im) for im in _generate(family, problem, split="train").images}
    test = {_hash(im) for im in _generate(family, problem, split="test").images}
    other_seed = {_hash(im) for im in _generate(family, problem, seed=1).images}
    assert len(train) == 12
    assert not train & test and not train & other_seed


@pytest.mark.parametrize("problem", PROBLEMS)
def test_balanced_mode_draws_valid_images(family: SVRTFamily, problem: str) -> None:
    batch = _generate(family, problem, mode="balanced", count=6)
    assert set(np.unique(batch.images)) == {0, 255}
    assert all(len(m["shapes"]) == N_SHAPES[int(problem)] for m in batch.metadata)


def test_golden_hashes(family: SVRTFamily) -> None:
    """The first images of each problem for seed 0 never change unless the version does."""
    golden = json.loads(GOLDEN_PATH.read_text())
    assert golden["version"] == family.version
    for problem in PROBLEMS:
        batch = _generate(family, problem, count=N_GOLDEN, with_metadata=False)
        assert [_hash(im) for im in batch.images] == golden["problems"][problem], problem


@pytest.mark.parametrize("size", [96, 192])
def test_image_size_scales_the_layout(family: SVRTFamily, size: int) -> None:
    for problem in ("1", "4", "10", "16"):
        params = family.make_params(problem, image_size=size)
        batch = family.generate(problem, params, split="train", seed=0, start=0, count=4)
        assert batch.images.shape == (4, size, size)
        if problem == "16":
            assert (batch.images[1] == batch.images[1][:, ::-1]).all()


def test_presets_change_the_rule_margins(family: SVRTFamily) -> None:
    easy = family.make_params("14", "easy")
    hard = family.make_params("14", "hard")
    assert easy.margin_scale > 1.0 > hard.margin_scale
    for params, bound in ((easy, 6.4 * easy.margin_scale), (hard, 6.4 * hard.margin_scale)):
        batch = family.generate("14", params, split="train", seed=0, start=0, count=10)
        class_0 = [m["witness"]["alignment_error"] for m in batch.metadata if m["label"] == 0]
        assert min(class_0) >= bound


@pytest.mark.parametrize(
    ("problem", "overrides", "message"),
    [
        ("24", {}, "valid problems"),
        ("0", {}, "valid problems"),
        ("x", {}, "valid problems"),
        ("4", {"mode": "fair"}, "faithful, balanced"),
        ("4", {"image_size": 16}, "image_size"),
        ("4", {"line_width": 0}, "line_width"),
        ("4", {"colour": 3}, "unknown SVRT parameter"),
    ],
)
def test_bad_parameters_are_refused_with_the_allowed_values(
    family: SVRTFamily, problem: str, overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        family.make_params(problem, **overrides)


def test_unknown_preset_lists_the_valid_ones(family: SVRTFamily) -> None:
    with pytest.raises(ValueError, match="easy, standard, hard"):
        family.make_params("4", "medium")


def write_golden_hashes() -> None:
    """Regenerate ``golden_hashes.json`` (run by hand after an intended change of output)."""
    family = SVRTFamily()
    problems = {}
    for problem in PROBLEMS:
        batch = _generate(family, problem, count=N_GOLDEN, with_metadata=False)
        problems[problem] = [_hash(im) for im in batch.images]
    payload = {"version": family.version, "seed": 0, "split": "train", "problems": problems}
    GOLDEN_PATH.write_text(json.dumps(payload, indent=1) + "\n")


if __name__ == "__main__":
    write_golden_hashes()
