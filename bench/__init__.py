"""Benchmarks: scripts run from a checkout (`python bench/NAME.py`), each saving its output
under `bench/results/`; the helpers they share live beside them."""
