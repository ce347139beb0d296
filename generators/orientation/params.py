"""Parameters of the orientation family: what replaces the constants, with presets."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from generators.checks import check_int, check_number
from generators.presets import merge_preset

# The object families, in the order of their codes in the kernels (changing it changes images).
OBJECT_FAMILIES = ("bar", "ellipse", "arrow", "letter", "blob", "zigzag", "cross")

# Indices into the float64 parameter vector handed to the numba kernel.
P_SIZE = 0
P_MIN_LENGTH = 1
P_MAX_LENGTH = 2
P_MIN_ASPECT = 3
P_MAX_ASPECT = 4
P_JITTER = 5
P_LINE_WIDTH = 6
P_N_OBJECTS = 7
N_PARAMS = 8

# Objects narrower than this (in px) no longer show their family's shape.
MIN_WIDTH_PX = 3.0

PRESETS: dict[str, dict[str, Any]] = {
    # Long, thin, thick-lined objects exactly on the axes.
    "easy": {
        "jitter_deg": 0.0,
        "line_width": 2,
        "min_length": 0.5,
        "max_length": 0.85,
        "min_aspect": 4.0,
        "max_aspect": 6.0,
    },
    "standard": {},
    # Short, stubby objects tilted up to 25 degrees: the two classes come closer. Below an
    # aspect of 2 the ink of an L or a Z leans so far that its pixels suggest the other class.
    "hard": {
        "jitter_deg": 25.0,
        "min_length": 0.2,
        "max_length": 0.5,
        "min_aspect": 2.0,
        "max_aspect": 3.0,
    },
}


@dataclass(frozen=True)
class OrientationParams:
    """Parameters of the horizontal-vs-vertical problem.

    Lengths are the object's long side as a fraction of ``image_size``; the aspect ratio is
    long side / short side; ``jitter_deg`` bounds the uniform tilt of the long axis away from
    horizontal (class 0) or vertical (class 1), in degrees; ``line_width`` is in px.

    ``families`` are the object families drawn from. With a non-empty ``holdout_families``,
    the "train" split draws only from ``families`` that are not held out, and every other
    split (e.g. "test") only from ``holdout_families``.
    """

    image_size: int = 128
    families: tuple[str, ...] = OBJECT_FAMILIES
    holdout_families: tuple[str, ...] = ()
    min_length: float = 0.35
    max_length: float = 0.8
    min_aspect: float = 2.5
    max_aspect: float = 5.0
    jitter_deg: float = 10.0
    line_width: int = 1
    n_objects: int = 1

    def __post_init__(self) -> None:
        check_int("image_size", self.image_size, low=32, high=1024)
        _check_families("families", self.families, allow_empty=False)
        _check_families("holdout_families", self.holdout_families, allow_empty=True)
        if not self.get_split_families("train"):
            raise ValueError(
                f"holdout_families {self.holdout_families!r} hold out every family in "
                f"{self.families!r}; at least one family must stay for training"
            )
        check_number("min_length", self.min_length, low=0.05, high=0.9)
        check_number("max_length", self.max_length, low=self.min_length, high=0.9)
        check_number("min_aspect", self.min_aspect, low=1.5, high=20.0)
        check_number("max_aspect", self.max_aspect, low=self.min_aspect, high=20.0)
        # Beyond 45 degrees the classes would overlap; 40 keeps a visible gap between them.
        check_number("jitter_deg", self.jitter_deg, low=0.0, high=40.0)
        check_int("line_width", self.line_width, low=1, high=8)
        check_int("n_objects", self.n_objects, low=1, high=8)
        narrowest = self.min_length * self.image_size / self.max_aspect
        if narrowest < MIN_WIDTH_PX:
            raise ValueError(
                f"the narrowest object would be {narrowest:.2f} px wide (min_length * "
                f"image_size / max_aspect); it must be at least {MIN_WIDTH_PX:g} px: raise "
                "min_length or image_size, or lower max_aspect"
            )

    def get_split_families(self, split: str) -> tuple[str, ...]:
        """The object families that images of ``split`` are drawn from."""
        if not self.holdout_families:
            return self.families
        if split == "train":
            return tuple(f for f in self.families if f not in self.holdout_families)
        return self.holdout_families

    def to_vector(self) -> np.ndarray:
        """The ``[N_PARAMS]`` float64 vector the kernel reads (indices ``P_*``)."""
        vector = np.zeros(N_PARAMS, dtype=np.float64)
        vector[P_SIZE] = self.image_size
        vector[P_MIN_LENGTH] = self.min_length
        vector[P_MAX_LENGTH] = self.max_length
        vector[P_MIN_ASPECT] = self.min_aspect
        vector[P_MAX_ASPECT] = self.max_aspect
        vector[P_JITTER] = self.jitter_deg
        vector[P_LINE_WIDTH] = self.line_width
        vector[P_N_OBJECTS] = self.n_objects
        return vector


def make_orientation_params(preset: str = "standard", **overrides: Any) -> OrientationParams:
    """Build parameters from a named preset plus explicit overrides (None values are ignored).

    Family lists may be given as tuples, lists or comma-separated strings ("bar,arrow").
    """
    values = merge_preset(
        PRESETS, preset, overrides, params_type=OrientationParams, what="orientation"
    )
    for name in ("families", "holdout_families"):
        if name in values:
            values[name] = _to_names(values[name])
    return replace(OrientationParams(), **values)


def _to_names(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, list | tuple):
        return tuple(value)
    raise ValueError(f"family names must be a list or comma-separated text, got {value!r}")


def _check_families(name: str, value: object, *, allow_empty: bool) -> None:
    if not isinstance(value, tuple):
        raise ValueError(f"{name} must be a tuple of family names, got {value!r}")
    if not value and not allow_empty:
        raise ValueError(f"{name} must name at least one of: {', '.join(OBJECT_FAMILIES)}")
    for family in value:
        if family not in OBJECT_FAMILIES:
            raise ValueError(
                f"unknown object family {family!r} in {name}; "
                f"valid families: {', '.join(OBJECT_FAMILIES)}"
            )
    if len(set(value)) != len(value):
        raise ValueError(f"{name} names a family twice: {value!r}")
