"""Argument checks shared by every layer: integers, numbers and fractions at the boundary.

It sits in the lowest layer (``generators``) so that the engine and the server can use the same
checks and the same messages. Each check returns the value as the plain Python type it checked
for (a numpy integer comes back as ``int``) or raises ``ValueError`` naming the argument, the
value given and what is allowed. ``bool`` is refused where a number is wanted: ``True`` is an
``int`` to Python but never a count.
"""

from __future__ import annotations

import math
import operator
from numbers import Real


def _describe_range(kind: str, low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{kind} in [{low:g}, {high:g}]"
    if low is not None:
        return f"{kind} >= {low:g}"
    if high is not None:
        return f"{kind} <= {high:g}"
    return kind


def check_int(name: str, value: object, *, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an ``int`` within ``[low, high]`` (either bound may be open).

    Accepts Python and numpy integers; refuses ``bool``, floats and anything else.
    """
    return _check_int(name, value, low, high, _describe_range("an integer", low, high))


def check_optional_int(
    name: str, value: object, *, low: int | None = None, high: int | None = None
) -> int | None:
    """``None``, or ``value`` checked as by ``check_int``."""
    if value is None:
        return None
    wanted = _describe_range("an integer", low, high) + " or None"
    return _check_int(name, value, low, high, wanted)


def is_int(value: object) -> bool:
    """Whether ``value`` is an integer as ``check_int`` takes one (bounds aside): a Python or
    numpy integer, never a ``bool``. For lenient reading, where a non-integer means "none"."""
    if isinstance(value, bool):
        return False
    try:
        operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        return False
    return True


def _check_int(name: str, value: object, low: int | None, high: int | None, wanted: str) -> int:
    if not is_int(value):
        raise ValueError(f"{name} must be {wanted}, got {value!r}")
    number = operator.index(value)  # type: ignore[arg-type]
    if (low is not None and number < low) or (high is not None and number > high):
        raise ValueError(f"{name} must be {wanted}, got {value!r}")
    return int(number)


def check_number(
    name: str,
    value: object,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
) -> float:
    """``value`` as a finite ``float`` within ``[low, high]`` (``(low, high]`` with ``low_open``).

    Accepts Python and numpy integers and floats; refuses ``bool``, NaN and infinities.
    """
    wanted = _describe_range("a finite number", low, high)
    if low_open and low is not None:
        wanted = wanted.replace(f"[{low:g}", f"({low:g}").replace(f">= {low:g}", f"> {low:g}")
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be {wanted}, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be {wanted}, got {value!r}")
    too_low = low is not None and (number <= low if low_open else number < low)
    if too_low or (high is not None and number > high):
        raise ValueError(f"{name} must be {wanted}, got {value!r}")
    return number


def check_fraction(name: str, value: object) -> float:
    """``value`` as a ``float`` in ``[0, 1]``."""
    try:
        return check_number(name, value, low=0.0, high=1.0)
    except ValueError:
        raise ValueError(f"{name} must be a fraction in [0, 1], got {value!r}") from None


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``; else a ``ValueError`` listing them."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"unknown {name} {value!r}; the choices are: {', '.join(choices)}")
    return value
