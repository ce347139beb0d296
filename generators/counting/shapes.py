"""Random closed contours drawn at a target amount of ink.

A shape is one of the SVRT family's random contours (``generators.sprites``), rotated by a
uniform angle and scaled until its sprite carries the ink asked for, within a tolerance.
"""

from __future__ import annotations

import numpy as np

from generators.counting.layout import get_span
from generators.counting.params import INK_PER_RADIUS, INK_PER_RADIUS_SLOPE
from generators.numba_cache import cached_njit
from generators.rng import angle
from generators.sprites import complete_sprite, count_ink, make_contour_points, make_outline

# New contours tried for one shape, and rescalings of each, before settling for the closest.
_N_CONTOURS = 20
_N_RESCALES = 4
# Bounds on the rescaling of a contour: beyond 2x its points could be a pixel apart (they are
# drawn under a quarter pixel apart), which would open gaps in the rasterised contour.
_MIN_SCALE = 0.5
_MAX_SCALE = 2.0


@cached_njit
def draw_shape(
    state: np.ndarray,
    target_ink: float,
    hole_ratio: float,
    line_width: int,
    tolerance: float,
    max_span: int,
) -> tuple[bool, np.ndarray, float, float]:
    """Draw a shape whose ink is within ``tolerance`` px of ``target_ink`` if it can.

    The filled shape spans at most ``max_span`` px along each axis. Returns (found, sprite,
    outer radius in px, rotation in radians); when no draw hits the tolerance, ``found`` is
    still True with the closest draw that fits, and False only when none fits at all.
    """
    radius = target_ink / (line_width * (INK_PER_RADIUS + INK_PER_RADIUS_SLOPE * hole_ratio))
    best_sprite = np.zeros((1, 1), dtype=np.uint8)
    best_gap = np.inf
    best_radius = 0.0
    best_rotation = 0.0
    for _ in range(_N_CONTOURS):
        base = make_contour_points(state, radius, hole_ratio * radius)
        rotation = angle(state)
        scale = 1.0
        for _ in range(_N_RESCALES):
            # Outlines only: ink and span are already known, and only the draw kept is filled.
            outline = make_outline(base, scale, rotation, False, line_width)
            ink = count_ink(outline)
            gap = abs(ink - target_ink)
            if gap < best_gap and get_span(outline) <= max_span:
                best_sprite = outline
                best_gap = gap
                best_radius = radius * scale
                best_rotation = rotation
            if gap <= tolerance:
                break
            scale = min(max(scale * target_ink / ink, _MIN_SCALE), _MAX_SCALE)
        if best_gap <= tolerance:
            break
    found = best_gap < np.inf
    if found:
        complete_sprite(best_sprite)
    return found, best_sprite, best_radius, best_rotation
