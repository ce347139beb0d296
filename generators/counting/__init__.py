"""Counting: 1 to 6 closed random shapes, six classes, total ink independent of the count."""

from generators.counting.family import CountingFamily
from generators.counting.params import PRESETS, CountingParams, make_counting_params

__all__ = ["PRESETS", "CountingFamily", "CountingParams", "make_counting_params"]
