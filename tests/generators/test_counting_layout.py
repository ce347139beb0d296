"""The counting layout's masks against plain reference computations."""

import numpy as np
import pytest
from scipy import ndimage

from generators.counting.layout import dilate_fill, fits, take
from generators.rng import make_state
from generators.sprites import FILL, get_extent, make_contour, make_sprite


def _sprites(count: int) -> list[np.ndarray]:
    state = make_state(np.uint64(5), np.uint64(0))
    radii = (4.0, 9.0, 16.0, 25.0)
    return [
        make_sprite(make_contour(state, radii[i % 4], radii[i % 4] / 3), 1.0, 0.7 * i, False, 1)
        for i in range(count)
    ]


@pytest.mark.parametrize("gap", [1, 2, 4, 7])
def test_dilate_fill_is_a_square_dilation_of_the_filled_pixels(gap: int) -> None:
    for sprite in _sprites(12):
        filled = np.pad((sprite & FILL) != 0, gap)
        square = np.ones((2 * gap + 1, 2 * gap + 1), dtype=bool)
        expected = ndimage.binary_dilation(filled, structure=square)
        np.testing.assert_array_equal(dilate_fill(sprite, gap), expected.astype(np.uint8))


def test_fits_reads_only_filled_pixels_even_where_the_sprite_hangs_over_the_edge() -> None:
    rng = np.random.default_rng(0)
    size = 48
    for sprite in _sprites(16):
        c = sprite.shape[0] // 2
        x_min, x_max, y_min, y_max = get_extent(sprite, FILL)
        # Centres from the top-left to the bottom-right corner: the empty frame of the
        # sprite then lies partly outside the image.
        centres = [(-x_min, -y_min), (size - 1 - x_max, size - 1 - y_max)]
        centres += [
            (int(rng.integers(-x_min, size - x_max)), int(rng.integers(-y_min, size - y_max)))
            for _ in range(6)
        ]
        for cx, cy in centres:
            taken = (rng.random((size, size)) < 0.004).astype(np.uint8)
            ys, xs = np.nonzero(sprite & FILL)
            expected = not taken[ys + cy - c, xs + cx - c].any()
            box = np.array([x_min, x_max, y_min, y_max])
            assert fits(taken, sprite, box, cx, cy) == expected


@pytest.mark.parametrize(("cx", "cy"), [(40, 30), (2, 3), (62, 61), (-5, 30), (30, 70)])
def test_take_marks_the_grown_mask_clipped_at_the_edge(cx: int, cy: int) -> None:
    grown = np.random.default_rng(abs(cx) * 100 + cy).integers(0, 2, (15, 15)).astype(np.uint8)
    taken = np.zeros((64, 64), dtype=np.uint8)
    taken[10, 10] = 1  # marks already there stay
    expected = taken.copy()
    for my, mx in zip(*np.nonzero(grown), strict=True):
        y, x = cy + my - 7, cx + mx - 7
        if 0 <= y < 64 and 0 <= x < 64:
            expected[y, x] = 1
    take(taken, grown, cx, cy)
    np.testing.assert_array_equal(taken, expected)
