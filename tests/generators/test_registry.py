"""The family registry: built-in families load on first use, names are checked."""

from __future__ import annotations

import pytest

from generators import registry
from generators.counting.family import CountingFamily
from generators.orientation.family import OrientationFamily
from generators.svrt.family import SVRTFamily


def test_the_built_in_families_are_listed_and_found() -> None:
    assert {"counting", "orientation", "svrt"} <= set(registry.list_families())
    assert isinstance(registry.get_family("svrt"), SVRTFamily)
    assert isinstance(registry.get_family("counting"), CountingFamily)
    assert isinstance(registry.get_family("orientation"), OrientationFamily)


def test_an_unknown_family_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown family 'nope'; valid families: .*orientation"):
        registry.get_family("nope")


def test_a_name_registered_twice_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_FAMILIES", {})
    registry.register_family(SVRTFamily)
    with pytest.raises(ValueError, match="'svrt' is registered twice"):
        registry.register_family(SVRTFamily)


def test_a_family_registered_by_decorator_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_FAMILIES", {})

    @registry.register_family
    class Renamed(OrientationFamily):
        name = "renamed"

    assert isinstance(registry.get_family("renamed"), Renamed)
    assert registry.list_families() == ["counting", "orientation", "renamed", "svrt"]
