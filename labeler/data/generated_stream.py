"""A generator problem as an endless torch ``IterableDataset``: new images forever, seeded.

For curriculum or "infinite data" studies, where no image should be seen twice. The stream
walks the split's images in blocks of ``BLOCK_CLASSES_MULTIPLE x n_classes`` indices, each
block in its own seeded order (so labels come mixed, and every block holds each class equally
often); with DataLoader workers, worker ``w`` of ``W`` takes blocks ``w, w + W, ...``, so no
image is made twice and a seed and a worker count give the same items every time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from torch.utils.data import IterableDataset, get_worker_info

from generators.checks import check_int
from generators.family import Family
from generators.registry import get_family
from labeler.data.generated_dataset import GeneratedDataset

# Blocks of 256 images per class: large enough to mix labels well, small enough that a short
# run still sees every class equally.
BLOCK_CLASSES_MULTIPLE = 256


class GeneratedStream(IterableDataset[Any]):
    """Images ``start, start + 1, ...`` of one generator stream in a seeded block order, without
    end (``limit``: stop after that many items, per worker).

    The arguments are ``GeneratedDataset``'s, without ``size``; an item is what
    ``GeneratedDataset`` gives for the same index, so a stream and a dataset of the same
    values agree image for image.
    """

    def __init__(
        self,
        family: str | Family,
        problem: str | int | None = None,
        *,
        split: str = "train",
        seed: int = 0,
        start: int = 0,
        limit: int | None = None,
        **options: Any,
    ) -> None:
        # One block's worth of size checks the split name; items are made by index.
        n_classes = len((family if isinstance(family, Family) else get_family(family)).class_names)
        self.block_size = BLOCK_CLASSES_MULTIPLE * n_classes
        self.images = GeneratedDataset(
            family, problem, split=split, size=self.block_size, seed=seed, **options
        )
        self.seed = seed
        self.start = check_int("start", start, low=0)
        self.limit = None if limit is None else check_int("limit", limit, low=1)

    def __iter__(self) -> Iterator[Any]:
        info = get_worker_info()
        worker, n_workers = (0, 1) if info is None else (info.id, info.num_workers)
        made = 0
        block = worker
        while True:
            for index in self.get_block_order(block):
                if self.limit is not None and made >= self.limit:
                    return
                yield self.images.make_item(self.images.generate_at(int(index)))
                made += 1
            block += n_workers

    def get_block_order(self, block: int) -> np.ndarray:
        """The indices of block ``block`` (int64 ``[block_size]``) in the order they come."""
        first = self.start + block * self.block_size
        order = np.random.default_rng([self.seed, block]).permutation(self.block_size)
        return first + order.astype(np.int64)
