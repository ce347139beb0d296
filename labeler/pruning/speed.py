"""Pool scoring speed of several models measured side by side: runs interleaved, best of
``repeats``, so that a busy machine slows all of them alike."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from labeler.learning.models import Classifier
from labeler.learning.scoring import score_pool


def measure_scoring_speed(
    models: Mapping[str, Classifier],
    images: NDArray[np.uint8],
    *,
    repeats: int = 3,
    n_threads: int | None = 1,
    device: str = "cpu",
) -> dict[str, float]:
    """Images per second of ``score_pool`` for each of ``models`` on ``images`` uint8
    ``[n, H, W]``, the best of ``repeats`` interleaved runs (one warm-up run each first)."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    best = dict.fromkeys(models, 0.0)
    for attempt in range(repeats + 1):
        for name, model in models.items():
            result = score_pool(model, images, device=device, n_threads=n_threads, progress=False)
            if attempt > 0:  # the first pass only warms caches and allocators
                best[name] = max(best[name], result.images_per_second)
    return best
