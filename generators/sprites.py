"""Random closed contours and their rasterisation into sprites.

A *sprite* is a square ``uint8`` mask of odd side ``2c + 1`` whose centre pixel ``(c, c)`` is the
shape's centre. Each pixel holds bit flags:

- ``CONTOUR``: a pixel of the drawn contour (ink);
- ``INTERIOR``: strictly inside the contour;
- ``NEAR``: within Chebyshev distance 1 of a contour pixel (contour included);
- ``HALO``: within Chebyshev distance 1 of the filled shape (contour or interior).

Copies that differ by a translation only reuse one sprite, so they are pixel-identical.
Coordinates are (x, y) with x to the right and y down, in pixels.
"""

from __future__ import annotations

import math

import numpy as np

from generators.interior import mark_interior
from generators.numba_cache import cached_njit
from generators.rng import in_disc_at, uniform

CONTOUR = 1
INTERIOR = 2
FILL = 3
NEAR = 4
HALO = 8

_MAX_CONTOUR_TRIES = 10000


@cached_njit
def make_contour(state: np.ndarray, radius: float, hole: float) -> np.ndarray:
    """Return a random closed contour as an ``[n_points, 2]`` float array around (0, 0).

    Four control points, one per quadrant, at radii uniform in [hole, radius], joined by
    recursive random midpoint displacement (the midpoint moves by a vector uniform in a disc of
    radius segment_length / 5) until segments are under a quarter pixel. A contour that leaves
    the annulus is redrawn. The contour is not rotated: callers rotate it (see ``transform``).
    """
    return draw_contour(state, radius, hole, get_max_points(radius))


@cached_njit
def make_contour_points(state: np.ndarray, radius: float, hole: float) -> np.ndarray:
    """``make_contour``'s points, from the same draws, in no particular order.

    For drawing a sprite (``make_sprite``, ``make_outline``), which lands each point on its
    pixel whatever the order: it spares walking the contour into order, about 5% of a kernel
    that draws large shapes.
    """
    points, _, n = link_contour(state, radius, hole, get_max_points(radius))
    return points[:n]


@cached_njit
def get_max_points(radius: float) -> int:
    """The bound on a contour's points: a longer one is redrawn, which keeps the buffers small
    (and cheap)."""
    return int(120.0 * radius) + 512


@cached_njit
def draw_contour(state: np.ndarray, radius: float, hole: float, max_points: int) -> np.ndarray:
    """``make_contour`` with the bound on the number of points given."""
    points, following, n = link_contour(state, radius, hole, max_points)
    return _to_contour(points, following, n)


