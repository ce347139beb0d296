"""Named parameter presets plus explicit overrides: how every family builds its parameters."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import fields
from typing import Any


def merge_preset(
    presets: Mapping[str, Mapping[str, Any]],
    preset: str,
    overrides: Mapping[str, Any],
    *,
    params_type: type,
    what: str,
    fixed: Collection[str] = (),
) -> dict[str, Any]:
    """The values of ``presets[preset]``, updated with the ``overrides`` that are not None.

    ``params_type`` is the family's parameter dataclass: an override must name one of its
    fields, less the ``fixed`` ones that the caller sets itself. An unknown preset or field
    raises ValueError listing the valid ones; ``what`` names the parameters in that message
    (e.g. "counting" for "unknown counting parameter(s) ...").
    """
    if preset not in presets:
        raise ValueError(f"unknown preset {preset!r}; valid presets: {', '.join(presets)}")
    known = {field.name for field in fields(params_type)} - set(fixed)
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(
            f"unknown {what} parameter(s) {', '.join(unknown)}; valid: {', '.join(sorted(known))}"
        )
    return {**presets[preset], **{k: v for k, v in overrides.items() if v is not None}}


def copy_presets(presets: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """A copy of ``presets`` that a caller may change without touching the family's own."""
    return {name: dict(values) for name, values in presets.items()}
