"""The 23 problems of the Synthetic Visual Reasoning Test, described in ``docs/svrt.md``."""

from generators.svrt.family import SVRTFamily

__all__ = ["SVRTFamily"]
