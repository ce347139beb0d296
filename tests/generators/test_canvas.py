"""Placement: no contact unless asked, containment, sliding into contact, contact detection."""

import numpy as np
import pytest
from scipy import ndimage

from generators.canvas import (
    F_TOUCHES,
    check_touch,
    finish_image,
    fits,
    get_contour_distance,
    get_reach,
    place_random,
    place_touching,
    record_shape,
    slide,
    stamp,
)
from generators.rng import make_state
from generators.sprites import FILL, HALO, NEAR, get_contour_pixels, make_contour, make_sprite
from generators.svrt.containment import is_within_reach


def _sprite(seed: int, radius: float = 10.0, hole: float = 1.0) -> np.ndarray:
    state = make_state(np.uint64(seed), np.uint64(0))
    return make_sprite(make_contour(state, radius, hole), 1.0, 0.0, False, 1)


def _gap(image_a: np.ndarray, image_b: np.ndarray) -> float:
    """Chebyshev distance between the ink of two images (brute force)."""
    ya, xa = np.nonzero(image_a)
    yb, xb = np.nonzero(image_b)
    return float(
        np.max([np.abs(ya[:, None] - yb[None]), np.abs(xa[:, None] - xb[None])], axis=0).min()
    )


def _render(cv: np.ndarray, shape_id: int) -> np.ndarray:
    return cv[1] == shape_id + 1


def test_random_placements_never_touch_or_nest() -> None:
    state = make_state(np.uint64(1), np.uint64(0))
    for trial in range(20):
        cv = np.zeros((3, 128, 128), dtype=np.uint8)
        placed = 0
        for shape_id in range(6):
            ok, _, _ = place_random(state, cv, _sprite(100 * trial + shape_id), shape_id, -1, 200)
            placed += ok
        ink = cv[1] > 0
        _, n_parts = ndimage.label(ink, structure=np.ones((3, 3)))
        assert n_parts == placed
        for i in range(placed):
            for j in range(i + 1, placed):
                assert _gap(_render(cv, i), _render(cv, j)) >= 2
        # No border contact: a clear 1-px frame.
        assert (
            not ink[0].any() and not ink[-1].any() and not ink[:, 0].any() and not ink[:, -1].any()
        )
        # No nesting: every shape's ink lies outside every other shape's filled area.
        assert (cv[0][ink] == cv[1][ink]).all()


def fits_by_rule(cv: np.ndarray, mask: np.ndarray, cx: int, cy: int, container: int) -> bool:
    """``fits`` written plainly: every filled cell of the sprite lands 1 px inside the canvas,
    on the wanted region and off the placed shapes' rings."""
    c = mask.shape[0] // 2
    ring = HALO if container < 0 else NEAR
    for my, mx in zip(*np.nonzero(mask & FILL), strict=True):
        y, x = cy + my - c, cx + mx - c
        if not (1 <= y <= cv.shape[1] - 2 and 1 <= x <= cv.shape[2] - 2):
            return False
        if cv[0, y, x] != container + 1 or cv[2, y, x] & ring:
            return False
    return True


@pytest.mark.parametrize("container", [-1, 0])
def test_fits_is_the_plain_rule_at_every_centre(container: int) -> None:
    """Large sprites (their widest rows are tested first) and small ones, over a canvas
    holding a large shape, at centres on and off the canvas's edges."""
    cv = np.zeros((3, 96, 96), dtype=np.uint8)
    stamp(cv, _sprite(11, 32.0, 16.0), 40, 52, 0)
    seen = set()
    for mask in (_sprite(12, 26.0, 12.0), _sprite(13, 6.0, 1.0)):
        assert mask.shape[0] >= 48 or mask.shape[0] < 20
        for cy in range(0, 96, 3):
            for cx in range(0, 96, 3):
                expected = fits_by_rule(cv, mask, cx, cy, container)
                assert fits(cv, mask, cx, cy, container) == expected
                seen.add(expected)
    assert seen == {True, False}


