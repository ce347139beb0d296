"""The bitwise interior against a labelling of 4-connected regions (scipy)."""

import numpy as np
import pytest
from scipy import ndimage

from generators.interior import mark_interior

CONTOUR = 1
INTERIOR = 2


def _expected_interior(walls: np.ndarray) -> np.ndarray:
    """Open cells outside the 4-connected open region that holds the corner."""
    regions, _ = ndimage.label(~walls)  # scipy's default structure is 4-connectivity
    return ~walls & (regions != regions[0, 0])


@pytest.mark.parametrize("side", [5, 7, 63, 65, 129, 131, 197])
@pytest.mark.parametrize("density", [0.2, 0.45, 0.6])
def test_interior_is_what_the_frame_cannot_reach(side: int, density: float) -> None:
    """Random walls make mazes whose runs cross word boundaries and wind up and down, so
    that many sweeps are needed; sides around 64 and 128 try the words' edges."""
    rng = np.random.default_rng(side)
    for _ in range(20):
        walls = np.zeros((side, side), dtype=bool)
        walls[1:-1, 1:-1] = rng.random((side - 2, side - 2)) < density
        mask = walls.astype(np.uint8) * CONTOUR
        mark_interior(mask, CONTOUR, INTERIOR)
        np.testing.assert_array_equal((mask & INTERIOR) != 0, _expected_interior(walls))
        np.testing.assert_array_equal((mask & CONTOUR) != 0, walls)  # the walls are kept


def test_a_spiral_corridor_open_at_its_mouth_is_outside_to_its_end() -> None:
    """Reaching the end of the corridor takes many sweeps down and up."""
    side = 41
    walls = np.zeros((side, side), dtype=bool)
    # A square spiral of walls one cell apart: the corridor turns up and down many times.
    lo, hi = 2, side - 3
    while hi - lo >= 4:
        walls[lo, lo : hi + 1] = True
        walls[lo : hi + 1, hi] = True
        walls[hi, lo : hi + 1] = True
        walls[lo + 2 : hi + 1, lo] = True
        walls[lo + 2, lo : lo + 3] = True
        lo, hi = lo + 2, hi - 2
    mask = walls.astype(np.uint8)
    mark_interior(mask, CONTOUR, INTERIOR)
    assert not _expected_interior(walls).any()
    assert not (mask & INTERIOR).any()
