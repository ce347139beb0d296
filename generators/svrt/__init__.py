"""The 23 problems of the Synthetic Visual Reasoning Test, written from ``shared/specs/svrt.md``."""

from generators.svrt.family import SVRTFamily

__all__ = ["SVRTFamily"]
