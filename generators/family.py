"""What every generator family offers: problems, presets, and batches of images with truth."""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from generators.checks import check_int
from generators.rng import get_stream_key

# Whole-image transforms that a family may declare label-preserving for a problem (see
# ``Family.get_label_preserving_transforms``); ``generators.transforms`` applies them:
# - "hflip": mirror left-right; "vflip": mirror top-bottom;
# - "rot90": rotate a square image by 90, 180 or 270 degrees;
# - "shift": translate by at most ``MAX_SHIFT_FRACTION`` of the side along each axis (4 px at
#   128 px), filling the uncovered pixels with background; ink pushed past the edge is lost;
# - "translate": move the whole drawing by any offset that keeps every ink pixel at least 1 px
#   inside the frame (nothing is cut, however far it moves); "vtranslate": the same, up and
#   down only.
TRANSFORMS = ("hflip", "vflip", "rot90", "shift", "translate", "vtranslate")
MAX_SHIFT_FRACTION = 1.0 / 32.0

# ``Family.open_stream``'s maker: the index of an image to its pixels.
ImageMaker = Callable[[int], np.ndarray]


@dataclass(frozen=True)
class Batch:
    """Images ``start .. start + n - 1`` of one (family, problem, split, seed) stream.

    ``images`` is ``[n, height, width]`` uint8 (background 255, ink 0); ``labels`` is ``[n]``
    int64 class indices; ``metadata`` holds one JSON-ready dict of ground truth per image.
    """

    images: np.ndarray
    labels: np.ndarray
    metadata: list[dict[str, Any]] = field(repr=False)


class Family(abc.ABC):
    """A problem family: a pure function from (problem, params, split, seed, index) to images.

    Image ``k`` of a split has label ``k % n_classes``, so every split of ``n_classes * m``
    images is exactly balanced, and any image can be made alone.
    """

    name: str
    version: str
    class_names: tuple[str, ...] = ("class_0", "class_1")
    # The frozen dataclass that ``make_params`` returns and ``generate`` takes.
    params_type: type

    @abc.abstractmethod
    def list_problems(self) -> list[str]:
        """The problem names this family knows (e.g. "1" .. "23")."""

    @abc.abstractmethod
    def list_presets(self) -> dict[str, dict[str, Any]]:
        """Named parameter presets (at least easy / standard / hard)."""

    @abc.abstractmethod
    def make_params(self, problem: str, preset: str = "standard", **overrides: Any) -> Any:
        """Return the frozen parameter object for ``problem``; bad values raise ValueError."""

    @abc.abstractmethod
    def generate(
        self,
        problem: str,
        params: Any,
        *,
        split: str,
        seed: int,
        start: int,
        count: int,
        with_metadata: bool = True,
    ) -> Batch:
        """Make images ``start .. start + count - 1`` of the (problem, split, seed) stream."""

    def open_stream(self, problem: str, params: Any, *, split: str, seed: int) -> ImageMaker:
        """A maker of single images of the (problem, split, seed) stream, without their truth.

        ``make(k)`` gives the pixels of image ``k`` >= 0 (uint8 ``[height, width]``), those
        ``generate`` makes; a negative ``k`` raises ValueError. The pixels may lie in a buffer
        the next call overwrites: copy them to keep them, and give each thread its own maker.
        Families override this to spare the set-up ``generate`` does on every call (buffers,
        parameter vector, stream key), a sizeable part of the cost of one small image.
        """
        self.check_request(problem, params, split=split, seed=seed, start=0, count=1)

        def make(index: int) -> np.ndarray:
            check_image_index(index)
            batch = self.generate(
                problem, params, split=split, seed=seed, start=index, count=1, with_metadata=False
            )
            return batch.images[0]

        return make

    def describe_problem(self, problem: str) -> str:
        """One line saying what separates the classes of ``problem`` (empty if not known)."""
        self.check_problem(problem)
        return ""

    def get_label_preserving_transforms(self, problem: str) -> tuple[str, ...]:
        """The names in ``TRANSFORMS`` that never change the label of an image of ``problem``.

        Training may augment with these and no others. None unless a family declares them:
        a transform is left out wherever it might change a label.
        """
        self.check_problem(problem)
        return ()

    def check_problem(self, problem: str) -> str:
        problems = self.list_problems()
        if problem not in problems:
            raise ValueError(
                f"unknown {self.name} problem {problem!r}; valid problems: {', '.join(problems)}"
            )
        return problem

    def check_request(
        self,
        problem: str,
        params: object,
        *,
        split: object,
        seed: object,
        start: object,
        count: object,
    ) -> None:
        """Refuse an unknown problem, ``params`` that are not a ``params_type``, an empty or
        non-text split, and a seed, start or count that is not an integer >= 0."""
        self.check_problem(problem)
        if not isinstance(params, self.params_type):
            raise ValueError(
                f"params must be {self.params_type.__name__}, got {type(params).__name__}"
            )
        if not isinstance(split, str) or not split:
            raise ValueError(f"split must be a non-empty name, got {split!r}")
        for name, value in (("seed", seed), ("start", start), ("count", count)):
            check_int(name, value, low=0)

    def get_stream_key(self, problem: str, split: str, seed: int) -> int:
        return get_stream_key(self.name, self.version, problem, split, seed)


def check_image_index(index: int) -> None:
    """Refuse a negative image index (a stream's images are numbered from 0)."""
    if index < 0:
        raise ValueError(f"an image index must be >= 0, got {index}")


def check_transforms(names: Iterable[str]) -> tuple[str, ...]:
    """Return ``names`` as a tuple if each is in ``TRANSFORMS`` once, else raise ValueError."""
    if isinstance(names, str):
        raise ValueError(f"transforms must be a sequence of names, got the string {names!r}")
    checked = tuple(names)
    for name in checked:
        if name not in TRANSFORMS:
            raise ValueError(
                f"unknown transform {name!r}; valid transforms: {', '.join(TRANSFORMS)}"
            )
    duplicates = sorted({name for name in checked if checked.count(name) > 1})
    if duplicates:
        raise ValueError(f"transforms are named twice: {', '.join(duplicates)}")
    return checked
