"""The shared registry: register, get, list, and the message for an unknown or taken name."""

from __future__ import annotations

import pytest

from generators.named_registry import NamedRegistry


def test_entries_are_registered_listed_and_found() -> None:
    registry: NamedRegistry[int] = NamedRegistry("widget")
    registry.register("b")(2)
    registry.register("a")(1)
    assert registry.names() == ["a", "b"]
    assert registry.get("b") == 2 and "a" in registry and "c" not in registry


def test_unknown_and_taken_names_are_refused() -> None:
    registry: NamedRegistry[int] = NamedRegistry("widget")
    registry.register("a")(1)
    with pytest.raises(ValueError, match=r"^unknown widget 'z'; valid ones: a$"):
        registry.get("z")
    with pytest.raises(ValueError, match=r"^widget 'a' is already registered$"):
        registry.register("a")(3)
    assert registry.get("a") == 1


def test_load_registers_built_in_entries_on_first_lookup() -> None:
    calls: list[int] = []
    registry: NamedRegistry[str] = NamedRegistry("kind", load=lambda: calls.append(1))
    assert calls == []  # nothing runs at construction
    registry.register("x")("X")
    assert registry.get("x") == "X" and registry.names() == ["x"]
    assert len(calls) == 2
