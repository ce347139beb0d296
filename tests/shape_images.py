"""Tiny images of three shape classes that a small CNN learns quickly, for tests of learning."""

from __future__ import annotations

import numpy as np


def make_shape_images(labels: np.ndarray, *, seed: int, size: int = 16) -> np.ndarray:
    """Images uint8 ``[n, size, size]`` (background 255, ink 0) of a class a small CNN learns in
    a few hundred steps: 0 a horizontal bar, 1 a vertical bar, 2 a square, at random places."""
    rng = np.random.default_rng(seed)
    images = np.full((len(labels), size, size), 255, dtype=np.uint8)
    for image, label in zip(images, labels, strict=True):
        length = int(rng.integers(6, 11))
        along = int(rng.integers(0, size - length + 1))
        across = int(rng.integers(0, size - 2 + 1))
        if label == 0:
            image[across : across + 2, along : along + length] = 0
        elif label == 1:
            image[along : along + length, across : across + 2] = 0
        else:
            side = 5
            row, column = rng.integers(0, size - side + 1, size=2)
            image[row : row + side, column : column + side] = 0
    return images
