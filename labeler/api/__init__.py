"""The Python API researchers import, with stable names: generator problems as torch datasets
(``datasets``), and the labeling loop from a notebook (see docs/python-api.md)."""
