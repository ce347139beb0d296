"""Placing shapes apart from each other and from the edge, and measuring how far apart.

The ``taken`` plane (``uint8 [height, width]``) marks every pixel within ``gap`` px
(Chebyshev) of a placed shape's filled area; a shape fits where none of its filled pixels is
taken, so any two shapes keep at least ``gap`` clear pixels between them and never nest (a
shape placed around another would cover it with its interior). Positions are integer pixel
centres (x, y).
"""

from __future__ import annotations

import numpy as np

from generators.canvas import round_px
from generators.numba_cache import cached_njit
from generators.rng import integer
from generators.sprites import FILL, get_contour_pixels, get_extent

# Positions tried per shape in one layout, layouts per window, and the window's growth when
# they all fail.
_N_PLACE_TRIES = 200
_N_LAYOUTS_PER_WINDOW = 5
_WINDOW_GROWTH = 1.05


@cached_njit
def dilate_fill(sprite: np.ndarray, gap: int) -> np.ndarray:
    """The sprite's filled pixels grown by ``gap`` px (a square), as a ``uint8`` 0/1 mask.

    The mask has side ``side + 2 * gap`` and the same centre pixel as the sprite.
    """
    side = sprite.shape[0]
    grown = side + 2 * gap
    width = 2 * gap + 1
    # A square dilation is a dilation along x, then along y; each is a running window that
    # remembers the last filled cell, so the cost does not grow with the gap. Along x, grown
    # column x is set when a filled sprite column lies in x - 2 gap .. x (the sprite sits
    # ``gap`` columns in from the grown mask's left edge, which centres it).
    # Selects rather than branches, on rows of clear cells with a few filled runs: the
    # compiler makes them conditional moves (and vectorises the column pass).
    rows = np.zeros((grown, grown), dtype=np.uint8)
    for y in range(side):
        source = sprite[y]
        target = rows[y + gap]
        last = -width  # the last filled sprite column so far
        for x in range(side):
            last = x if source[x] & FILL else last
            target[x] = x - last < width
        for x in range(side, grown):
            target[x] = x - last < width
    out = np.zeros((grown, grown), dtype=np.uint8)
    last_row = np.full(grown, -width - grown, dtype=np.int64)
    for y in range(grown):
        ahead = y + gap  # the row whose window ends at row y
        if ahead < grown:
            source = rows[ahead]
            for x in range(grown):
                last_row[x] = ahead if source[x] else last_row[x]
        target = out[y]
        for x in range(grown):
            target[x] = ahead - last_row[x] < width
    return out


@cached_njit
def get_span(sprite: np.ndarray) -> int:
    """The larger of the filled shape's width and height, in px."""
    x_min, x_max, y_min, y_max = get_extent(sprite, FILL)
    return max(x_max - x_min, y_max - y_min) + 1


@cached_njit
def fits(taken: np.ndarray, sprite: np.ndarray, box: np.ndarray, cx: int, cy: int) -> bool:
    """Whether no filled pixel of the sprite at (cx, cy) is taken.

    ``box`` is the filled pixels' box (x_min, x_max, y_min, y_max from the centre, as
    ``get_extent`` gives it); the caller has checked that it lies inside ``taken``.
    """
    c = sprite.shape[0] // 2
    if sprite[c, c] & FILL and taken[cy, cx]:
        return False  # most rejections land on another shape: the centre says so at once
    x_min, x_max, y_min, y_max = box[0], box[1], box[2], box[3]
    for dy in range(y_min, y_max + 1):
        # Slices of the two rows with one index into both keep the loop branch-free, and the
        # compiler vectorises it.
        under = taken[cy + dy, cx + x_min : cx + x_max + 1]
        row = sprite[c + dy, c + x_min : c + x_max + 1]
        hit = 0
        for i in range(row.shape[0]):
            hit |= (row[i] & FILL) * under[i]
        if hit:
            return False
    return True


@cached_njit
def take(taken: np.ndarray, grown: np.ndarray, cx: int, cy: int) -> None:
    """Mark the grown mask of a shape placed at (cx, cy) (clipped at the edge)."""
    paint(taken, grown, cx, cy, 1, 1)  # the grown mask holds 0 or 1


@cached_njit
def paint(plane: np.ndarray, mask: np.ndarray, cx: int, cy: int, flag: int, value: int) -> None:
    """Set to ``value`` every cell of ``plane`` under a cell of the square ``mask`` (centred
    at (cx, cy), clipped at the edge) that carries ``flag``."""
    side = mask.shape[0]
    c = side // 2
    height, width = plane.shape
    # The mask's columns that land on the plane, then a select per cell of each row rather
    # than a branch: the compiler vectorises it.
    x_lo = min(side, max(0, c - cx))
    x_hi = max(x_lo, min(side, width - cx + c))
    for my in range(side):
        y = cy + my - c
        if y < 0 or y >= height:
            continue
        source = mask[my, x_lo:x_hi]
        target = plane[y, cx + x_lo - c : cx + x_hi - c]
        for i in range(source.shape[0]):
            target[i] = value if source[i] & flag else target[i]


