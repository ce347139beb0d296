"""Every generator family as a torch dataset made on the fly, in the torchvision manner.

    from torch.utils.data import DataLoader
    from labeler.api.datasets import SVRT

    train = SVRT(problem=4, split="train", size=28000, seed=0, image_size=128)
    loader = DataLoader(train, batch_size=64, shuffle=True, num_workers=2)

Item ``k`` is ``(image, label)`` (float32 ``[1, H, W]``, ink 1.0; an int class index), equal
to image ``k`` of the folder ``labeler generate svrt --problem 4 --n-train 28000 --seed 0``
writes, and nothing is written anywhere. ``return_metadata=True`` adds the image's ground
truth (batch it with ``collate_with_metadata``); ``GeneratedStream`` gives new images without
end; ``LabelPreservingTransform(dataset.get_label_preserving_transforms())`` is the family's
ready augmentation, which composes with ``torchvision.transforms.v2``.
"""

from __future__ import annotations

from typing import Any

from labeler.data.generated_dataset import GeneratedDataset, Transform, collate_with_metadata
from labeler.data.generated_stream import GeneratedStream
from labeler.data.packed_dataset import PackedDataset
from labeler.learning.label_preserving_transform import LabelPreservingTransform

__all__ = [
    "SVRT",
    "Counting",
    "GeneratedDataset",
    "GeneratedStream",
    "LabelPreservingTransform",
    "Orientation",
    "PackedDataset",
    "collate_with_metadata",
]


class SVRT(GeneratedDataset):
    """One of the 23 SVRT problems (``labeler generate --list svrt`` describes each).

    ``mode``: "faithful" (the reference's rules) or "balanced" (no ink-count shortcut);
    ``preset``: easy, standard or hard; further parameters (``radius_scale``, ...) as keywords.
    """

    def __init__(
        self,
        problem: int | str,
        *,
        split: str = "train",
        size: int,
        seed: int = 0,
        image_size: int = 128,
        mode: str = "faithful",
        preset: str = "standard",
        transform: Transform | None = None,
        target_transform: Transform | None = None,
        return_metadata: bool = False,
        **params: Any,
    ) -> None:
        super().__init__(
            "svrt",
            problem,
            split=split,
            size=size,
            seed=seed,
            preset=preset,
            transform=transform,
            target_transform=target_transform,
            return_metadata=return_metadata,
            image_size=image_size,
            mode=mode,
            **params,
        )


class Orientation(GeneratedDataset):
    """Horizontal against vertical objects of several families; ``holdout_families`` are
    kept out of the "train" split (and only they appear in the others)."""

    def __init__(
        self,
        *,
        split: str = "train",
        size: int,
        seed: int = 0,
        image_size: int = 128,
        holdout_families: tuple[str, ...] = (),
        preset: str = "standard",
        transform: Transform | None = None,
        target_transform: Transform | None = None,
        return_metadata: bool = False,
        **params: Any,
    ) -> None:
        super().__init__(
            "orientation",
            None,
            split=split,
            size=size,
            seed=seed,
            preset=preset,
            transform=transform,
            target_transform=target_transform,
            return_metadata=return_metadata,
            image_size=image_size,
            holdout_families=tuple(holdout_families),
            **params,
        )


class Counting(GeneratedDataset):
    """One to six shapes per image; the class is how many (class names "1" .. "6")."""

    def __init__(
        self,
        *,
        split: str = "train",
        size: int,
        seed: int = 0,
        image_size: int = 128,
        preset: str = "standard",
        transform: Transform | None = None,
        target_transform: Transform | None = None,
        return_metadata: bool = False,
        **params: Any,
    ) -> None:
        super().__init__(
            "counting",
            None,
            split=split,
            size=size,
            seed=seed,
            preset=preset,
            transform=transform,
            target_transform=target_transform,
            return_metadata=return_metadata,
            image_size=image_size,
            **params,
        )
