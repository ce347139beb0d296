"""Presets plus overrides, the one routine every family builds its parameters with."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from generators.presets import copy_presets, merge_preset


@dataclass(frozen=True)
class _Params:
    problem: int = 0
    size: int = 64
    scale: float = 1.0


PRESETS = {"easy": {"scale": 2.0}, "standard": {}}


def test_overrides_win_over_the_preset_and_none_is_ignored() -> None:
    merged = merge_preset(
        PRESETS, "easy", {"size": 32, "scale": None}, params_type=_Params, what="x"
    )
    assert merged == {"scale": 2.0, "size": 32}
    assert merge_preset(PRESETS, "standard", {}, params_type=_Params, what="x") == {}


def test_an_unknown_preset_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="unknown preset 'hard'; valid presets: easy, standard"):
        merge_preset(PRESETS, "hard", {}, params_type=_Params, what="x")


def test_an_unknown_or_fixed_field_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown x parameter\(s\) colour; valid: problem, scale"):
        merge_preset(PRESETS, "easy", {"colour": 1}, params_type=_Params, what="x")
    with pytest.raises(ValueError, match=r"unknown x parameter\(s\) problem; valid: scale, size$"):
        merge_preset(
            PRESETS, "easy", {"problem": 3}, params_type=_Params, what="x", fixed=["problem"]
        )


def test_copies_leave_the_presets_alone() -> None:
    copied = copy_presets(PRESETS)
    copied["easy"]["scale"] = 5.0
    assert copied == {"easy": {"scale": 5.0}, "standard": {}} and PRESETS["easy"]["scale"] == 2.0
