"""The registry of generator families: a dict, a decorator and a get/list pair.

Imports point one way: the registry knows the built-in family modules (imported on first use,
so that importing the registry stays cheap), and the families never import the registry.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TypeVar

from generators.family import Family

_FAMILIES: dict[str, Family] = {}

# Built-in families: name -> (module, class). Each class builds its family with no arguments.
_BUILTIN_FAMILIES = {
    "counting": ("generators.counting.family", "CountingFamily"),
    "orientation": ("generators.orientation.family", "OrientationFamily"),
    "svrt": ("generators.svrt.family", "SVRTFamily"),
}

F = TypeVar("F", bound=Family)


def register_family(factory: Callable[[], F]) -> Callable[[], F]:
    """Register the family built by ``factory`` under its ``name``; usable as a decorator."""
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
    for name, (module_name, class_name) in _BUILTIN_FAMILIES.items():
        if name not in _FAMILIES:
            register_family(getattr(importlib.import_module(module_name), class_name))
