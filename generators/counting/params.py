"""Parameters of the counting family: what replaces the constants, with presets."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from generators.checks import check_int, check_number
from generators.presets import merge_preset
from generators.transforms import get_max_shift_px

# Classes: image k shows MIN_COUNT + k % N_CLASSES shapes.
MIN_COUNT = 1
MAX_COUNT = 6
N_CLASSES = MAX_COUNT - MIN_COUNT + 1

# Indices into the float64 parameter vector handed to the numba kernel. Lengths are in px of
# this image (already scaled from the 128 px figures of CountingParams).
P_SIZE = 0
P_MIN_TOTAL_INK = 1
P_MAX_TOTAL_INK = 2
P_SIZE_SPREAD = 3
P_HOLE_RATIO = 4
P_GAP = 5
P_BORDER = 6
P_LINE_WIDTH = 7
P_INK_TOLERANCE = 8
P_MIN_WINDOW = 9
P_MAX_WINDOW = 10
N_PARAMS = 11

# A contour of fewer ink pixels than this (per px of line width) cannot be a closed ring
# around a clear pixel: the smallest is 3 x 3 px.
MIN_SHAPE_INK = 8.0
# Ink pixels of a random contour per px of its outer radius, at hole ratio h: about
# INK_PER_RADIUS + INK_PER_RADIUS_SLOPE * h (measured on 200 contours per radius in 4..45 px
# and h in 0.1..0.5: 4.1-4.7 at 0.1, 5.2-5.7 at 0.3, 6.1-6.6 at 0.5). Only a first guess:
# every shape is scaled until its measured ink hits its target.
INK_PER_RADIUS = 4.0
INK_PER_RADIUS_SLOPE = 4.8
# How far a lone shape at the largest total ink reaches from its centre, in estimated radii:
# 99% of them stay within 1.0-1.05 at hole ratios 0.15-0.6 (1.2 at 0.05; measured on 300
# shapes each). The rare shape that does not fit is drawn again.
EXTENT_ALLOWANCE = 1.05

PRESETS: dict[str, dict[str, Any]] = {
    # Round shapes of one size per image, far apart.
    "easy": {"hole_ratio": 0.5, "size_spread": 1.0, "min_gap": 6},
    "standard": {},
    # Spiky shapes of very different sizes in one image, close together. The least total ink
    # rises so that the smallest of six shapes stays a closed ring even at 64 px, which makes
    # a lone shape larger: the layouts of several shapes widen to match.
    "hard": {
        "hole_ratio": 0.15,
        "size_spread": 1.8,
        "min_gap": 2,
        "min_total_ink": 160.0,
        "min_window": 0.35,
    },
}


@dataclass(frozen=True)
class CountingParams:
    """Parameters of the counting problem: 1 to 6 closed random contours.

    The total ink of an image (its contour pixels) is drawn uniformly in
    [``min_total_ink``, ``max_total_ink``] whatever the count, then shared among the shapes,
    so a few shapes are large and many shapes small: the amount of ink does not tell the count.
    Both figures are in ink pixels of a 128 px image with 1-px lines; they scale with
    ``image_size / 128`` and ``line_width``. Each shape's share is proportional to a weight
    uniform in [1, ``size_spread``]. ``hole_ratio``: a contour's inner radius as a fraction of
    its outer one (low: spiky shapes, high: round ones). ``min_gap``: clear pixels at least
    between any two shapes (px at 128 px, at least 1), so they never touch and never nest.
    The shapes lie in a square window whose side is a fraction uniform in [``min_window``,
    ``max_window``] of the image's inner side (less the border), widened only as far as the
    shapes need: how far they spread does not tell the count either. ``ink_tolerance``: how
    far (a fraction) a shape's ink may miss its target.
    """

    image_size: int = 128
    min_total_ink: float = 130.0
    max_total_ink: float = 240.0
    size_spread: float = 1.4
    hole_ratio: float = 0.3
    min_gap: int = 4
    min_window: float = 0.25
    max_window: float = 0.7
    line_width: int = 1
    ink_tolerance: float = 0.02

    def __post_init__(self) -> None:
        check_int("image_size", self.image_size, low=64, high=1024)
        check_number("min_total_ink", self.min_total_ink, low=50.0, high=400.0)
        check_number("max_total_ink", self.max_total_ink, low=self.min_total_ink, high=400.0)
        check_number("size_spread", self.size_spread, low=1.0, high=4.0)
        # Above 0.6 the annulus is so thin that random contours rarely stay inside it.
        check_number("hole_ratio", self.hole_ratio, low=0.05, high=0.6)
        check_int("min_gap", self.min_gap, low=1, high=16)
        check_number("min_window", self.min_window, low=0.1, high=1.0)
        check_number("max_window", self.max_window, low=self.min_window, high=1.0)
        check_int("line_width", self.line_width, low=1, high=3)
        check_number("ink_tolerance", self.ink_tolerance, low=0.0, high=0.2)
        smallest = self.get_smallest_shape_ink()
        if smallest < MIN_SHAPE_INK * self.line_width:
            raise ValueError(
                f"with {MAX_COUNT} shapes the smallest could get {smallest:.1f} ink px "
                f"(min_total_ink {self.min_total_ink:g} scaled to {self.image_size} px, shared "
                f"with size_spread {self.size_spread:g}); it needs at least "
                f"{MIN_SHAPE_INK * self.line_width:g}: "
                "raise min_total_ink or image_size, or lower size_spread"
            )
        reach = EXTENT_ALLOWANCE * estimate_radius(
            self.get_scale() * self.max_total_ink * self.line_width,
            self.hole_ratio,
            self.line_width,
        )
        # Half the side that the ink may use, less the brush's reach past the contour.
        room = (self.image_size - 1 - 2 * self.get_border_px() - (self.line_width - 1)) / 2.0
        if reach > room:
            raise ValueError(
                f"a lone shape with max_total_ink {self.max_total_ink:g} would reach about "
                f"{reach:.1f} px from its centre, but only {room:.1f} px fit inside the border "
                f"of a {self.image_size} px image: lower max_total_ink or raise hole_ratio"
            )

    def get_scale(self) -> float:
        """Image px per px of the 128 px figures."""
        return self.image_size / 128.0

    def get_gap_px(self) -> int:
        """Clear pixels at least between two shapes in this image."""
        return max(1, round(self.min_gap * self.get_scale()))

    def get_border_px(self) -> int:
        """Clear pixels at least between any ink and the image's edge.

        One more than the largest "shift" (see ``generators.transforms``), so that a shifted
        image still shows every shape whole, with a clear pixel to the edge.
        """
        return get_max_shift_px(self.image_size) + 1

    def get_smallest_shape_ink(self) -> float:
        """The ink target (px) of the smallest shape at worst: the most shapes at the least
        total ink, one at weight 1 and all the others at ``size_spread``."""
        total = self.get_scale() * self.min_total_ink * self.line_width
        return total / (1.0 + (MAX_COUNT - 1) * self.size_spread)

    def to_vector(self) -> np.ndarray:
        """The ``[N_PARAMS]`` float64 vector the kernel reads (indices ``P_*``), in image px."""
        scale = self.get_scale()
        vector = np.zeros(N_PARAMS, dtype=np.float64)
        vector[P_SIZE] = self.image_size
        vector[P_MIN_TOTAL_INK] = self.min_total_ink * scale * self.line_width
        vector[P_MAX_TOTAL_INK] = self.max_total_ink * scale * self.line_width
        vector[P_SIZE_SPREAD] = self.size_spread
        vector[P_HOLE_RATIO] = self.hole_ratio
        vector[P_GAP] = self.get_gap_px()
        vector[P_BORDER] = self.get_border_px()
        vector[P_LINE_WIDTH] = self.line_width
        vector[P_INK_TOLERANCE] = self.ink_tolerance
        vector[P_MIN_WINDOW] = self.min_window
        vector[P_MAX_WINDOW] = self.max_window
        return vector


def estimate_radius(ink: float, hole_ratio: float, line_width: int) -> float:
    """The outer radius (px) of a random contour carrying about ``ink`` ink pixels."""
    return ink / (line_width * (INK_PER_RADIUS + INK_PER_RADIUS_SLOPE * hole_ratio))


def make_counting_params(preset: str = "standard", **overrides: Any) -> CountingParams:
    """Build parameters from a named preset plus explicit overrides (None values are ignored)."""
    values = merge_preset(PRESETS, preset, overrides, params_type=CountingParams, what="counting")
    return replace(CountingParams(), **values)
