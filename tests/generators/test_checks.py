"""The shared argument checks: what they accept, what they return and what they say."""

from __future__ import annotations

import numpy as np
import pytest

from generators.checks import (
    check_choice,
    check_fraction,
    check_int,
    check_number,
    check_optional_int,
    is_int,
)


def test_check_int_accepts_python_and_numpy_integers_and_returns_int() -> None:
    assert check_int("n", 3) == 3
    value = check_int("n", np.int64(7), low=1)
    assert value == 7 and type(value) is int


@pytest.mark.parametrize("value", [True, 2.0, "3", None])
def test_check_int_refuses_non_integers_naming_them(value: object) -> None:
    with pytest.raises(ValueError, match=rf"^n must be an integer, got {value!r}$"):
        check_int("n", value)


def test_is_int_says_what_check_int_takes() -> None:
    assert is_int(0) and is_int(-3) and is_int(np.uint8(7))
    assert not any(is_int(value) for value in (True, 1.0, "1", None, [1]))


def test_check_int_bounds_are_inclusive_and_named() -> None:
    assert check_int("size", 8, low=8, high=256) == 8
    assert check_int("size", 256, low=8, high=256) == 256
    with pytest.raises(ValueError, match=r"size must be an integer in \[8, 256\], got 300"):
        check_int("size", 300, low=8, high=256)
    with pytest.raises(ValueError, match=r"workers must be an integer >= 1, got 0"):
        check_int("workers", 0, low=1)
    with pytest.raises(ValueError, match=r"k must be an integer <= 5, got 6"):
        check_int("k", 6, high=5)


def test_check_optional_int_passes_none_and_says_so() -> None:
    assert check_optional_int("threads", None, low=1) is None
    with pytest.raises(ValueError, match=r"threads must be an integer >= 1 or None, got 0"):
        check_optional_int("threads", 0, low=1)


def test_check_number_refuses_bool_nan_and_infinity() -> None:
    assert check_number("lr", np.float32(0.5), low=0.0) == 0.5
    for value in (True, float("nan"), float("inf"), "1"):
        with pytest.raises(ValueError, match="lr must be a finite number"):
            check_number("lr", value)


def test_check_number_open_lower_bound() -> None:
    with pytest.raises(ValueError, match=r"seconds must be a finite number > 0, got 0"):
        check_number("seconds", 0, low=0, low_open=True)
    with pytest.raises(ValueError, match=r"p must be a finite number in \(0, 1\], got 0"):
        check_number("p", 0.0, low=0, high=1, low_open=True)
    assert check_number("seconds", 1e-9, low=0, low_open=True) == 1e-9


def test_check_fraction() -> None:
    assert check_fraction("f", 0) == 0.0 and check_fraction("f", 1) == 1.0
    with pytest.raises(ValueError, match=r"f must be a fraction in \[0, 1\], got 1.5"):
        check_fraction("f", 1.5)


def test_check_choice_lists_the_choices() -> None:
    assert check_choice("split", "pool", ("pool", "test")) == "pool"
    with pytest.raises(ValueError, match="unknown split 'val'; the choices are: pool, test"):
        check_choice("split", "val", ("pool", "test"))
