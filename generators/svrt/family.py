"""The SVRT family: the 23 problems behind the common ``Family`` interface."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from generators.canvas import (
    F_CONTAINER,
    F_CX,
    F_CY,
    F_INK,
    F_MIRROR,
    F_PROTOTYPE,
    F_ROTATION,
    F_SCALE,
    F_TOUCHES,
    F_USED,
    F_X0,
    F_X1,
    F_Y0,
    F_Y1,
)
from generators.family import Batch, Family, ImageMaker, check_image_index
from generators.presets import copy_presets
from generators.svrt.common import make_buffers
from generators.svrt.params import PRESETS, SVRTParams, make_svrt_params
from generators.svrt.problems import KERNELS, LABEL_PRESERVING_TRANSFORMS, RULES, WITNESS_NAMES

# Checked on every ``generate`` call (an on-the-fly dataset makes one call per image).
PROBLEMS = tuple(str(p) for p in sorted(KERNELS))


class SVRTFamily(Family):
    """The 23 two-class problems of the Synthetic Visual Reasoning Test (clean-room rules)."""

    name = "svrt"
    version = "1"
    params_type = SVRTParams
    class_names = ("class_0", "class_1")

    def list_problems(self) -> list[str]:
        return list(PROBLEMS)

    def list_presets(self) -> dict[str, dict[str, Any]]:
        return copy_presets(PRESETS)

    def describe_problem(self, problem: str) -> str:
        return RULES[int(self.check_problem(problem))]

    def get_label_preserving_transforms(self, problem: str) -> tuple[str, ...]:
        return LABEL_PRESERVING_TRANSFORMS[int(self.check_problem(problem))]

    def make_params(self, problem: str, preset: str = "standard", **overrides: Any) -> SVRTParams:
        return make_svrt_params(int(self.check_problem(problem)), preset, **overrides)

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
        number = self._check_params(problem, params)
        if start < 0 or count < 0:
            raise ValueError(f"start and count must be >= 0, got start={start}, count={count}")
        kernel = KERNELS[number]
        vector = params.to_vector()
        size = params.image_size
        images, tables, witnesses = make_buffers(count, size)
        canvas = np.zeros((3, size, size), dtype=np.uint8)
        labels = (np.arange(start, start + count, dtype=np.int64)) % 2
        key = np.uint64(self.get_stream_key(problem, split, seed))
        for i in range(count):
            if not kernel(key, start + i, vector, canvas, images, tables, witnesses, i):
                raise _placement_error(number, start + i, params)
        metadata: list[dict[str, Any]] = []
        if with_metadata:
            names = WITNESS_NAMES[number]
            for i in range(count):
                metadata.append(
                    make_metadata(number, start + i, int(labels[i]), tables[i], witnesses[i], names)
                )
        return Batch(images=images, labels=labels, metadata=metadata)

    def _check_params(self, problem: str, params: Any) -> int:
        """The number of ``problem``; ValueError unless ``params`` are SVRTParams for it."""
        number = int(self.check_problem(problem))
        if not isinstance(params, SVRTParams) or params.problem != number:
            raise ValueError(f"params must be SVRTParams for problem {number}, got {params!r}")
        return number

    def open_stream(self, problem: str, params: Any, *, split: str, seed: int) -> ImageMaker:
        """``Family.open_stream`` with the kernel, its parameters and buffers set up once."""
        self.check_request(problem, params, split=split, seed=seed, start=0, count=1)
        number = self._check_params(problem, params)
        kernel = KERNELS[number]
        vector = params.to_vector()
        images, tables, witnesses = make_buffers(1, params.image_size)
        canvas = np.zeros((3, params.image_size, params.image_size), dtype=np.uint8)
        key = np.uint64(self.get_stream_key(problem, split, seed))

        def make(index: int) -> np.ndarray:
            check_image_index(index)
            if not kernel(key, index, vector, canvas, images, tables, witnesses, 0):
                raise _placement_error(number, index, params)
            return images[0]

        return make


def _placement_error(number: int, index: int, params: SVRTParams) -> RuntimeError:
    return RuntimeError(
        f"SVRT problem {number} could not place the shapes of image {index} with {params}; "
        "try a larger image_size or a smaller radius_scale"
    )


def make_metadata(
    problem: int,
    index: int,
    label: int,
    table: np.ndarray,
    witness: np.ndarray,
    witness_names: tuple[str, ...],
) -> dict[str, Any]:
    """The JSON-ready ground truth of one image from its shape table and witness vector.

    Angles are in degrees, positions in pixels (x right, y down), boxes inclusive.
    """
    # Plain Python numbers from the start: per-element numpy scalars made this the slowest
    # step of generation.
    rows = table.tolist()
    shapes: list[dict[str, Any]] = []
    for shape_id, row in enumerate(rows):
        if row[F_USED] == 0:
            continue
        touches = int(row[F_TOUCHES])
        container = int(row[F_CONTAINER])
        shapes.append(
            {
                "id": shape_id,
                "centre": [int(row[F_CX]), int(row[F_CY])],
                "bbox": [int(row[F_X0]), int(row[F_Y0]), int(row[F_X1]), int(row[F_Y1])],
                "scale": round(row[F_SCALE], 6),
                "rotation_deg": round(math.degrees(row[F_ROTATION]), 4),
                "mirror": row[F_MIRROR] != 0,
                "prototype": int(row[F_PROTOTYPE]),
                "inside": None if container < 0 else container,
                "ink": int(row[F_INK]),
                "touches": [j for j in range(len(rows)) if touches >> j & 1],
            }
        )
    return {
        "problem": problem,
        "index": index,
        "label": label,
        "shapes": shapes,
        "relations": get_relations(shapes),
        "witness": {
            name: (None if math.isnan(value) else round(value, 4))
            for name, value in zip(witness_names, witness.tolist(), strict=False)
        },
    }


def get_relations(shapes: list[dict[str, Any]]) -> dict[str, Any]:
    """Which shapes are copies (same prototype), inside which, touching, and how far apart."""
    groups: dict[int, list[int]] = {}
    for shape in shapes:
        groups.setdefault(shape["prototype"], []).append(shape["id"])
    distances = []
    touching = []
    for i, a in enumerate(shapes):
        for b in shapes[i + 1 :]:
            d = math.hypot(a["centre"][0] - b["centre"][0], a["centre"][1] - b["centre"][1])
            distances.append([a["id"], b["id"], round(d, 4)])
            if b["id"] in a["touches"]:
                touching.append([a["id"], b["id"]])
    return {
        "copies": [ids for ids in groups.values() if len(ids) > 1],
        "inside": [[s["id"], s["inside"]] for s in shapes if s["inside"] is not None],
        "touching": touching,
        "centre_distances": distances,
    }