@cached_njit
def place_all(
    state: np.ndarray,
    taken: np.ndarray,
    sprites: list[np.ndarray],
    grown: list[np.ndarray],
    border: int,
    window_fraction: float,
    xs: np.ndarray,
    ys: np.ndarray,
) -> bool:
    """Place every sprite, in order, inside a square window; centres go to ``xs``, ``ys``.

    The window's side is ``window_fraction`` of the side left inside the ``border`` (at least
    the largest sprite's span), at a uniform position. How far the shapes spread is then
    drawn independently of how many there are, so the ink's bounding box hardly tells the
    count. When the shapes do not fit, the window grows by 5% and the layout starts again.
    Returns False only when they do not fit in the whole image either.
    """
    size = taken.shape[0]
    usable = size - 2 * border
    # Each filled shape's box (x_min, x_max, y_min, y_max from its centre), read once here
    # rather than at every layout tried.
    boxes = np.empty((len(sprites), 4), dtype=np.int64)
    span = 0
    for i in range(len(sprites)):
        boxes[i] = get_extent(sprites[i], FILL)
        span = max(span, boxes[i, 1] - boxes[i, 0] + 1, boxes[i, 3] - boxes[i, 2] + 1)
    if span > usable:
        return False
    side = min(usable, max(span, round_px(window_fraction * usable)))
    while True:
        x0 = integer(state, border, border + usable - side)
        y0 = integer(state, border, border + usable - side)
        for _ in range(_N_LAYOUTS_PER_WINDOW):
            if _place_in_window(state, taken, sprites, grown, boxes, x0, y0, side, xs, ys):
                return True
        if side == usable:
            return False
        side = min(usable, round_px(side * _WINDOW_GROWTH) + 1)


@cached_njit
def _place_in_window(
    state: np.ndarray,
    taken: np.ndarray,
    sprites: list[np.ndarray],
    grown: list[np.ndarray],
    boxes: np.ndarray,
    x0: int,
    y0: int,
    side: int,
    xs: np.ndarray,
    ys: np.ndarray,
) -> bool:
    """One layout: each sprite at the first of ``_N_PLACE_TRIES`` uniform positions that fits
    in the window [x0, x0 + side) x [y0, y0 + side), its filled box (``boxes``) inside it."""
    taken[:, :] = 0
    for i in range(len(sprites)):
        # Read once per shape, not once per position tried: each read of a list item or a
        # row makes a reference (an atomic count) that the loop would pay for every try.
        sprite = sprites[i]
        box = boxes[i]
        x_lo = -box[0]
        x_hi = side - 1 - box[1]
        y_lo = -box[2]
        y_hi = side - 1 - box[3]
        placed = False
        for _ in range(_N_PLACE_TRIES):
            cx = x0 + integer(state, x_lo, x_hi)
            cy = y0 + integer(state, y_lo, y_hi)
            if fits(taken, sprite, box, cx, cy):
                take(taken, grown[i], cx, cy)
                xs[i] = cx
                ys[i] = cy
                placed = True
                break
        if not placed:
            return False
    return True


@cached_njit
def get_clearance(
    sprites: list[np.ndarray], xs: np.ndarray, ys: np.ndarray
) -> tuple[int, int, int]:
    """The fewest clear pixels between two placed shapes' filled areas (their Chebyshev
    distance less one), and which two (ids); (-1, -1, -1) for a single shape.

    Only contour pixels are compared: for two filled shapes apart, an interior pixel always
    has a 4-neighbour in its own shape that is no farther from the other shape, and strictly
    nearer unless that neighbour is on the contour, so the nearest pair lies on the contours.
    A pair whose boxes are already farther apart than the best pair so far is skipped.
    """
    best = -1
    best_i = -1
    best_j = -1
    n = len(sprites)
    # Each contour as int32 image coordinates, x and y apart: the pixel loop then vectorises.
    contour_xs = []
    contour_ys = []
    boxes = np.empty((n, 4), dtype=np.int64)  # x_lo, x_hi, y_lo, y_hi of the contour
    for i in range(n):
        offsets = get_contour_pixels(sprites[i])  # (x, y) from the centre
        px = (offsets[:, 0] + xs[i]).astype(np.int32)
        py = (offsets[:, 1] + ys[i]).astype(np.int32)
        contour_xs.append(px)
        contour_ys.append(py)
        boxes[i, 0] = px.min()
        boxes[i, 1] = px.max()
        boxes[i, 2] = py.min()
        boxes[i, 3] = py.max()
    for i in range(n):
        for j in range(i + 1, n):
            apart_x = max(boxes[j, 0] - boxes[i, 1], boxes[i, 0] - boxes[j, 1], 0)
            apart_y = max(boxes[j, 2] - boxes[i, 3], boxes[i, 2] - boxes[j, 3], 0)
            if best >= 0 and max(apart_x, apart_y) - 1 >= best:
                continue  # the boxes bound the distance from below: no closer pair here
            d = _get_chebyshev_distance(contour_xs[i], contour_ys[i], contour_xs[j], contour_ys[j])
            if best < 0 or d - 1 < best:
                best = d - 1
                best_i = i
                best_j = j
    return best, best_i, best_j


@cached_njit
def _get_chebyshev_distance(
    xs_a: np.ndarray, ys_a: np.ndarray, xs_b: np.ndarray, ys_b: np.ndarray
) -> int:
    """Smallest Chebyshev distance (px) between pixels (``xs_a``, ``ys_a``) and
    (``xs_b``, ``ys_b``), int32 coordinates."""
    best = np.int32(1 << 30)
    for i in range(xs_a.shape[0]):
        xa = xs_a[i]
        ya = ys_a[i]
        for j in range(xs_b.shape[0]):
            best = min(best, max(abs(xa - xs_b[j]), abs(ya - ys_b[j])))
    return int(best)
