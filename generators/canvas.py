"""Placing sprites on a canvas without unwanted contact, and reading back what was drawn.

A canvas is a ``uint8`` array ``[3, height, width]``:

- plane ``REGION``: id + 1 of the innermost placed shape whose filled area covers the pixel
  (0 = background);
- plane ``INK``: id + 1 of the shape whose contour is drawn on the pixel (0 = none);
- plane ``RINGS``: the union of placed shapes' ``NEAR`` and ``HALO`` bits (see ``sprites``).

Shapes never touch each other or the border (a 1-pixel clear margin) unless a rule places them
in contact on purpose (``check_touch``). Positions are integer pixel centres (x, y), so copies
of one sprite are pixel-identical.
"""

from __future__ import annotations

import math

import numpy as np

from generators.numba_cache import cached_njit
from generators.rng import angle, integer
from generators.sprites import (
    CONTOUR,
    FILL,
    HALO,
    NEAR,
    count_cells,
    get_extent,
)

REGION = 0
INK = 1
RINGS = 2

# Fields of one row of the per-image shape table [max_shapes, N_FIELDS] (float64).
F_CX, F_CY, F_X0, F_Y0, F_X1, F_Y1 = 0, 1, 2, 3, 4, 5
F_SCALE, F_ROTATION, F_MIRROR, F_PROTOTYPE, F_CONTAINER, F_INK, F_TOUCHES, F_USED = (
    6,
    7,
    8,
    9,
    10,
    11,
    12,
    13,
)
N_FIELDS = 14
MAX_SHAPES = 8


