"""A generator problem as a map-style torch ``Dataset`` made on demand: nothing touches the disk.

Image ``k`` of a (family, problem, parameters, split, seed) stream is a pure function of those
values (``generators.family``), so item ``k`` of ``GeneratedDataset`` is made when asked for
and equals, byte for byte, image ``k`` of the dataset folder ``labeler generate`` writes with
the same values. Items are what ``PackedDataset`` gives for such a folder, so the two are
interchangeable in a training loop.
"""

from __future__ import annotations

import json
import operator
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from generators.family import Batch, Family, ImageMaker
from generators.registry import get_family
from labeler.data.dataset_format import check_split_counts
from labeler.data.image_tensor import to_image_tensor, to_image_tensors

Transform = Callable[[Any], Any]


class GeneratedDataset(Dataset[Any]):
    """``size`` images of one generator stream, made when an item is asked for.

    ``family``: a family name (``labeler generate --list``) or ``Family``; ``problem``: one of
    its problems (None: the family's only one); ``preset`` and ``overrides`` (e.g.
    ``image_size=128``, ``mode="balanced"``): its parameters, checked as ``labeler generate``
    checks them; ``split`` and ``seed`` name the stream; ``size``, a positive multiple of the
    number of classes (image ``k`` has label ``k % n_classes``, so the classes are balanced).

    Item ``k`` is ``(image, label)``: ``image`` float32 ``[1, height, width]``, ink 1.0 and
    background 0.0, passed through ``transform``; ``label`` an int index into
    ``class_names``, passed through ``target_transform``. With ``return_metadata`` the item is
    ``(image, label, metadata)``, the image's ground truth as ``<split>_metadata.jsonl`` holds
    it (batch such items with ``collate_with_metadata``). ``get_pixels(k)`` gives the uint8
    image as written to the PNG.

    Building the dataset makes its first image: bad parameters fail here, and the numba
    kernels are compiled (or loaded from their cache) once, before DataLoader workers start.
    """

    def __init__(
        self,
        family: str | Family,
        problem: str | int | None = None,
        *,
        split: str = "train",
        size: int,
        seed: int = 0,
        preset: str = "standard",
        transform: Transform | None = None,
        target_transform: Transform | None = None,
        return_metadata: bool = False,
        **overrides: Any,
    ) -> None:
        self.family = family if isinstance(family, Family) else get_family(family)
        self.problem = get_problem(self.family, problem)
        self.class_names = self.family.class_names
        self.split = split
        self.size = check_split_counts({split: size}, n_classes=len(self.class_names))[split]
        self.params = self.family.make_params(self.problem, preset, **overrides)
        self.family.check_request(
            self.problem, self.params, split=split, seed=seed, start=0, count=1
        )
        self.seed = seed
        self.transform = transform
        self.target_transform = target_transform
        self.return_metadata = return_metadata
        # One image maker per thread (each holds its own buffers); made again after pickling.
        self._makers = threading.local()
        first = self._generate(0, with_metadata=False)  # compiles the kernels here
        self.image_shape = (int(first.images.shape[1]), int(first.images.shape[2]))

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> Any:
        position = self.check_index(index)
        if self.return_metadata:
            return self.make_item(self.generate_at(position))
        # Without truth, the stream's maker: it spares the per-call set-up of ``generate``.
        return self._finish(self._get_maker()(position), position % len(self.class_names))

    def __getitems__(self, indices: list[int]) -> list[Any]:
        """The items at ``indices`` at once, as ``[self[i] for i in indices]`` gives them.

        A DataLoader calls this for each batch when a dataset has it. The images are made
        into one buffer and converted in one pass, which spares a few microseconds of calls
        per item; each item's image is a view of the batch's tensor.
        """
        if self.return_metadata:
            return [self[index] for index in indices]
        positions = [self.check_index(index) for index in indices]
        make = self._get_maker()
        pixels = np.empty((len(positions), *self.image_shape), dtype=np.uint8)
        for slot, position in enumerate(positions):
            pixels[slot] = make(position)
        images = to_image_tensors(pixels).unbind(0)  # the views in one call, not one each
        n_classes = len(self.class_names)
        return [
            self._transform(image, position % n_classes)
            for image, position in zip(images, positions, strict=True)
        ]

    def _get_maker(self) -> ImageMaker:
        maker: ImageMaker | None = getattr(self._makers, "maker", None)
        if maker is None:
            maker = self.family.open_stream(
                self.problem, self.params, split=self.split, seed=self.seed
            )
            self._makers.maker = maker
        return maker

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state["_makers"]  # buffers and closures stay with their process
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._makers = threading.local()

    def check_index(self, index: int) -> int:
        """``index`` as a position in ``0 .. size - 1`` (negative ones count from the end);
        IndexError outside the dataset, TypeError for a non-integer."""
        position = operator.index(index)
        if not -self.size <= position < self.size:
            raise IndexError(
                f"index {position} is outside the dataset of {self.size} images "
                f"(valid: {-self.size} .. {self.size - 1})"
            )
        return position % self.size

    def get_pixels(self, index: int) -> np.ndarray:
        """Image ``index`` as uint8 ``[height, width]`` (background 255, ink 0), the pixels
        of its PNG."""
        return self._generate(self.check_index(index), with_metadata=False).images[0]

    def get_metadata(self, index: int) -> dict[str, Any]:
        """The ground truth of image ``index``, as ``<split>_metadata.jsonl`` holds it."""
        return self._generate(self.check_index(index), with_metadata=True).metadata[0]

    def get_label_preserving_transforms(self) -> tuple[str, ...]:
        """The names of ``generators.family.TRANSFORMS`` that never change a label of this
        problem (see ``LabelPreservingTransform``)."""
        return self.family.get_label_preserving_transforms(self.problem)

    def generate_at(self, index: int) -> Batch:
        """Image ``index`` (any index >= 0 of the stream, past ``size`` too) as a one-image
        batch, with metadata when items carry it."""
        return self._generate(index, with_metadata=self.return_metadata)

    def make_item(self, batch: Batch) -> Any:
        """The item of a one-image ``batch``."""
        image, label = self._finish(batch.images[0], int(batch.labels[0]))
        if self.return_metadata:
            return image, label, to_json_ready(batch.metadata[0])
        return image, label

    def _finish(self, pixels: np.ndarray, label: int) -> tuple[Any, Any]:
        """The image tensor and label of an item, through the transforms."""
        return self._transform(to_image_tensor(pixels), label)

    def _transform(self, image: torch.Tensor, label: int) -> tuple[Any, Any]:
        """An item's image and label through ``transform`` and ``target_transform``."""
        item_image: Any = image if self.transform is None else self.transform(image)
        target: Any = label if self.target_transform is None else self.target_transform(label)
        return item_image, target

    def _generate(self, start: int, *, with_metadata: bool) -> Batch:
        return self.family.generate(
            self.problem,
            self.params,
            split=self.split,
            seed=self.seed,
            start=start,
            count=1,
            with_metadata=with_metadata,
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(family={self.family.name!r}, problem={self.problem!r}, "
            f"split={self.split!r}, size={self.size}, seed={self.seed}, params={self.params})"
        )


def get_problem(family: Family, problem: str | int | None) -> str:
    """``problem`` as the family names it; None for a family of one problem. ValueError
    naming the valid problems otherwise."""
    problems = family.list_problems()
    if problem is None:
        if len(problems) != 1:
            raise ValueError(
                f"family {family.name} has several problems; name one of: {', '.join(problems)}"
            )
        return problems[0]
    return family.check_problem(str(problem))


def to_json_ready(metadata: dict[str, Any]) -> dict[str, Any]:
    """``metadata`` as the dataset folder stores it: through JSON, so that numbers and lists
    compare equal with a line of ``<split>_metadata.jsonl``."""
    loaded: dict[str, Any] = json.loads(json.dumps(metadata, default=_plain))
    return loaded


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def collate_with_metadata(
    items: list[tuple[torch.Tensor, int, dict[str, Any]]],
) -> tuple[torch.Tensor, torch.Tensor, list[dict[str, Any]]]:
    """A DataLoader ``collate_fn`` for items with metadata: stacked images, a label tensor
    and the list of metadata dicts (whose lists differ in length from image to image)."""
    images = torch.stack([item[0] for item in items])
    labels = torch.as_tensor([item[1] for item in items])
    return images, labels, [item[2] for item in items]
