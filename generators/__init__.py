"""Abstract-class image generators: SVRT problems, orientation, and more.

Pure image synthesis (numpy, numba, Pillow). Families are found through ``generators.registry``.
"""

from generators.numba_cache import configure_numba_cache

configure_numba_cache()