def test_placement_inside_a_container_keeps_a_clear_pixel() -> None:
    state = make_state(np.uint64(2), np.uint64(0))
    big = _sprite(3, 48.0, 21.0)
    small = _sprite(4)
    cv = np.zeros((3, 128, 128), dtype=np.uint8)
    stamp(cv, big, 64, 64, 0)
    ok, _, _ = place_random(state, cv, small, 1, 0, 500)
    assert ok
    filled_big = ndimage.binary_fill_holes(_render(cv, 0))
    assert filled_big[_render(cv, 1)].all()
    assert _gap(_render(cv, 0), _render(cv, 1)) >= 2


def test_slide_stops_in_contact_and_check_touch_accepts_it() -> None:
    big = _sprite(5, 21.0, 2.0)
    small = _sprite(6)
    cv = np.zeros((3, 128, 128), dtype=np.uint8)
    stamp(cv, big, 40, 64, 0)
    n_fit, fx, fy, bx, by = slide(cv, small, get_contour_pixels(small), 110.0, 64.0, np.pi, -1, 200)
    assert n_fit > 0 and bx >= 0
    assert not fits(cv, small, bx, by, -1) and fits(cv, small, fx, fy, -1)
    assert check_touch(cv, small, bx, by, -1, 0)
    stamp(cv, small, bx, by, 1)
    assert _gap(_render(cv, 0), _render(cv, 1)) == 1


def test_place_touching_and_contacts_in_the_table() -> None:
    state = make_state(np.uint64(8), np.uint64(0))
    big = _sprite(7, 21.0, 2.0)
    small = _sprite(8)
    third = _sprite(9)
    cv = np.zeros((3, 128, 128), dtype=np.uint8)
    table = np.zeros((8, 14))
    stamp(cv, big, 50, 50, 0)
    pixels = get_contour_pixels(small)
    ok, sx, sy = place_touching(state, cv, small, pixels, 1, 0, 50.0, 50.0, 60.0, -1, 100)
    assert ok
    ok3, tx, ty = place_random(state, cv, third, 2, -1, 200)
    assert ok3
    for shape_id, (mask, x, y) in enumerate([(big, 50, 50), (small, sx, sy), (third, tx, ty)]):
        record_shape(table, shape_id, mask, x, y, 1.0, 0.0, False, shape_id, -1)
    image = np.zeros((128, 128), dtype=np.uint8)
    finish_image(cv, image, table)
    assert table[0, F_TOUCHES] == 2 and table[1, F_TOUCHES] == 1 and table[2, F_TOUCHES] == 0
    assert set(np.unique(image)) == {0, 255}
    assert (image == 0).sum() == (cv[1] > 0).sum()


@pytest.mark.parametrize("offset", [(40, 5), (12, -3), (0, 0), (-25, 31)])
def test_contour_distance_matches_brute_force(offset: tuple[int, int]) -> None:
    a = _sprite(10)
    b = _sprite(21)
    ax, ay = 60, 60
    bx, by = ax + offset[0], ay + offset[1]
    pa = get_contour_pixels(a) + np.array([ax, ay])
    pb = get_contour_pixels(b) + np.array([bx, by])
    expected = np.sqrt(((pa[:, None, :] - pb[None, :, :]) ** 2).sum(-1)).min()
    got = get_contour_distance(get_contour_pixels(a), ax, ay, get_contour_pixels(b), bx, by)
    assert got == expected  # squared distances of pixels are integers: exact


def test_is_within_reach_is_the_contour_distance_under_the_gap() -> None:
    """At offsets from far apart to overlapping, with the gap just under and over the distance."""
    pa = get_contour_pixels(_sprite(30))
    pb = get_contour_pixels(_sprite(31, 21.0, 7.0))
    reach = get_reach(pa)
    seen = set()
    for dx in range(-45, 46, 5):
        for dy in range(-45, 46, 7):
            distance = get_contour_distance(pa, 60 + dx, 60 + dy, pb, 60, 60)
            for gap in (distance - 0.01, distance + 0.01, 10.0):
                if gap <= 0.0:  # gaps are positive
                    continue
                within = is_within_reach(reach, 60 + dx, 60 + dy, pb, 60, 60, gap)
                assert within == (distance < gap)
                seen.add(within)
    assert seen == {True, False}
