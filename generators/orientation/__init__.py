"""Horizontal vs vertical: elongated objects of several families, with held-out families."""

from generators.orientation.family import OrientationFamily
from generators.orientation.params import (
    OBJECT_FAMILIES,
    PRESETS,
    OrientationParams,
    make_orientation_params,
)

__all__ = [
    "OBJECT_FAMILIES",
    "PRESETS",
    "OrientationFamily",
    "OrientationParams",
    "make_orientation_params",
]
