"""The counting family: how many closed shapes does the image show?"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from generators.counting.kernel import (
    F_AREA,
    F_CX,
    F_CY,
    F_INK,
    F_RADIUS,
    F_ROTATION,
    F_TARGET_INK,
    F_X0,
    F_X1,
    F_Y0,
    F_Y1,
    I_CLEARANCE,
    I_CLOSEST_A,
    I_CLOSEST_B,
    I_TOTAL_TARGET,
    N_FIELDS,
    N_IMAGE_FIELDS,
    generate_images,
)
from generators.counting.params import (
    MAX_COUNT,
    MIN_COUNT,
    N_CLASSES,
    PRESETS,
    CountingParams,
    make_counting_params,
)
from generators.family import Batch, Family, ImageMaker, check_image_index
from generators.presets import copy_presets

PROBLEMS = ("shapes",)

# Every transform keeps the number of shapes: flips and quarter turns move whole shapes
# inside the square, and the border every image keeps is wider than the largest shift.
_TRANSFORMS = ("hflip", "vflip", "rot90", "shift")


class CountingFamily(Family):
    """Class k: the image shows k + 1 closed random contours (1 to 6), apart from each other.

    The shapes are the SVRT family's random contours. An image's total ink is drawn
    independently of its count and shared among its shapes, so neither the amount of ink
    nor any one shape's size alone gives the count away.
    """

    name = "counting"
    version = "1"
    params_type = CountingParams
    class_names = tuple(str(count) for count in range(MIN_COUNT, MAX_COUNT + 1))

    def list_problems(self) -> list[str]:
        return list(PROBLEMS)

    def list_presets(self) -> dict[str, dict[str, Any]]:
        return copy_presets(PRESETS)

    def describe_problem(self, problem: str) -> str:
        self.check_problem(problem)
        return (
            f"class k: k + 1 closed shapes ({MIN_COUNT} to {MAX_COUNT}), none touching or "
            "inside another; the total ink is the same range for every count"
        )

    def get_label_preserving_transforms(self, problem: str) -> tuple[str, ...]:
        self.check_problem(problem)
        return _TRANSFORMS

    def make_params(
        self, problem: str, preset: str = "standard", **overrides: Any
    ) -> CountingParams:
        self.check_problem(problem)
        return make_counting_params(preset, **overrides)

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
        """Make images ``start .. start + count - 1`` of the (problem, split, seed) stream.

        ``images`` is ``[count, image_size, image_size]`` uint8 (background 255, ink 0);
        image k has label ``k % 6`` and shows ``k % 6 + 1`` shapes.
        """
        self.check_request(problem, params, split=split, seed=seed, start=start, count=count)
        size = params.image_size
        images = np.empty((count, size, size), dtype=np.uint8)
        tables = np.full((count, MAX_COUNT, N_FIELDS), np.nan, dtype=np.float64)
        image_values = np.full((count, N_IMAGE_FIELDS), np.nan, dtype=np.float64)
        stream_key = np.uint64(self.get_stream_key(problem, split, int(seed)))
        failed = generate_images(
            stream_key, int(start), params.to_vector(), images, tables, image_values
        )
        if failed >= 0:
            raise _placement_error(int(start) + failed, params)
        labels = np.arange(start, start + count, dtype=np.int64) % N_CLASSES
        metadata = []
        if with_metadata:
            # Python floats from one tolist() are much cheaper than numpy scalars one by one.
            rows = tables.tolist()
            values = image_values.tolist()
            metadata = [
                self._make_metadata(problem, int(start) + k, label, rows[k], values[k])
                for k, label in enumerate(labels.tolist())
            ]
        return Batch(images=images, labels=labels, metadata=metadata)

    def open_stream(self, problem: str, params: Any, *, split: str, seed: int) -> ImageMaker:
        """``Family.open_stream`` with the parameters and buffers set up once."""
        self.check_request(problem, params, split=split, seed=seed, start=0, count=1)
        size = params.image_size
        images = np.empty((1, size, size), dtype=np.uint8)
        tables = np.empty((1, MAX_COUNT, N_FIELDS), dtype=np.float64)
        image_values = np.empty((1, N_IMAGE_FIELDS), dtype=np.float64)
        vector = params.to_vector()
        stream_key = np.uint64(self.get_stream_key(problem, split, int(seed)))

        def make(index: int) -> np.ndarray:
            check_image_index(index)
            if generate_images(stream_key, index, vector, images, tables, image_values) >= 0:
                raise _placement_error(index, params)
            return images[0]

        return make

    def _make_metadata(
        self,
        problem: str,
        index: int,
        label: int,
        table: list[list[float]],
        values: list[float],
    ) -> dict[str, Any]:
        """One image's ground truth. Lengths in px, ``bbox`` [x0, y0, x1, y1] inclusive ink
        bounds, ``rotation_deg`` clockwise on screen; ``clearance``: the fewest clear pixels
        between two shapes' filled areas (None for one shape), between shapes ``closest``."""
        n_shapes = MIN_COUNT + label
        shapes = [
            _make_shape_metadata(shape_id, row) for shape_id, row in enumerate(table[:n_shapes])
        ]
        single = math.isnan(values[I_CLEARANCE])
        return {
            "problem": problem,
            "index": index,
            "label": label,
            "class_name": self.class_names[label],
            "count": n_shapes,
            "total_ink": sum(shape["ink"] for shape in shapes),
            "target_ink": round(values[I_TOTAL_TARGET], 3),
            "clearance": None if single else int(values[I_CLEARANCE]),
            "closest": None if single else [int(values[I_CLOSEST_A]), int(values[I_CLOSEST_B])],
            "shapes": shapes,
        }


def _make_shape_metadata(shape_id: int, row: list[float]) -> dict[str, Any]:
    return {
        "id": shape_id,
        "centre": [int(row[F_CX]), int(row[F_CY])],
        "bbox": [int(row[F_X0]), int(row[F_Y0]), int(row[F_X1]), int(row[F_Y1])],
        "radius": round(row[F_RADIUS], 3),
        "rotation_deg": round(math.degrees(row[F_ROTATION]) % 360.0, 3),
        "ink": int(row[F_INK]),
        "area": int(row[F_AREA]),
        "target_ink": round(row[F_TARGET_INK], 3),
    }


def _placement_error(index: int, params: CountingParams) -> RuntimeError:
    return RuntimeError(
        f"counting could not place the shapes of image {index} with {params}; lower "
        "max_total_ink or min_gap, or raise image_size"
    )
