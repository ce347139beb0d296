"""The transforms applied to arrays: exact pixel moves, background fill, limits."""

from __future__ import annotations

import numpy as np
import pytest

from generators.family import TRANSFORMS
from generators.transforms import (
    apply_random_transform,
    flip_left_right,
    flip_top_bottom,
    get_max_shift_px,
    get_translate_range,
    rotate_quarter_turns,
    shift_images,
    translate_images,
)


def _one_dot(size: int, x: int, y: int) -> np.ndarray:
    image = np.full((size, size), 255, dtype=np.uint8)
    image[y, x] = 0
    return image


def _find_dot(image: np.ndarray) -> tuple[int, int]:
    (y,), (x,) = np.nonzero(image == 0)
    return int(x), int(y)


def test_flips_and_turns_move_a_pixel_where_their_docstrings_say() -> None:
    size = 16
    image = _one_dot(size, 3, 5)
    assert _find_dot(flip_left_right(image)) == (size - 1 - 3, 5)
    assert _find_dot(flip_top_bottom(image)) == (3, size - 1 - 5)
    # Counter-clockwise on screen (y down): (x, y) -> (y, size - 1 - x).
    assert _find_dot(rotate_quarter_turns(image, 1)) == (5, size - 1 - 3)
    assert _find_dot(rotate_quarter_turns(image, 2)) == (size - 1 - 3, size - 1 - 5)


def test_they_act_on_stacks_and_undo_themselves() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(3, 12, 12), dtype=np.uint8)
    np.testing.assert_array_equal(flip_left_right(flip_left_right(images)), images)
    np.testing.assert_array_equal(flip_top_bottom(flip_top_bottom(images)), images)
    np.testing.assert_array_equal(rotate_quarter_turns(images, 4), images)
    for k, image in enumerate(images):
        np.testing.assert_array_equal(flip_left_right(images)[k], image[:, ::-1])
    before = images.copy()
    flip_left_right(images)[0, 0, 0] = 7  # a new array: the input is left alone
    np.testing.assert_array_equal(images, before)


def test_a_shift_moves_the_content_and_fills_with_background() -> None:
    image = _one_dot(64, 10, 20)
    assert get_max_shift_px(64) == 2 and get_max_shift_px(128) == 4
    assert _find_dot(shift_images(image, 2, -1)) == (12, 19)
    moved = shift_images(np.zeros((64, 64), dtype=np.uint8), -2, 2)
    assert (moved[:2] == 255).all() and (moved[:, -2:] == 255).all()
    assert (moved[2:, :-2] == 0).all()
    np.testing.assert_array_equal(shift_images(image, 0, 0), image)
    edge = _one_dot(64, 63, 0)
    assert (shift_images(edge, 1, 0) == 255).all()  # content pushed past the edge is lost


def test_a_shift_beyond_the_limit_or_a_turn_of_a_rectangle_is_refused() -> None:
    with pytest.raises(ValueError, match="at most 4 px"):
        shift_images(np.zeros((128, 128), dtype=np.uint8), 5, 0)
    with pytest.raises(ValueError, match="square"):
        rotate_quarter_turns(np.zeros((8, 10), dtype=np.uint8), 1)


@pytest.mark.parametrize("name", TRANSFORMS)
def test_random_transforms_stay_within_their_limits(name: str) -> None:
    rng = np.random.default_rng(1)
    image = _one_dot(128, 60, 70)
    seen = set()
    for _ in range(60):
        x, y = _find_dot(apply_random_transform(image, name, rng))
        seen.add((x, y))
        if name == "shift":
            assert abs(x - 60) <= 4 and abs(y - 70) <= 4
        if name in ("translate", "vtranslate"):
            assert 1 <= x <= 126 and 1 <= y <= 126
        if name == "vtranslate":
            assert x == 60
    expected = {"hflip": 1, "vflip": 1, "rot90": 3}
    assert len(seen) == expected.get(name, len(seen)) and len(seen) >= 1
    if name in ("shift", "translate", "vtranslate"):
        assert len(seen) > 20  # offsets vary over the whole square (or column)


def test_a_translation_moves_the_whole_drawing_and_never_cuts_it() -> None:
    image = np.full((32, 32), 255, dtype=np.uint8)
    image[3:6, 1:4] = 0  # touches the 1-px margin on the left
    image[20, 9] = 128
    assert get_translate_range(image) == (0, 30 - 9, -2, 30 - 20)
    moved = translate_images(image, 21, 10)
    np.testing.assert_array_equal(moved[13:31, 22:31], image[3:21, 1:10])
    assert (moved != 255).sum() == (image != 255).sum()
    with pytest.raises(ValueError, match=r"dx in \[0, 21\] and dy in \[-2, 10\]"):
        translate_images(image, -1, 0)
    with pytest.raises(ValueError, match="1-px margin"):
        translate_images(image, 0, 11)
    blank = np.full((2, 16, 16), 255, dtype=np.uint8)
    assert get_translate_range(blank) == (0, 0, 0, 0)
    stack = np.stack([image, np.full_like(image, 255)])
    stack[1, 30, 30] = 0  # a stack moves as one: its union of ink bounds the move
    assert get_translate_range(stack) == (0, 0, -2, 0)


def test_an_unknown_transform_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="valid transforms: hflip, vflip, rot90, shift, translate"):
        apply_random_transform(np.zeros((4, 4), dtype=np.uint8), "blur", np.random.default_rng())
