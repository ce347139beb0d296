"""The registry of generator families: a dict, a decorator and a get/list pair."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from generators.family import Family

_FAMILIES: dict[str, Family] = {}

F = TypeVar("F", bound=Family)


def register_family(factory: Callable[[], F]) -> Callable[[], F]:
    """Register the family built by ``factory`` under its ``name``; used as a decorator."""
    family = factory()
    if family.name in _FAMILIES:
        raise ValueError(f"family {family.name!r} is registered twice")
    _FAMILIES[family.name] = family
    return factory


def get_family(name: str) -> Family:
    """Return the family called ``name``; an unknown name lists the valid ones."""
    _load_builtin_families()
    try:
        return _FAMILIES[name]
    except KeyError:
        valid = ", ".join(sorted(_FAMILIES))
        raise ValueError(f"unknown family {name!r}; valid families: {valid}") from None


def list_families() -> list[str]:
    _load_builtin_families()
    return sorted(_FAMILIES)


def _load_builtin_families() -> None:
    # Imported here, not at module level, so that importing the registry stays cheap and the
    # family modules can import the registry without a cycle.
    import generators.orientation
    import generators.svrt  # noqa: F401
