"""Abstract-class image generators: SVRT problems, orientation, and more.

Pure image synthesis (numpy, numba, Pillow). Families are found through ``generators.registry``.
Importing the package does no work: numba's cache folder is chosen at the first kernel compile
(see ``generators.numba_cache``).
"""