@cached_njit
def fits(cv: np.ndarray, mask: np.ndarray, cx: int, cy: int, container: int) -> bool:
    """Whether the sprite can sit at (cx, cy) without contact.

    ``container`` is -1 to place on the background, or the id of the shape it must lie inside
    (then the sprite must also keep a clear pixel from every contour).
    """
    height = cv.shape[1]
    width = cv.shape[2]
    side = mask.shape[0]
    c = side // 2
    want = container + 1
    ring = HALO if container < 0 else NEAR
    # The sprite's columns whose pixels are inside the 1-px margin: no filled cell may lie
    # beyond them.
    x_lo = min(side, max(0, 1 - cx + c))
    x_hi = max(x_lo, min(side, width - 1 - cx + c))
    # Rows are read through flat views at unsigned offsets (all of them >= 0): row slices
    # cost a reference count each, and signed indices a negative-index test each; this way
    # the test alone takes a quarter less time.
    cells = mask.reshape(mask.size)
    plane = height * width
    canvas = cv.reshape(cv.size)
    # A large sprite's widest rows are tested first (rows c, c - side/4, c + side/4), then
    # every row: two large shapes that overlap mostly do so there, and top to bottom an
    # overlap low in the sprite was found last (SVRT 13 8% faster). For a small sprite these
    # rows are too large a share of the work they might spare.
    n_probes = 3 if side >= _PROBED_SIDE else 0
    for k in range(n_probes + side):
        if k < n_probes:
            my = c + ((k + 1) // 2) * (side // 4) * (1 - 2 * (k % 2))
        else:
            my = k - n_probes
        row = my * side
        y = cy + my - c
        if y < 1 or y > height - 2:
            if _holds(cells, row, row + side, FILL):
                return False
            continue
        if _holds(cells, row, row + x_lo, FILL) or _holds(cells, row + x_hi, row + side, FILL):
            return False
        # Where sprite column 0 of this row lands, in the sprite and in two canvas planes.
        here = np.uint64(row)
        under = y * width + cx - c
        region = np.uint64(REGION * plane + under)
        rings = np.uint64(RINGS * plane + under)
        bad = 0
        for x in range(np.uint64(x_lo), np.uint64(x_hi)):  # branch-free: vectorised
            bad |= (cells[here + x] & FILL != 0) & (
                (canvas[region + x] != want) | (canvas[rings + x] & ring != 0)
            )
        if bad:
            return False
    return True


_PROBED_SIDE = 48


@cached_njit
def _holds(cells: np.ndarray, start: int, stop: int, flag: int) -> bool:
    """Whether a cell of ``cells[start:stop]`` (a flat sprite) carries ``flag``, read in place
    at unsigned offsets (see ``fits``)."""
    hit = 0
    for x in range(np.uint64(start), np.uint64(stop)):
        hit |= cells[x] & flag
    return hit != 0


@cached_njit
def stamp(cv: np.ndarray, mask: np.ndarray, cx: int, cy: int, shape_id: int) -> None:
    """Draw the sprite at (cx, cy) as shape ``shape_id`` (the caller checked ``fits``)."""
    height = cv.shape[1]
    width = cv.shape[2]
    c = mask.shape[0] // 2
    for my in range(mask.shape[0]):
        y = cy + my - c
        if y < 0 or y >= height:
            continue
        for mx in range(mask.shape[1]):
            x = cx + mx - c
            if x < 0 or x >= width:
                continue
            v = mask[my, mx]
            if v & FILL:
                cv[REGION, y, x] = shape_id + 1
            if v & CONTOUR:
                cv[INK, y, x] = shape_id + 1
            cv[RINGS, y, x] |= v & (NEAR | HALO)


@cached_njit
def get_mask_box(mask: np.ndarray, flag: int) -> tuple[int, int, int, int]:
    """``(x_min, y_min, x_max, y_max)`` of the sprite cells carrying ``flag`` (e.g. ``FILL``);
    ``(side, side, -1, -1)`` when none does."""
    side = mask.shape[0]
    c = side // 2
    x_min, x_max, y_min, y_max = get_extent(mask, flag)
    if y_max < -c:
        return side, side, -1, -1
    return x_min + c, y_min + c, x_max + c, y_max + c


@cached_njit
def get_centre_range(mask: np.ndarray, size: int) -> tuple[int, int, int, int]:
    """The centres (x_lo, x_hi, y_lo, y_hi) that keep the sprite 1 px inside a square image."""
    c = mask.shape[0] // 2
    x_min, y_min, x_max, y_max = get_mask_box(mask, FILL)
    return 1 + c - x_min, size - 2 - (x_max - c), 1 + c - y_min, size - 2 - (y_max - c)


@cached_njit
def round_px(value: float) -> int:
    """The pixel whose centre is nearest to ``value`` (halves round up)."""
    return math.floor(value + 0.5)


@cached_njit
def find_position_in(
    state: np.ndarray,
    cv: np.ndarray,
    mask: np.ndarray,
    container: int,
    box: tuple[int, int, int, int],
) -> tuple[bool, int, int]:
    """Draw one uniform centre in ``box`` (x_lo, x_hi, y_lo, y_hi); report whether it fits."""
    drawn, cx, cy = draw_centre_in(state, box)
    return drawn and fits(cv, mask, cx, cy, container), cx, cy


@cached_njit
def draw_centre_in(state: np.ndarray, box: tuple[int, int, int, int]) -> tuple[bool, int, int]:
    """``find_position_in``'s draw without the fit test: (False, 0, 0), drawing nothing, for
    an empty box. For callers that test something cheaper first."""
    x_lo, x_hi, y_lo, y_hi = box
    if x_lo > x_hi or y_lo > y_hi:
        return False, 0, 0
    cx = integer(state, x_lo, x_hi)
    cy = integer(state, y_lo, y_hi)
    return True, cx, cy


@cached_njit
def find_position(
    state: np.ndarray, cv: np.ndarray, mask: np.ndarray, container: int
) -> tuple[bool, int, int]:
    """Draw one uniform centre for the sprite; report whether it fits there (nothing drawn)."""
    box = get_centre_range(mask, cv.shape[1])
    return find_position_in(state, cv, mask, container, box)


@cached_njit
def place_random(
    state: np.ndarray,
    cv: np.ndarray,
    mask: np.ndarray,
    shape_id: int,
    container: int,
    n_tries: int,
) -> tuple[bool, int, int]:
    """Try up to ``n_tries`` uniform positions; stamp the sprite at the first that fits."""
    for _ in range(n_tries):
        ok, cx, cy = find_position(state, cv, mask, container)
        if ok:
            stamp(cv, mask, cx, cy, shape_id)
            return True, cx, cy
    return False, 0, 0


@cached_njit
def place_at(
    cv: np.ndarray, mask: np.ndarray, cx: int, cy: int, shape_id: int, container: int
) -> bool:
    """Stamp the sprite at (cx, cy) if it fits there."""
    if fits(cv, mask, cx, cy, container):
        stamp(cv, mask, cx, cy, shape_id)
        return True
    return False


@cached_njit
def _fits_by_contour(cv: np.ndarray, pixels: np.ndarray, cx: int, cy: int) -> bool:
    """``fits`` on the background, checking the contour pixels only.

    Exact for a sprite that fitted one step (at most 1 px per axis) earlier: another shape's
    halo is 4-connected and at least 3 x 3, so it can neither reach the interior without
    crossing the 8-connected contour nor fit wholly inside after a 1-px step.
    """
    height = cv.shape[1]
    width = cv.shape[2]
    for i in range(pixels.shape[0]):
        x = cx + pixels[i, 0]
        y = cy + pixels[i, 1]
        if x < 1 or y < 1 or x > width - 2 or y > height - 2:
            return False
        if cv[RINGS, y, x] & HALO:
            return False
    return True


@cached_njit
def slide(
    cv: np.ndarray,
    mask: np.ndarray,
    pixels: np.ndarray,
    x0: float,
    y0: float,
    direction: float,
    container: int,
    max_steps: int,
) -> tuple[int, int, int, int, int]:
    """Walk the sprite from (x0, y0) along ``direction`` (radians) in steps of at most 1 px.

    Returns (n_fitting_steps, last_fit_x, last_fit_y, first_block_x, first_block_y): the last
    position where it fits and the first where it does not. Because each step moves at most one
    pixel on each axis, the first blocked position is at Chebyshev distance exactly 1 from
    whatever blocked it, i.e. in contact. ``n_fitting_steps`` is 0 when the start does not fit.
    On the background, steps after the first check the contour only (about ten times faster):
    ``pixels`` are the sprite's contour pixels (``get_contour_pixels``), which callers that
    slide one sprite many times compute once.
    """
    dx = math.cos(direction)
    dy = math.sin(direction)
    step = 1.0 / max(abs(dx), abs(dy))
    last_x = -1
    last_y = -1
    n = 0
    prev_x = -(10**6)
    prev_y = -(10**6)
    t = 0.0
    for _ in range(max_steps):
        x = round_px(x0 + t * dx)
        y = round_px(y0 + t * dy)
        t += step
        if x == prev_x and y == prev_y:
            continue
        prev_x = x
        prev_y = y
        if n > 0 and container < 0:
            ok = _fits_by_contour(cv, pixels, x, y)
        else:
            ok = fits(cv, mask, x, y, container)
        if not ok:
            return n, last_x, last_y, x, y
        last_x = x
        last_y = y
        n += 1
    return n, last_x, last_y, -1, -1


@cached_njit
def check_touch(
    cv: np.ndarray, mask: np.ndarray, cx: int, cy: int, container: int, target: int
) -> bool:
    """Whether the sprite at (cx, cy) touches shape ``target`` and nothing else.

    Touching: some contour pixel of the sprite is 8-adjacent to the target's contour, no pixel
    overlaps any drawn shape, and no other shape's contour comes within 1 px.
    """
    height = cv.shape[1]
    width = cv.shape[2]
    c = mask.shape[0] // 2
    want = container + 1
    n_contacts = 0
    for my in range(mask.shape[0]):
        y = cy + my - c
        for mx in range(mask.shape[1]):
            v = mask[my, mx]
            if not v & (FILL | NEAR):
                continue
            x = cx + mx - c
            if x < 1 or y < 1 or x > width - 2 or y > height - 2:
                return False
            if v & FILL and (cv[REGION, y, x] != want or cv[INK, y, x] != 0):
                return False
            if v & NEAR:
                ink = cv[INK, y, x]
                if ink == target + 1:
                    n_contacts += 1
                elif ink != 0:
                    return False
    return n_contacts > 0


@cached_njit
def place_touching(
    state: np.ndarray,
    cv: np.ndarray,
    mask: np.ndarray,
    pixels: np.ndarray,
    shape_id: int,
    target: int,
    tx: float,
    ty: float,
    reach: float,
    container: int,
    n_tries: int,
) -> tuple[bool, int, int]:
    """Bring the sprite in from ``reach`` px away towards (tx, ty) until it touches ``target``;
    ``pixels`` are its contour pixels (``get_contour_pixels``)."""
    for _ in range(n_tries):
        direction = angle(state)
        x0 = tx + reach * math.cos(direction)
        y0 = ty + reach * math.sin(direction)
        n_fit, _, _, bx, by = slide(
            cv, mask, pixels, x0, y0, direction + math.pi, container, int(2 * reach) + 4
        )
        if n_fit == 0 or bx < 0:
            continue
        if check_touch(cv, mask, bx, by, container, target):
            stamp(cv, mask, bx, by, shape_id)
            return True, bx, by
    return False, 0, 0


@cached_njit
def get_contour_distance(
    pixels_a: np.ndarray, ax: int, ay: int, pixels_b: np.ndarray, bx: int, by: int
) -> float:
    """Smallest Euclidean distance (px) between two contours given as ``[n, 2]`` offsets.

    Squared distances of pixels are exact integers, so the result is exact. A pixel q of b is
    at least ``|q - a's centre| - a's radius`` from every pixel of a, so once a close pair is
    known (b's pixel nearest a's centre gives one at once), most of b is skipped without a
    pass over a. The passes that remain run over a's columns, kept apart in int32 arrays: a
    branch-free minimum the compiler vectorises. Two contours, one of them empty, are
    infinitely far apart.
    """
    n_a = pixels_a.shape[0]
    n_b = pixels_b.shape[0]
    if n_a == 0 or n_b == 0:
        return math.inf
    xs_a, ys_a, radius_a = get_reach(pixels_a)
    # b's pixels from a's centre.
    qx = np.empty(n_b, dtype=np.int32)
    qy = np.empty(n_b, dtype=np.int32)
    q2 = np.empty(n_b, dtype=np.int64)
    nearest = 0
    for j in range(n_b):
        qx[j] = pixels_b[j, 0] + bx - ax
        qy[j] = pixels_b[j, 1] + by - ay
        q2[j] = qx[j] * qx[j] + qy[j] * qy[j]
        if q2[j] < q2[nearest]:
            nearest = j
    best = get_nearest2(xs_a, ys_a, qx[nearest], qy[nearest], 2**62)
    for j in range(n_b):
        reach = math.sqrt(best) + radius_a + 1e-6  # the margin covers rounding
        if q2[j] <= reach * reach:
            best = get_nearest2(xs_a, ys_a, qx[j], qy[j], best)
    return math.sqrt(np.float64(best))


@cached_njit
def get_reach(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """A contour's columns (``get_columns``) and radius: what ``get_contour_distance`` and
    ``svrt.containment.is_within_reach`` read of their first contour. A loop that tests one
    contour at many places takes this once (taken at every test, it was a third of the
    test's time)."""
    xs, ys = get_columns(pixels)
    return xs, ys, get_radius(pixels)


@cached_njit
def get_radius(pixels: np.ndarray) -> float:
    """Largest distance (px) from the centre to a contour pixel: the fill lies within it."""
    r2 = 0
    for i in range(pixels.shape[0]):
        r2 = max(r2, pixels[i, 0] ** 2 + pixels[i, 1] ** 2)
    return math.sqrt(r2)


@cached_njit
def get_columns(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The x and y columns of ``[n, 2]`` pixel offsets, apart, in int32: loops over them
    vectorise, where loops over the rows do not."""
    xs = np.empty(pixels.shape[0], dtype=np.int32)
    ys = np.empty(pixels.shape[0], dtype=np.int32)
    for i in range(pixels.shape[0]):
        xs[i] = pixels[i, 0]
        ys[i] = pixels[i, 1]
    return xs, ys


@cached_njit
def get_nearest2(xs: np.ndarray, ys: np.ndarray, x: int, y: int, best: int) -> int:
    """The smallest squared distance from (x, y) to a pixel (xs, ys), or ``best`` if smaller."""
    for i in range(xs.shape[0]):
        dx = xs[i] - x
        dy = ys[i] - y
        best = min(best, dx * dx + dy * dy)
    return best


@cached_njit
def record_shape(
    table: np.ndarray,
    shape_id: int,
    mask: np.ndarray,
    cx: int,
    cy: int,
    scale: float,
    rotation: float,
    mirror: bool,
    prototype: int,
    container: int,
) -> None:
    """Write one shape's ground truth into row ``shape_id`` of the shape table."""
    c = mask.shape[0] // 2
    x0, y0, x1, y1 = get_mask_box(mask, CONTOUR)
    ink = count_cells(mask, CONTOUR)
    row = table[shape_id]
    row[F_CX] = cx
    row[F_CY] = cy
    row[F_X0] = cx + x0 - c
    row[F_Y0] = cy + y0 - c
    row[F_X1] = cx + x1 - c
    row[F_Y1] = cy + y1 - c
    row[F_SCALE] = scale
    row[F_ROTATION] = rotation % (2.0 * math.pi)
    row[F_MIRROR] = 1.0 if mirror else 0.0
    row[F_PROTOTYPE] = prototype
    row[F_CONTAINER] = container
    row[F_INK] = ink
    row[F_TOUCHES] = 0.0
    row[F_USED] = 1.0


@cached_njit
def finish_image(cv: np.ndarray, image: np.ndarray, table: np.ndarray) -> None:
    """Render the ink plane into ``image`` (255 background, 0 ink) and fill in contacts.

    ``F_TOUCHES`` becomes a bit mask of the shapes whose contour is 8-adjacent to this one's.
    """
    height = cv.shape[1]
    width = cv.shape[2]
    # Branch-free so that the compiler vectorises the one pass over every pixel.
    for y in range(height):
        for x in range(width):
            image[y, x] = 255 if cv[INK, y, x] == 0 else 0
    for i in range(MAX_SHAPES):
        if table[i, F_USED] > 0:
            table[i, F_TOUCHES] = 0.0
    for i in range(MAX_SHAPES):
        if table[i, F_USED] == 0:
            continue
        for j in range(i + 1, MAX_SHAPES):
            if table[j, F_USED] == 0:
                continue
            if _contours_touch(cv, table, i, j):
                table[i, F_TOUCHES] = int(table[i, F_TOUCHES]) | (1 << j)
                table[j, F_TOUCHES] = int(table[j, F_TOUCHES]) | (1 << i)


@cached_njit
def _contours_touch(cv: np.ndarray, table: np.ndarray, i: int, j: int) -> bool:
    """Whether a contour pixel of shape i is 8-adjacent to one of shape j.

    Only the overlap of the two boxes (grown by 1 px) can hold such a pair, so only it is read.
    """
    x0 = int(max(table[i, F_X0], table[j, F_X0] - 1))
    x1 = int(min(table[i, F_X1], table[j, F_X1] + 1))
    y0 = int(max(table[i, F_Y0], table[j, F_Y0] - 1))
    y1 = int(min(table[i, F_Y1], table[j, F_Y1] + 1))
    height = cv.shape[1]
    width = cv.shape[2]
    for y in range(max(y0, 0), min(y1, height - 1) + 1):
        for x in range(max(x0, 0), min(x1, width - 1) + 1):
            if cv[INK, y, x] != i + 1:
                continue
            for yy in range(max(0, y - 1), min(height, y + 2)):
                for xx in range(max(0, x - 1), min(width, x + 2)):
                    if cv[INK, yy, xx] == j + 1:
                        return True
    return False
