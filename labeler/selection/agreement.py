"""Agreement between two sets of labels of the same samples: raw agreement and Cohen's kappa.

Kappa corrects raw agreement for the agreement two annotators would reach by chance with
their own class frequencies: ``(p_o - p_e) / (1 - p_e)``, with ``p_o`` the share of samples
they label alike and ``p_e = sum_k a_k b_k`` (``a_k``, ``b_k``: each one's share of class
``k``). 1 is perfect agreement, 0 what chance gives, below 0 worse than chance. When both
give one same class to every sample, ``p_e`` is 1 and kappa is undefined (None).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def cohen_kappa(first: Any, second: Any, *, n_classes: int) -> float | None:
    """Cohen's kappa of two label arrays ``[n]`` (class indices) of the same samples; None
    when undefined (module docstring). ValueError on arrays of other shapes or no samples."""
    a = np.asarray(first, dtype=np.int64)
    b = np.asarray(second, dtype=np.int64)
    if a.ndim != 1 or a.shape != b.shape or a.shape[0] == 0:
        raise ValueError(
            f"kappa needs two label arrays [n] of the same samples, got {a.shape} and {b.shape}"
        )
    observed = float(np.mean(a == b))
    expected = float(
        np.dot(np.bincount(a, minlength=n_classes), np.bincount(b, minlength=n_classes))
    ) / (a.shape[0] ** 2)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1.0 - expected)
