"""Sample images for the page: PNG bytes of a row of the project's packed array, cached.

Images are found by sample id only; no path from a request ever reaches the file system.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
from numpy.typing import NDArray

from labeler.data.png import encode_png


class ImageCache:
    """PNGs of ``images`` (uint8 ``[n, H, W]``, e.g. a memory map) by row, the last
    ``max_items`` kept in memory."""

    def __init__(self, images: NDArray[np.uint8], *, max_items: int) -> None:
        self._images = images
        self._max_items = max_items
        self._cache: OrderedDict[int, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get_png(self, sample_id: int) -> bytes:
        """The PNG of row ``sample_id``, which the caller has checked exists."""
        with self._lock:
            png = self._cache.get(sample_id)
            if png is not None:
                self._cache.move_to_end(sample_id)
                return png
        png = encode_png(np.ascontiguousarray(self._images[sample_id]))
        with self._lock:
            self._cache[sample_id] = png
            while len(self._cache) > self._max_items:
                self._cache.popitem(last=False)
        return png
