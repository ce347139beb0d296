"""What every generator family offers: problems, presets, and batches of images with truth."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from generators.rng import get_stream_key


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

    def describe_problem(self, problem: str) -> str:
        """One line saying what separates the classes of ``problem`` (empty if not known)."""
        self.check_problem(problem)
        return ""

    def check_problem(self, problem: str) -> str:
        problems = self.list_problems()
        if problem not in problems:
            raise ValueError(
                f"unknown {self.name} problem {problem!r}; valid problems: {', '.join(problems)}"
            )
        return problem

    def get_stream_key(self, problem: str, split: str, seed: int) -> int:
        return get_stream_key(self.name, self.version, problem, split, seed)
