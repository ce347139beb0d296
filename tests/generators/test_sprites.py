"""Random contours and sprites: the spec's annulus, closed 1-px contours, fills and rings."""

import math

import numpy as np
import pytest
from scipy import ndimage

from generators.rng import in_disc_at, make_state, uniform
from generators.sprites import (
    CONTOUR,
    FILL,
    HALO,
    INTERIOR,
    NEAR,
    _approximate_cos_sin,
    _is_doomed_at_first_level,
    complete_sprite,
    count_ink,
    draw_contour,
    draw_outline,
    get_contour_pixels,
    get_extent,
    make_contour,
    make_contour_points,
    make_sprite,
    mirror_sprite,
    rasterize,
    transform,
)


@pytest.mark.parametrize(("radius", "hole"), [(10.0, 1.0), (21.0, 2.0), (48.0, 21.0)])
def test_contour_stays_in_the_annulus_with_quarter_pixel_steps(radius: float, hole: float) -> None:
    state = make_state(np.uint64(11), np.uint64(0))
    for _ in range(20):
        points = make_contour(state, radius, hole)
        radii = np.hypot(points[:, 0], points[:, 1])
        assert radii.min() >= hole and radii.max() <= radius
        steps = np.hypot(*np.diff(np.vstack([points, points[:1]]), axis=0).T)
        assert steps.max() < 0.25
        # One point per quadrant at least: the contour goes around the centre.
        quadrants = set(((np.arctan2(points[:, 1], points[:, 0]) // (np.pi / 2)) % 4).astype(int))
        assert quadrants == {0, 1, 2, 3}


def draw_contour_by_rewriting(
    state: np.ndarray, radius: float, hole: float, max_points: int
) -> np.ndarray:
    """The contour rule written plainly: each level rewrites the whole contour, checking the
    bound on the number of points before each point, and a draw that passes the bound or
    leaves the annulus starts again from new control points."""
    while True:
        points = []
        for q in range(4):
            a = uniform(state, q * 0.5 * math.pi, (q + 1) * 0.5 * math.pi)
            rad = uniform(state, hole, radius)
            points.append((rad * math.cos(a), rad * math.sin(a)))
        doomed = False
        split = True
        while split and not doomed:
            split = False
            level: list[tuple[float, float]] = []
            for i, (ax, ay) in enumerate(points):
                bx, by = points[(i + 1) % len(points)]
                dx, dy = bx - ax, by - ay
                if len(level) + 2 > max_points:
                    doomed = True
                    break
                level.append((ax, ay))
                if dx * dx + dy * dy < 0.0625:
                    continue
                ox, oy, state[0] = in_disc_at(state[0], math.sqrt(dx * dx + dy * dy) / 5.0)
                mx, my = ax + 0.5 * dx + ox, ay + 0.5 * dy + oy
                if not hole * hole <= mx * mx + my * my <= radius * radius:
                    doomed = True
                    break
                level.append((mx, my))
                split = True
            points = level
        if not doomed:
            return np.array(points)


@pytest.mark.parametrize(
    ("radius", "hole", "max_points"),
    [
        (3.0, 0.5, 60),
        (3.0, 0.5, 90),
        (4.0, 1.0, 120),
        (10.0, 1.0, 1712),
        (21.0, 2.0, 3032),
        # Wide holes: most draws fail at the first level of midpoints (about 94 per contour).
        (10.0, 5.0, 1712),
        (32.0, 16.0, 4352),
    ],
)
def test_contour_is_the_plain_rule_point_for_point_and_leaves_the_stream_where_it_does(
    radius: float, hole: float, max_points: int
) -> None:
    """The linked, live-segments-only drawing and its switch to rewriting near the bound on
    points (the small bounds are hit often) give the same points and draws as the plain rule."""
    fast = make_state(np.uint64(17), np.uint64(max_points))
    plain = fast.copy()
    for _ in range(12):
        expected = draw_contour_by_rewriting(plain, radius, hole, max_points)
        np.testing.assert_array_equal(draw_contour(fast, radius, hole, max_points), expected)
        assert fast[0] == plain[0]


@pytest.mark.parametrize(("radius", "hole"), [(10.0, 1.0), (48.0, 16.0)])
def test_contour_points_are_the_contour_s_points_from_the_same_draws(
    radius: float, hole: float
) -> None:
    ordered = make_state(np.uint64(23), np.uint64(0))
    unordered = ordered.copy()
    for _ in range(10):
        contour = make_contour(ordered, radius, hole)
        points = make_contour_points(unordered, radius, hole)
        assert unordered[0] == ordered[0]
        np.testing.assert_array_equal(np.unique(points, axis=0), np.unique(contour, axis=0))
        assert points.shape == contour.shape
        # The sprite does not read the order: the same pixels either way.
        np.testing.assert_array_equal(
            make_sprite(points, 1.3, 0.4, True, 2), make_sprite(contour, 1.3, 0.4, True, 2)
        )


def test_approximate_cos_sin_is_within_2e_9_over_each_quadrant() -> None:
    for quadrant in range(4):
        for a in np.linspace(quadrant * math.pi / 2, (quadrant + 1) * math.pi / 2, 2001):
            c, s = _approximate_cos_sin(a, quadrant)
            assert abs(c - math.cos(a)) < 2e-9 and abs(s - math.sin(a)) < 2e-9


def first_level_by_the_rule(
    controls: np.ndarray, counter: np.uint64, r2_low: float, r2_high: float
) -> tuple[bool, np.uint64, float]:
    """The first level of midpoints with exact control points: (fails, counter after the
    failing midpoint or after the level, the squared radius of the first midpoint)."""
    xs = controls[:, 1] * np.cos(controls[:, 0])
    ys = controls[:, 1] * np.sin(controls[:, 0])
    first_r2 = math.nan
    for i in range(4):
        j = (i + 1) % 4
        dx, dy = xs[j] - xs[i], ys[j] - ys[i]
        if dx * dx + dy * dy < 0.0625:
            continue
        ox, oy, drawn = in_disc_at(counter, math.sqrt(dx * dx + dy * dy) / 5.0)
        counter = np.uint64(drawn)  # numba gives a Python int back; as such it would be signed
        mx, my = xs[i] + 0.5 * dx + ox, ys[i] + 0.5 * dy + oy
        r2 = mx * mx + my * my
        first_r2 = r2 if math.isnan(first_r2) else first_r2
        if not r2_low <= r2 <= r2_high:
            return True, counter, first_r2
    return False, counter, first_r2


def random_controls(state: np.ndarray, radius: float, hole: float) -> np.ndarray:
    controls = np.empty((4, 2))
    for q in range(4):
        controls[q, 0] = uniform(state, q * 0.5 * math.pi, (q + 1) * 0.5 * math.pi)
        controls[q, 1] = uniform(state, hole, radius)
    return controls


@pytest.mark.parametrize(("radius", "hole"), [(10.0, 5.0), (48.0, 21.0), (10.0, 1.0)])
def test_first_level_shortcut_calls_doom_only_where_the_exact_draw_fails_there(
    radius: float, hole: float
) -> None:
    state = make_state(np.uint64(29), np.uint64(0))
    caught = failures = 0
    for _ in range(3000):
        controls = random_controls(state, radius, hole)
        counter = state[0]
        fails, after, _ = first_level_by_the_rule(controls, counter, hole**2, radius**2)
        doomed, at = _is_doomed_at_first_level(controls, counter, hole**2, radius**2)
        if doomed:
            assert fails and np.uint64(at) == after  # the same midpoint fails, as far along
        else:
            assert np.uint64(at) == counter  # left to the exact draw, from where it started
        failures += fails
        caught += doomed
        state[0] = after
    assert failures > 100 and caught == failures  # no call is too close among these


def test_first_level_shortcut_leaves_a_midpoint_on_the_bound_to_the_exact_draw() -> None:
    state = make_state(np.uint64(31), np.uint64(0))
    controls = random_controls(state, 10.0, 1.0)
    counter = state[0]
    _, _, r2 = first_level_by_the_rule(controls, counter, 0.0, math.inf)
    for r2_low in (np.nextafter(r2, math.inf), np.nextafter(r2, -math.inf)):
        # Just above the bound the exact draw fails, just below it goes on: too close to call.
        doomed, at = _is_doomed_at_first_level(controls, counter, r2_low, 100.0)
        assert not doomed and np.uint64(at) == counter
    fails, _, _ = first_level_by_the_rule(controls, counter, np.nextafter(r2, math.inf), 100.0)
    assert fails


def test_transform_matches_rotation_scale_and_mirror_by_hand() -> None:
    points = np.array([[1.0, 0.0], [0.0, 2.0]])
    out = transform(points, 2.0, math.pi / 2, True)
    # Mirror: (1,0)->(-1,0), rotate 90 deg: (0,-1), scale 2: (0,-2). (0,2)->(0,2)->(-2,0)->(-4,0).
    np.testing.assert_allclose(out, [[0.0, -2.0], [-4.0, 0.0]], atol=1e-12)


def test_sprite_contour_is_closed_and_fill_matches_scipy() -> None:
    state = make_state(np.uint64(5), np.uint64(2))
    for _ in range(10):
        mask = make_sprite(make_contour(state, 21.0, 2.0), 1.0, 0.7, False, 1)
        contour = (mask & CONTOUR) > 0
        # One 8-connected closed curve...
        _, n_parts = ndimage.label(contour, structure=np.ones((3, 3)))
        assert n_parts == 1
        # ...whose filled area is what scipy's hole filling gives.
        np.testing.assert_array_equal((mask & FILL) > 0, ndimage.binary_fill_holes(contour))
        assert ((mask & INTERIOR) > 0).sum() > 0
        # Rings: NEAR is the contour dilated by one pixel, HALO the fill dilated by one pixel.
        square = np.ones((3, 3), dtype=bool)
        np.testing.assert_array_equal((mask & NEAR) > 0, ndimage.binary_dilation(contour, square))
        np.testing.assert_array_equal(
            (mask & HALO) > 0, ndimage.binary_dilation((mask & FILL) > 0, square)
        )
        assert count_ink(mask) == contour.sum() == len(get_contour_pixels(mask))


def test_line_width_thickens_the_contour() -> None:
    state = make_state(np.uint64(5), np.uint64(3))
    points = make_contour(state, 21.0, 2.0)
    thin = rasterize(points, 1)
    thick = rasterize(points, 3)
    assert count_ink(thick) > 2 * count_ink(thin)


def test_mirror_sprite_is_the_pixel_mirror_about_the_centre_column() -> None:
    state = make_state(np.uint64(9), np.uint64(0))
    mask = make_sprite(make_contour(state, 10.0, 1.0), 1.0, 0.3, False, 1)
    mirrored = mirror_sprite(mask)
    np.testing.assert_array_equal(mirrored, mask[:, ::-1])
    pixels = get_contour_pixels(mask)
    mirrored_pixels = get_contour_pixels(mirrored)
    assert sorted(map(tuple, mirrored_pixels)) == sorted((-x, y) for x, y in pixels)


@pytest.mark.parametrize("line_width", [1, 2, 3])
def test_an_outline_completed_is_the_sprite_and_already_has_its_ink_and_box(
    line_width: int,
) -> None:
    state = make_state(np.uint64(5), np.uint64(line_width))
    for _ in range(10):
        points = transform(make_contour(state, 30.0, 8.0), 1.0, 0.4, False)
        sprite = rasterize(points, line_width)
        outline = draw_outline(points, line_width)
        assert set(np.unique(outline)) == {0, CONTOUR}
        # Shape choosers read these two off outlines before filling only the one they keep.
        assert count_ink(outline) == count_ink(sprite)
        assert get_extent(outline, FILL) == get_extent(sprite, FILL)
        complete_sprite(outline)
        np.testing.assert_array_equal(outline, sprite)
