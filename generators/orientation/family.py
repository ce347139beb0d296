"""The orientation family: one elongated object (or several), horizontal or vertical."""

from __future__ import annotations

from typing import Any

import numpy as np

from generators.family import Batch, Family
from generators.orientation.kernel import (
    F_CX,
    F_CY,
    F_FAMILY,
    F_FLIP,
    F_JITTER,
    F_LENGTH,
    F_MIRROR,
    F_ROTATION,
    F_VARIANT,
    F_WIDTH,
    F_X0,
    F_X1,
    F_Y0,
    F_Y1,
    N_FIELDS,
    generate_images,
)
from generators.orientation.objects import VARIANT_NAMES
from generators.orientation.params import (
    OBJECT_FAMILIES,
    PRESETS,
    OrientationParams,
    make_orientation_params,
)
from generators.presets import copy_presets

PROBLEMS = ("hv",)

# A mirror keeps the long axis's tilt from horizontal (and from vertical), so the class; a
# quarter turn swaps the classes. No "shift": objects keep only a 1-px margin, and a thin one
# along the edge could leave the image.
_TRANSFORMS = ("hflip", "vflip")


class OrientationFamily(Family):
    """Horizontal (class 0) vs vertical (class 1) long axes of elongated objects.

    Object families: bar, ellipse and arrow outlines, letter-like polylines (L, T, Z, I, U, E),
    stretched random contours (blob), zigzags and crosses. Each object is mirrored across its
    long axis and turned by 180 degrees at random, so only the axis separates the classes.
    """

    name = "orientation"
    version = "1"
    params_type = OrientationParams
    class_names = ("horizontal", "vertical")

    def list_problems(self) -> list[str]:
        return list(PROBLEMS)

    def list_presets(self) -> dict[str, dict[str, Any]]:
        return copy_presets(PRESETS)

    def describe_problem(self, problem: str) -> str:
        self.check_problem(problem)
        return (
            "0: the object's long axis is horizontal | 1: vertical (with angular jitter); "
            f"object families: {', '.join(OBJECT_FAMILIES)}"
        )

    def get_label_preserving_transforms(self, problem: str) -> tuple[str, ...]:
        self.check_problem(problem)
        return _TRANSFORMS

    def make_params(
        self, problem: str, preset: str = "standard", **overrides: Any
    ) -> OrientationParams:
        self.check_problem(problem)
        return make_orientation_params(preset, **overrides)

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
        image k has label ``k % 2``. Object families come from
        ``params.get_split_families(split)`` (held-out families only outside "train").
        """
        self.check_request(problem, params, split=split, seed=seed, start=start, count=count)
        size = params.image_size
        images = np.empty((count, size, size), dtype=np.uint8)
        tables = np.zeros((count, params.n_objects, N_FIELDS), dtype=np.float64)
        codes = np.array(
            [OBJECT_FAMILIES.index(f) for f in params.get_split_families(split)], dtype=np.int64
        )
        stream_key = np.uint64(self.get_stream_key(problem, split, int(seed)))
        generate_images(stream_key, int(start), params.to_vector(), codes, images, tables)
        labels = (np.arange(start, start + count, dtype=np.int64)) % 2
        metadata = []
        if with_metadata:
            # Python floats from one tolist() are much cheaper than numpy scalars one by one.
            rows = tables.tolist()
            metadata = [
                self._make_metadata(problem, int(start) + k, k_label, rows[k], size)
                for k, k_label in enumerate(labels.tolist())
            ]
        return Batch(images=images, labels=labels, metadata=metadata)

    def _make_metadata(
        self, problem: str, index: int, label: int, table: list[list[float]], size: int
    ) -> dict[str, Any]:
        orientation = self.class_names[label]
        return {
            "problem": problem,
            "index": index,
            "label": label,
            "class_name": orientation,
            "orientation": orientation,
            "objects": [_make_object_metadata(row, size) for row in table],
        }


def _make_object_metadata(row: list[float], size: int) -> dict[str, Any]:
    """One object's ground truth (a row of the kernel's table, fields ``F_*``).

    Lengths are in px; ``bbox`` is [x0, y0, x1, y1], inclusive ink pixel bounds; angles are
    in degrees clockwise on screen from +x (y points down): ``rotation`` in [0, 360) is the
    object's pose (its nominal axis, jitter, and 180 when flipped), ``axis_angle`` in [0, 180)
    the direction of its long axis (horizontal near 0 or 180, vertical near 90), ``jitter``
    the signed tilt away from the nominal axis. ``scale`` is the length / image size.
    """
    code = int(row[F_FAMILY])
    # Rounded before folding, so that 359.9999 reads 0.0 rather than 360.0.
    rotation = round(round(row[F_ROTATION], 3) % 360.0, 3)
    truth: dict[str, Any] = {
        "family": OBJECT_FAMILIES[code],
        "centre": [row[F_CX], row[F_CY]],
        "bbox": [int(row[F_X0]), int(row[F_Y0]), int(row[F_X1]), int(row[F_Y1])],
        "length": round(row[F_LENGTH], 3),
        "width": round(row[F_WIDTH], 3),
        "scale": round(row[F_LENGTH] / size, 5),
        "rotation": rotation,
        "axis_angle": round(rotation % 180.0, 3),
        "jitter": round(row[F_JITTER], 3),
        "mirror": row[F_MIRROR] > 0.5,
        "flip": row[F_FLIP] > 0.5,
    }
    variant = int(row[F_VARIANT])
    if code in VARIANT_NAMES:
        truth["variant"] = VARIANT_NAMES[code][variant]
    return truth
