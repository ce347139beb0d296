"""Parameters of the SVRT problems: what replaces the reference generator's constants."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from generators.checks import check_choice
from generators.presets import merge_preset

MODES = ("faithful", "balanced")

# Indices into the float64 parameter vector handed to the numba kernels.
P_SIZE = 0
P_POSITION_SCALE = 1
P_RADIUS_SCALE = 2
P_MARGIN_SCALE = 3
P_LINE_WIDTH = 4
P_BALANCED = 5
P_INK_TOLERANCE = 6
N_PARAMS = 7

PRESETS: dict[str, dict[str, Any]] = {
    # Wider decision margins (distances, tolerances) make the rules easier to see. Not wider
    # than 1.25: P2's class-0 gap (16 px -> 20 px) must still fit inside its big shape, and
    # each step up makes those layouts rarer (1.25 runs at ~500 img/s, 1.5 at ~60 img/s).
    "easy": {"margin_scale": 1.25},
    "standard": {},
    # Narrower margins: the classes come closer to each other.
    "hard": {"margin_scale": 0.6},
}


@dataclass(frozen=True)
class SVRTParams:
    """One SVRT problem's parameters. The defaults reproduce the reference sizes.

    Radii and the rules' distances are given in the spec for a 128 px image; they scale with
    ``image_size / 128``. ``radius_scale`` further scales shapes only, ``margin_scale`` the
    distances that decide a rule (e.g. P2's 16 px, P6's 21 px, P14's 6.4 px).
    ``mode="balanced"`` draws every shape that must differ from the others with the same ink
    count (within ``ink_tolerance``, a fraction) as the shape it replaces, removing the
    ink-count shortcut of same/different problems.
    """

    problem: int
    image_size: int = 128
    radius_scale: float = 1.0
    margin_scale: float = 1.0
    line_width: int = 1
    mode: str = "faithful"
    ink_tolerance: float = 0.01

    def __post_init__(self) -> None:
        if not 1 <= self.problem <= 23:
            raise ValueError(f"unknown SVRT problem {self.problem!r}; valid problems: 1..23")
        if not 64 <= self.image_size <= 1024:
            raise ValueError(f"image_size must be in [64, 1024], got {self.image_size!r}")
        if not 0.5 <= self.radius_scale <= 1.5:
            raise ValueError(f"radius_scale must be in [0.5, 1.5], got {self.radius_scale!r}")
        if not 0.25 <= self.margin_scale <= 2.0:
            raise ValueError(f"margin_scale must be in [0.25, 2.0], got {self.margin_scale!r}")
        if not 1 <= self.line_width <= 4:
            raise ValueError(f"line_width must be in [1, 4], got {self.line_width!r}")
        check_choice("mode", self.mode, MODES)
        if not 0.0 <= self.ink_tolerance <= 0.2:
            raise ValueError(f"ink_tolerance must be in [0, 0.2], got {self.ink_tolerance!r}")

    def to_vector(self) -> np.ndarray:
        vector = np.zeros(N_PARAMS, dtype=np.float64)
        vector[P_SIZE] = self.image_size
        vector[P_POSITION_SCALE] = self.image_size / 128.0
        vector[P_RADIUS_SCALE] = self.image_size / 128.0 * self.radius_scale
        vector[P_MARGIN_SCALE] = self.image_size / 128.0 * self.margin_scale
        vector[P_LINE_WIDTH] = self.line_width
        vector[P_BALANCED] = 1.0 if self.mode == "balanced" else 0.0
        vector[P_INK_TOLERANCE] = self.ink_tolerance
        return vector


def make_svrt_params(problem: int, preset: str = "standard", **overrides: Any) -> SVRTParams:
    """Build parameters from a named preset plus explicit overrides (None values are ignored)."""
    values = merge_preset(
        PRESETS, preset, overrides, params_type=SVRTParams, what="SVRT", fixed=("problem",)
    )
    return replace(SVRTParams(problem=problem), **values)