@cached_njit
def link_contour(
    state: np.ndarray, radius: float, hole: float, max_points: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """``draw_contour``'s points as a ring of links: (points, following, n), the contour
    being points 0, following[0], following[following[0]], ... of the first n.

    The recursion runs breadth first, one level of midpoints over the whole contour at a time:
    each segment still gets the same independent displacements, but a doomed draw is usually
    caught at a coarse level before any fine work is spent on it. With a wide hole (e.g. 48 px
    with a 21 px hole) most draws are doomed, and this is 5-8 times faster than depth first.

    Each level visits only the segments still to split, in contour order. Most segments are
    final long before the last level (a contour of 1,000 points takes some 15 levels), and
    visiting only the live ones takes a quarter of the steps of rewriting the whole contour at
    every level.
    """
    points = np.empty((max_points, 2), dtype=np.float64)
    following = np.empty(max_points, dtype=np.int64)
    live = np.empty(max_points, dtype=np.int64)
    next_live = np.empty(max_points, dtype=np.int64)
    r2_low = hole * hole
    r2_high = radius * radius
    controls = np.empty((4, 2), dtype=np.float64)  # (angle, radius) of each control point
    for _ in range(_MAX_CONTOUR_TRIES):
        for q in range(4):
            controls[q, 0] = uniform(state, q * 0.5 * math.pi, (q + 1) * 0.5 * math.pi)
            controls[q, 1] = uniform(state, hole, radius)
        doomed, counter = _is_doomed_at_first_level(controls, state[0], r2_low, r2_high)
        if doomed and max_points > 8:  # with fewer, the bound can end a draw before its midpoints
            state[0] = counter
            continue
        for q in range(4):
            a = controls[q, 0]
            rad = controls[q, 1]
            points[q, 0] = rad * math.cos(a)
            points[q, 1] = rad * math.sin(a)
            following[q] = (q + 1) % 4
        n = 4
        n_live = 0
        for q in range(4):
            live[n_live] = q
            n_live += _is_long(points, q, following[q])
        counter = state[0]  # kept in a register through the levels, stored back after each
        ok = True
        while n_live > 0 and ok:
            if n + n_live >= max_points:
                # This level may pass the bound: finish the draw point by point, which
                # stops at the same point (and the same stream state) as the bound does.
                state[0] = counter
                contour = _refine_by_copy(
                    state, _to_contour(points, following, n), r2_low, r2_high, max_points
                )
                if contour.shape[0] > 0:
                    n = contour.shape[0]
                    return contour, (np.arange(n) + 1) % n, n
                ok = False
                break
            n_next = 0
            # Indices read from the links are taken as unsigned: numba then drops its test for
            # a negative index (a compare and a select at every access), which took 13-30% of
            # a contour's time. They are never negative, so they name the same cells.
            for t in range(np.uint64(n_live)):
                i = np.uint64(live[t])
                j = np.uint64(following[i])
                ax = points[i, 0]
                ay = points[i, 1]
                bx = points[j, 0]
                by = points[j, 1]
                dx = bx - ax
                dy = by - ay
                ox, oy, counter = in_disc_at(counter, math.sqrt(dx * dx + dy * dy) / 5.0)
                mx = ax + 0.5 * dx + ox
                my = ay + 0.5 * dy + oy
                # Every midpoint stays on the contour, so one outside the annulus dooms the draw.
                r2 = mx * mx + my * my
                if r2 < r2_low or r2 > r2_high:
                    ok = False
                    break
                un = np.uint64(n)
                points[un, 0] = mx
                points[un, 1] = my
                following[un] = j
                following[i] = n
                # Both halves go on to the next level unless already final (branch-free).
                # (``_is_long`` on the values at hand: the same differences, no reloads.)
                ex = mx - ax
                ey = my - ay
                fx = bx - mx
                fy = by - my
                next_live[np.uint64(n_next)] = i
                n_next += int(ex * ex + ey * ey >= 0.0625)
                next_live[np.uint64(n_next)] = n
                n_next += int(fx * fx + fy * fy >= 0.0625)
                n += 1
            state[0] = counter
            live, next_live = next_live, live
            n_live = n_next
        if ok:
            return points, following, n
    raise RuntimeError("could not draw a contour inside the annulus")


@cached_njit
def _is_doomed_at_first_level(
    controls: np.ndarray, counter: np.uint64, r2_low: float, r2_high: float
) -> tuple[bool, np.uint64]:
    """Whether a draw's first level of midpoints leaves the annulus, found without ``sin`` and
    ``cos``: (True, the stream state after the failing midpoint) when it surely does, (False,
    ``counter`` unchanged) when the draw goes on (or is too close to call).

    With a wide hole most draws fail there (95% of the 94 draws a contour takes at a hole of
    half the radius), and the control points' four ``sincos`` were most of their cost: such a
    contour took 19 us, and takes 13 with this test (SVRT 13's images 12% faster).

    Here the control points come from polynomials within 2e-9, which move a midpoint's squared
    radius by under 3e-8 of the outer radius squared; a midpoint within ``_CALL_MARGIN`` (40
    times that) of a bound, or a segment as close to the length bound, is left to the exact
    draw. The stream advances exactly as the exact draw's does (how many draws a midpoint
    takes does not depend on the points), so the same draw fails at the same midpoint and
    leaves the stream at the same state either way: the same contours, byte for byte.
    """
    margin = _CALL_MARGIN * (r2_high + 1.0)
    x0, y0 = _approximate_point(controls, 0)
    x1, y1 = _approximate_point(controls, 1)
    x2, y2 = _approximate_point(controls, 2)
    x3, y3 = _approximate_point(controls, 3)
    xs = (x0, x1, x2, x3, x0)  # in registers: no array to allocate or pass
    ys = (y0, y1, y2, y3, y0)
    at = counter
    for i in range(4):
        dx = xs[i + 1] - xs[i]
        dy = ys[i + 1] - ys[i]
        length2 = dx * dx + dy * dy
        if abs(length2 - 0.0625) <= margin:
            return False, counter
        if length2 < 0.0625:  # final: no midpoint, no draw
            continue
        ox, oy, at = in_disc_at(at, math.sqrt(length2) / 5.0)
        mx = xs[i] + 0.5 * dx + ox
        my = ys[i] + 0.5 * dy + oy
        r2 = mx * mx + my * my
        if r2 < r2_low - margin or r2 > r2_high + margin:
            return True, at
        if r2 < r2_low + margin or r2 > r2_high - margin:
            return False, counter
    return False, counter


@cached_njit
def _approximate_point(controls: np.ndarray, q: int) -> tuple[float, float]:
    c, s = _approximate_cos_sin(controls[q, 0], q)
    return controls[q, 1] * c, controls[q, 1] * s


# Relative to the outer radius squared (plus 1): about 40 times what the polynomials move.
_CALL_MARGIN = 1e-6
_SQRT_HALF = math.sqrt(0.5)
# Taylor coefficients of sin (odd powers) and cos (even powers).
_S3, _S5, _S7, _S9 = -1.0 / 6.0, 1.0 / 120.0, -1.0 / 5040.0, 1.0 / 362880.0
_C2, _C4, _C6, _C8, _C10 = -0.5, 1.0 / 24.0, -1.0 / 720.0, 1.0 / 40320.0, -1.0 / 3628800.0


@cached_njit
def _approximate_cos_sin(a: float, quadrant: int) -> tuple[float, float]:
    """(cos a, sin a) within 2e-9, for ``a`` in the quadrant [q pi/2, (q + 1) pi/2].

    Taylor polynomials about the quadrant's middle, where ``|u| <= pi / 4``: the first term
    left out bounds the error, (pi/4)^11 / 11! < 2e-9.
    """
    middle = (quadrant + 0.5) * 0.5 * math.pi
    u = a - middle
    u2 = u * u
    # Coefficients as products, not divisions: a chain of divisions cost 4 times as much.
    sin_u = u * (1.0 + u2 * (_S3 + u2 * (_S5 + u2 * (_S7 + u2 * _S9))))
    cos_u = 1.0 + u2 * (_C2 + u2 * (_C4 + u2 * (_C6 + u2 * (_C8 + u2 * _C10))))
    # The middle's cos and sin are +-sqrt(1/2), signs by quadrant.
    cos_m = _SQRT_HALF if quadrant == 0 or quadrant == 3 else -_SQRT_HALF
    sin_m = _SQRT_HALF if quadrant <= 1 else -_SQRT_HALF
    return cos_u * cos_m - sin_u * sin_m, sin_u * cos_m + cos_u * sin_m


@cached_njit
def _is_long(points: np.ndarray, i: int, j: int) -> int:
    """1 if the segment from point i to point j is a quarter pixel or longer (it is split)."""
    dx = points[j, 0] - points[i, 0]
    dy = points[j, 1] - points[i, 1]
    return int(dx * dx + dy * dy >= 0.0625)


@cached_njit
def _to_contour(points: np.ndarray, following: np.ndarray, n: int) -> np.ndarray:
    """The ring of ``n`` linked points as an array in contour order, from point 0."""
    contour = np.empty((n, 2), dtype=np.float64)
    i = 0
    for t in range(n):
        contour[t, 0] = points[i, 0]
        contour[t, 1] = points[i, 1]
        i = following[i]
    return contour


@cached_njit
def _refine_by_copy(
    state: np.ndarray, contour: np.ndarray, r2_low: float, r2_high: float, max_points: int
) -> np.ndarray:
    """Finish a draw by rewriting the whole contour at each level, checking the bound on the
    number of points before each point. Returns no points when the draw passes the bound or
    leaves the annulus (it is then redrawn)."""
    n = contour.shape[0]
    src = np.empty((max_points, 2), dtype=np.float64)
    dst = np.empty((max_points, 2), dtype=np.float64)
    src[:n] = contour
    counter = state[0]
    while True:
        m = 0
        split = False
        for i in range(n):
            ax = src[i, 0]
            ay = src[i, 1]
            j = i + 1 if i + 1 < n else 0
            dx = src[j, 0] - ax
            dy = src[j, 1] - ay
            if m + 2 > max_points:
                state[0] = counter
                return src[:0].copy()
            dst[m, 0] = ax
            dst[m, 1] = ay
            m += 1
            length2 = dx * dx + dy * dy
            if length2 < 0.0625:  # under a quarter pixel: final
                continue
            ox, oy, counter = in_disc_at(counter, math.sqrt(length2) / 5.0)
            mx = ax + 0.5 * dx + ox
            my = ay + 0.5 * dy + oy
            r2 = mx * mx + my * my
            if r2 < r2_low or r2 > r2_high:
                state[0] = counter
                return src[:0].copy()
            dst[m, 0] = mx
            dst[m, 1] = my
            m += 1
            split = True
        state[0] = counter
        src, dst = dst, src
        n = m
        if not split:
            return src[:n].copy()


@cached_njit
def transform(points: np.ndarray, scale: float, rotation: float, mirror: bool) -> np.ndarray:
    """Return ``scale * R(rotation) * M(mirror) * points``; M negates x (a left-right mirror)."""
    cs = math.cos(rotation) * scale
    sn = math.sin(rotation) * scale
    flip = -1.0 if mirror else 1.0
    n = points.shape[0]
    out = np.empty((n, 2), dtype=np.float64)
    for i in range(n):
        out[i, 0], out[i, 1] = _transform_point(points, i, cs, sn, flip)
    return out


@cached_njit
def _transform_point(
    points: np.ndarray, i: int, cs: float, sn: float, flip: float
) -> tuple[float, float]:
    """Point i after ``transform``, given its cos and sin times the scale, and the mirror's
    sign (-1.0: an exact negation of x)."""
    x = flip * points[i, 0]
    y = points[i, 1]
    return cs * x - sn * y, sn * x + cs * y


@cached_njit
def rasterize(points: np.ndarray, line_width: int) -> np.ndarray:
    """Draw a closed contour given as dense points (gaps under 1 px) into a sprite mask.

    Each point lands on its nearest pixel, so consecutive pixels are 8-connected and the contour
    is closed; ``line_width`` > 1 thickens it with a square brush.
    """
    mask = draw_outline(points, line_width)
    complete_sprite(mask)
    return mask


@cached_njit
def draw_outline(points: np.ndarray, line_width: int) -> np.ndarray:
    """``rasterize`` up to the contour: a mask with only ``CONTOUR`` set.

    Its ink (``count_ink``) and box (``get_extent``: the filled shape's box is the contour's)
    are already the sprite's, so a caller choosing among many draws by those can complete only
    the one it keeps (``complete_sprite``).
    """
    # The identity transform: 1 * x - 0 * y is x exactly (up to the sign of a zero, which
    # lands on the same pixel).
    return make_outline(points, 1.0, 0.0, False, line_width)


@cached_njit
def complete_sprite(mask: np.ndarray) -> None:
    """Turn an outline (``draw_outline``) into the sprite ``rasterize`` makes, in place."""
    _fill_and_dilate(mask)


@cached_njit
def _fill_and_dilate(mask: np.ndarray) -> None:
    """Mark INTERIOR (not 4-reachable from the frame), then the NEAR and HALO rings.

    The mask has a clear frame at least two pixels wide, so the rings stay inside it.
    """
    mark_interior(mask, CONTOUR, INTERIOR)
    side = mask.shape[0]
    n = side * side
    flat = mask.reshape(n)
    # NEAR is the contour dilated by a 3 x 3 square: along rows, then along columns. The frame
    # is clear, so neither pass reaches past ring 1, and a row's ends never wrap into ink.
    # Each pass reads shifted slices with one index: an index like ``idx - side`` makes numba
    # check for negative indices, and that check alone made the pass 40 times slower.
    across = np.zeros(n, dtype=np.uint8)
    _or_three(across[1 : n - 1], flat[: n - 2], flat[1 : n - 1], flat[2:], CONTOUR)
    rings = np.zeros(n, dtype=np.uint8)
    _or_three(
        rings[side : n - side],
        across[: n - 2 * side],
        across[side : n - side],
        across[2 * side :],
        CONTOUR,
    )
    # Dilating the filled shape by one pixel adds exactly the contour's NEAR ring.
    for idx in range(n):
        near = rings[idx] * NEAR
        flat[idx] |= near | HALO * (((flat[idx] & FILL) | near) != 0)


@cached_njit
def _or_three(out: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray, flag: int) -> None:
    """``out = (a | b | c) & flag``, element by element (equal lengths)."""
    for i in range(out.shape[0]):
        out[i] = (a[i] | b[i] | c[i]) & flag


@cached_njit
def make_sprite(
    base: np.ndarray, scale: float, rotation: float, mirror: bool, line_width: int
) -> np.ndarray:
    """Rasterise a base contour after ``transform``."""
    mask = make_outline(base, scale, rotation, mirror, line_width)
    complete_sprite(mask)
    return mask


@cached_njit
def make_outline(
    base: np.ndarray, scale: float, rotation: float, mirror: bool, line_width: int
) -> np.ndarray:
    """``make_sprite`` up to the contour (``draw_outline`` of the contour after ``transform``);
    ``complete_sprite`` finishes it.

    Each point is transformed as ``transform`` does it, twice (for the extent, then to draw):
    cheaper than storing the transformed contour.
    """
    cs = math.cos(rotation) * scale
    sn = math.sin(rotation) * scale
    flip = -1.0 if mirror else 1.0
    n = base.shape[0]
    # Four running maxima, not one: one chain of dependent ``max`` cost a cycle or four per
    # point. ``max`` rounds nothing, so any grouping gives the same extent.
    extents = np.zeros(4)
    for start in range(0, n - 3, 4):
        for k in range(4):
            tx, ty = _transform_point(base, start + k, cs, sn, flip)
            extents[k] = max(extents[k], abs(tx), abs(ty))
    for i in range(n - n % 4, n):
        tx, ty = _transform_point(base, i, cs, sn, flip)
        extents[0] = max(extents[0], abs(tx), abs(ty))
    extent = max(max(extents[0], extents[1]), max(extents[2], extents[3]))
    c = int(extent + 0.5) + line_width + 2
    side = 2 * c + 1
    mask = np.zeros((side, side), dtype=np.uint8)
    lo = -((line_width - 1) // 2)
    hi = line_width // 2
    for i in range(n):
        tx, ty = _transform_point(base, i, cs, sn, flip)
        px = c + math.floor(tx + 0.5)
        py = c + math.floor(ty + 0.5)
        if line_width == 1:  # the common case, without the brush's loops (a third faster)
            mask[np.uint64(py), np.uint64(px)] = CONTOUR  # unsigned: see ``link_contour``
            continue
        for dy in range(lo, hi + 1):
            for dx in range(lo, hi + 1):
                mask[py + dy, px + dx] = CONTOUR
    return mask


@cached_njit
def count_cells(mask: np.ndarray, flag: int) -> int:
    """How many cells of ``mask`` carry ``flag`` (``CONTOUR``: ink; ``FILL``: area)."""
    flat = mask.reshape(mask.size)
    n = 0
    for idx in range(flat.shape[0]):
        n += (flat[idx] & flag) != 0  # branch-free: the compiler vectorises it
    return n


@cached_njit
def count_ink(mask: np.ndarray) -> int:
    return count_cells(mask, CONTOUR)


@cached_njit
def get_extent(mask: np.ndarray, flag: int) -> tuple[int, int, int, int]:
    """Offsets (x_min, x_max, y_min, y_max) from the centre of the pixels carrying ``flag``.

    A mask without such a pixel gives (side, -side, side, -side).
    """
    side = mask.shape[0]
    c = side // 2
    # Which rows and which columns hold the flag, in one branch-free pass over the mask; a
    # test per cell measured several times slower on these mostly empty sprites.
    rows = np.zeros(side, dtype=np.uint8)
    columns = np.zeros(mask.shape[1], dtype=np.uint8)
    for y in range(side):
        row = mask[y]
        hit = np.uint8(0)
        for x in range(row.shape[0]):
            bit = row[x] & flag
            hit |= bit
            columns[x] |= bit
        rows[y] = hit
    x_min, x_max = _first_and_last(columns)
    y_min, y_max = _first_and_last(rows)
    if y_max < 0:
        return side, -side, side, -side
    return x_min - c, x_max - c, y_min - c, y_max - c


@cached_njit
def _first_and_last(hits: np.ndarray) -> tuple[int, int]:
    """The first and last positions of a nonzero entry; (len, -1) when there is none."""
    first = hits.shape[0]
    for i in range(hits.shape[0]):
        if hits[i]:
            first = i
            break
    last = -1
    for i in range(hits.shape[0] - 1, -1, -1):
        if hits[i]:
            last = i
            break
    return first, last


@cached_njit
def get_contour_pixels(mask: np.ndarray) -> np.ndarray:
    """Return the ``[n, 2]`` int offsets (x, y) of contour pixels from the centre."""
    c = mask.shape[0] // 2
    n = count_ink(mask)
    out = np.empty((n, 2), dtype=np.int32)
    k = 0
    for y in range(mask.shape[0]):
        for x in range(mask.shape[1]):
            if mask[y, x] & CONTOUR:
                out[k, 0] = x - c
                out[k, 1] = y - c
                k += 1
    return out


@cached_njit
def mirror_sprite(mask: np.ndarray) -> np.ndarray:
    """Left-right mirror of a sprite about its centre column (pixel-exact)."""
    return mask[:, ::-1].copy()
