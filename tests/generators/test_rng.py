"""Counter-based streams: purity, independence, and the distributions the kernels rely on."""

import numpy as np

from generators.rng import angle, get_stream_key, in_disc, integer, make_state, uniform


def test_stream_key_differs_by_every_part() -> None:
    base = get_stream_key("svrt", 1, "train", 0)
    assert base == get_stream_key("svrt", 1, "train", 0)
    others = {
        get_stream_key("svrt", 2, "train", 0),
        get_stream_key("svrt", 1, "test", 0),
        get_stream_key("svrt", 1, "train", 1),
        get_stream_key("orientation", 1, "train", 0),
    }
    assert base not in others and len(others) == 4


def test_state_is_a_pure_function_of_key_and_index() -> None:
    key = np.uint64(get_stream_key("x"))
    first = [uniform(make_state(key, np.uint64(k)), 0.0, 1.0) for k in range(50)]
    again = [uniform(make_state(key, np.uint64(k)), 0.0, 1.0) for k in reversed(range(50))]
    assert first == list(reversed(again))
    assert len(set(first)) == 50


def test_uniform_and_integer_ranges_and_moments() -> None:
    state = make_state(np.uint64(7), np.uint64(0))
    values = np.array([uniform(state, 2.0, 5.0) for _ in range(20000)])
    assert values.min() >= 2.0 and values.max() < 5.0
    assert abs(values.mean() - 3.5) < 0.03
    ints = np.array([integer(state, -2, 3) for _ in range(12000)])
    counts = np.bincount(ints + 2, minlength=6)
    assert ints.min() == -2 and ints.max() == 3
    assert counts.min() > 1800  # each of 6 values expected 2000 times
    angles = np.array([angle(state) for _ in range(5000)])
    assert angles.min() >= 0.0 and angles.max() < 2 * np.pi


def test_in_disc_is_uniform_over_the_disc() -> None:
    state = make_state(np.uint64(3), np.uint64(1))
    points = np.array([in_disc(state, 2.0) for _ in range(20000)])
    radii = np.hypot(points[:, 0], points[:, 1])
    assert radii.max() <= 2.0
    # Uniform over area: P(r < 1) = 1/4 of the disc of radius 2.
    assert abs((radii < 1.0).mean() - 0.25) < 0.015
    assert abs(points.mean()) < 0.03
