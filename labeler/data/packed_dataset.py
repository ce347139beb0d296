"""Torch datasets over dataset folders, read from the packed arrays."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from labeler.data.dataset_format import load_dataset_info, load_split
from labeler.data.image_tensor import to_image_tensor


class PackedDataset(Dataset[tuple[torch.Tensor, int]]):
    """One split of a dataset folder, memory-mapped from its packed array.

    Item ``i`` is ``(image, label)``: ``image`` a float32 tensor ``[1, height, width]`` with
    ink 1.0 and background 0.0 (``(255 - pixel) / 255``), passed through ``transform`` if
    given; ``label`` an int index into ``class_names``.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        split: str,
        *,
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        self.path = Path(path)
        self.split = split
        self.transform = transform
        info = load_dataset_info(self.path)
        self.class_names = info.class_names
        self.images, self.labels = load_split(self.path, split, mmap=True)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image = to_image_tensor(np.asarray(self.images[index]))
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.labels[index])

    def __getstate__(self) -> dict[str, Any]:
        # Pickling a memory map would copy the whole array into every DataLoader worker;
        # send the path instead and map the file again on arrival.
        state = self.__dict__.copy()
        del state["images"], state["labels"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.images, self.labels = load_split(self.path, self.split, mmap=True)
