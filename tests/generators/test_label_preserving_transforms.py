"""Every family's declared transforms are known names and, wherever the label can be read back
from the pixels or the ground truth, keep it for images of every class.

Each check reads the label with an oracle independent of the generator (connected components,
the ink's bounding box, exact symmetry, pixel-identical copies), first confirms the oracle on
the untransformed images, then applies every declared transform at each of its extreme
parameters. Where a transform is left out because it would change labels, a check shows that
too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from scipy import ndimage

from generators.family import Batch, check_transforms
from generators.registry import get_family, list_families
from generators.transforms import (
    flip_left_right,
    flip_top_bottom,
    get_max_shift_px,
    get_translate_range,
    rotate_quarter_turns,
    shift_images,
    translate_images,
)

EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)
FAMILY_PROBLEMS = [
    (name, problem) for name in list_families() for problem in get_family(name).list_problems()
]
Transform = Callable[[np.ndarray], np.ndarray]


def _get_variants(name: str, size: int) -> list[Transform]:
    """The transform ``name`` at each of its extreme parameters, for ``size`` px images."""
    if name == "hflip":
        return [flip_left_right]
    if name == "vflip":
        return [flip_top_bottom]
    if name == "rot90":
        return [lambda images, k=k: rotate_quarter_turns(images, k) for k in (1, 2, 3)]
    if name in ("translate", "vtranslate"):
        # As far as the image's own ink allows, to each side and corner.
        corners = [(i, j) for i in (0, 1, 2) for j in (0, 1, 2) if (i, j) != (1, 1)]
        if name == "vtranslate":
            corners = [(1, 0), (1, 2)]
        return [lambda images, c=c: _translate_to(images, *c) for c in corners]
    assert name == "shift"
    m = get_max_shift_px(size)
    offsets = [(dx, dy) for dx in (-m, 0, m) for dy in (-m, 0, m) if (dx, dy) != (0, 0)]
    return [lambda images, d=d: shift_images(images, *d) for d in offsets]


def _translate_to(images: np.ndarray, i: int, j: int) -> np.ndarray:
    """The translation to extreme ``i`` across and ``j`` up or down (0: the least offset, 1:
    none, 2: the largest) that the ink of ``images`` allows."""
    dx_min, dx_max, dy_min, dy_max = get_translate_range(images)
    return translate_images(images, (dx_min, 0, dx_max)[i], (dy_min, 0, dy_max)[j])


def _move_point(name: str, x: float, y: float, size: int) -> tuple[float, float]:
    """Where a flip or the first quarter turn takes pixel (x, y) of a ``size`` px image."""
    if name == "hflip":
        return size - 1 - x, y
    if name == "vflip":
        return x, size - 1 - y
    assert name == "rot90"
    return y, size - 1 - x


def _generate(family_name: str, problem: str, count: int, **overrides: Any) -> Batch:
    family = get_family(family_name)
    params = family.make_params(problem, **overrides)
    return family.generate(problem, params, split="test", seed=5, start=0, count=count)


def _check_oracle(
    batch: Batch, oracle: Callable[[np.ndarray, dict[str, Any]], int], transforms: tuple[str, ...]
) -> None:
    """The oracle reads every label, before and after every variant of every transform."""
    size = batch.images.shape[-1]
    assert len(set(batch.labels.tolist())) == batch.labels.max() + 1  # every class is there
    for image, label, meta in zip(batch.images, batch.labels.tolist(), batch.metadata, strict=True):
        assert oracle(image, meta) == label
        for name in transforms:
            for variant in _get_variants(name, size):
                assert oracle(variant(image), meta) == label, (name, meta["index"])


@pytest.mark.parametrize(("family_name", "problem"), FAMILY_PROBLEMS)
def test_declared_transforms_are_in_the_vocabulary(family_name: str, problem: str) -> None:
    names = get_family(family_name).get_label_preserving_transforms(problem)
    assert isinstance(names, tuple)
    assert check_transforms(names) == names


def test_each_family_declares_what_its_rules_allow() -> None:
    assert get_family("counting").get_label_preserving_transforms("shapes") == (
        "hflip", "vflip", "rot90", "shift",
    )  # fmt: skip
    assert get_family("orientation").get_label_preserving_transforms("hv") == ("hflip", "vflip")
    svrt = get_family("svrt")
    for problem in svrt.list_problems():
        expected = (
            ("hflip", "vflip", "vtranslate")
            if problem in ("16", "18")
            else ("hflip", "vflip", "rot90", "translate")
        )
        assert svrt.get_label_preserving_transforms(problem) == expected, problem


# --- counting: the number of 8-connected ink components is the count ------------------------


def _count_shapes(image: np.ndarray, meta: dict[str, Any]) -> int:
    ink = image == 0
    _, n_parts = ndimage.label(ink, structure=EIGHT_CONNECTED)
    # No shape may lose ink at the edge either: the total stays as drawn.
    assert ink.sum() == meta["total_ink"]
    return n_parts - 1


@pytest.mark.parametrize("overrides", [{}, {"preset": "hard"}, {"image_size": 64}])
def test_counting_keeps_the_count(overrides: dict[str, Any]) -> None:
    preset = overrides.pop("preset", "standard")
    family = get_family("counting")
    params = family.make_params("shapes", preset, **overrides)
    # Six shapes reaching as close to the border as they may, before any shift.
    batch = family.generate("shapes", params, split="test", seed=5, start=0, count=60)
    _check_oracle(batch, _count_shapes, family.get_label_preserving_transforms("shapes"))
    margins = [
        min(x0, y0, params.image_size - 1 - x1, params.image_size - 1 - y1)
        for meta in batch.metadata
        for x0, y0, x1, y1 in (shape["bbox"] for shape in meta["shapes"])
    ]
    assert min(margins) >= params.get_border_px() > get_max_shift_px(params.image_size)


# --- orientation: the ink's bounding box is wider than tall for horizontal objects -----------


def _read_orientation(image: np.ndarray, meta: dict[str, Any]) -> int:
    ys, xs = np.nonzero(image == 0)
    width = xs.max() - xs.min() + 1
    height = ys.max() - ys.min() + 1
    return 0 if width > height else 1


def test_orientation_keeps_the_axis_under_flips_and_a_turn_swaps_it() -> None:
    batch = _generate("orientation", "hv", 80)
    family = get_family("orientation")
    _check_oracle(batch, _read_orientation, family.get_label_preserving_transforms("hv"))
    for image, label in zip(batch.images, batch.labels.tolist(), strict=True):
        assert _read_orientation(rotate_quarter_turns(image, 1), {}) == 1 - label


# --- SVRT: exact symmetry (16), mirrored positions (18), pixel-identical copies ------------


def _is_left_right_symmetric(image: np.ndarray, meta: dict[str, Any]) -> int:
    return int(np.array_equal(image, image[:, ::-1]))


def test_svrt_16_symmetry_survives_flips_and_moves_up_or_down_not_a_turn() -> None:
    batch = _generate("svrt", "16", 16)
    _check_oracle(batch, _is_left_right_symmetric, ("hflip", "vflip", "vtranslate"))
    moved_across = 0
    for image, label in zip(batch.images, batch.labels.tolist(), strict=True):
        if label == 1:
            assert not _is_left_right_symmetric(rotate_quarter_turns(image, 1), {})
            _, dx_max, _, _ = get_translate_range(image)
            if dx_max > 0:  # a move across takes the drawing off the midline
                assert not _is_left_right_symmetric(translate_images(image, dx_max, 0), {})
                moved_across += 1
    assert moved_across > 0


def _has_mirrored_positions(centres: list[tuple[float, float]], size: int) -> bool:
    return sorted(centres) == sorted((size - 1 - x, y) for x, y in centres)


def test_svrt_18_mirrored_positions_survive_flips_not_a_turn() -> None:
    batch = _generate("svrt", "18", 16)
    size = batch.images.shape[-1]
    for label, meta in zip(batch.labels.tolist(), batch.metadata, strict=True):
        centres = [tuple(shape["centre"]) for shape in meta["shapes"]]
        assert _has_mirrored_positions(centres, size) == (label == 1)
        for name in ("hflip", "vflip"):
            moved = [_move_point(name, x, y, size) for x, y in centres]
            assert _has_mirrored_positions(moved, size) == (label == 1), name
        for dy in (-7, 7):  # a move up or down keeps the heights equal and the x mirrored
            raised = [(x, y + dy) for x, y in centres]
            assert _has_mirrored_positions(raised, size) == (label == 1)
        if label == 1:
            turned = [_move_point("rot90", x, y, size) for x, y in centres]
            assert not _has_mirrored_positions(turned, size)


def test_moving_points_matches_moving_pixels() -> None:
    image = np.full((32, 32), 255, dtype=np.uint8)
    image[3, 7] = 0
    for name, move in (
        ("hflip", flip_left_right),
        ("vflip", flip_top_bottom),
        ("rot90", lambda images: rotate_quarter_turns(images, 1)),
    ):
        (y,), (x,) = np.nonzero(move(image) == 0)
        assert _move_point(name, 7, 3, 32) == (x, y)


def _get_copy_groups(image: np.ndarray) -> tuple[int, ...]:
    """Sizes of the groups of pixel-identical shapes (components compared within their box),
    largest first: e.g. (2, 2) for two pairs of copies, (1, 1, 1, 1) for four different."""
    parts, _ = ndimage.label(image == 0, structure=EIGHT_CONNECTED)
    masks = [
        (parts[box] == part).tobytes() + bytes(str(parts[box].shape), "ascii")
        for part, box in enumerate(ndimage.find_objects(parts), start=1)
    ]
    return tuple(sorted((masks.count(mask) for mask in set(masks)), reverse=True))


# Same/different problems by translation, with the copy groups of class 0 and class 1.
COPY_GROUPS = {
    "1": ((1, 1), (2,)),
    "5": ((1, 1, 1, 1), (2, 2)),
    "7": ((2, 2, 2), (3, 3)),
    "15": ((1, 1, 1, 1), (4,)),
    "22": ((1, 1, 1), (3,)),
}


@pytest.mark.parametrize("problem", sorted(COPY_GROUPS, key=int))
def test_svrt_copies_stay_copies(problem: str) -> None:
    def read_label(image: np.ndarray, meta: dict[str, Any]) -> int:
        return COPY_GROUPS[problem].index(_get_copy_groups(image))

    batch = _generate("svrt", problem, 12)
    _check_oracle(batch, read_label, get_family("svrt").get_label_preserving_transforms(problem))
