"""The side of the square images a dataset is stored and seen at, chosen per dataset.

- A generated dataset folder: its native size, capped at ``GENERATED_SIZE_CAP`` (its rules are
  about shapes that must survive the shrinking; SVRT is drawn at 128 px).
- Any other image folder (photos, scans): ``PHOTO_IMAGE_SIZE``, or the images' own size when
  they are smaller (the median of the larger side of up to ``SIZE_SAMPLE`` of them, evenly
  spread over the sorted files): enlarging an image adds no information and costs compute, so
  a source is never enlarged by default.

``--image-size`` overrides either, within ``MIN_IMAGE_SIZE`` .. ``MAX_IMAGE_SIZE``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from generators.checks import check_int
from labeler.data.dataset_format import INFO_FILE, load_dataset_info
from labeler.data.image_folder import scan_image_folder

MIN_IMAGE_SIZE = 8
# Large enough for pretrained backbones at their usual scale; a 10,000-image colour pool at this
# size is 2 GB on disk, memory-mapped.
MAX_IMAGE_SIZE = 256
GENERATED_SIZE_CAP = 64
PHOTO_IMAGE_SIZE = 64
# Image headers read to tell a folder's typical size (a few milliseconds each).
SIZE_SAMPLE = 64


def check_image_size(size: Any) -> int:
    """``size`` if it is an integer in the supported range, else ValueError giving the range."""
    return check_int("image size", size, low=MIN_IMAGE_SIZE, high=MAX_IMAGE_SIZE)


def choose_image_size(source: str | os.PathLike[str], requested: int | None = None) -> int:
    """``requested`` (checked) when given, else the default for ``source`` (module docstring)."""
    if requested is not None:
        return check_image_size(requested)
    folder = Path(source)
    if (folder / INFO_FILE).is_file():
        info = load_dataset_info(folder)
        native = max(info.image_height, info.image_width)
        return max(MIN_IMAGE_SIZE, min(native, GENERATED_SIZE_CAP))
    native = get_typical_side(folder)
    return max(MIN_IMAGE_SIZE, min(native, PHOTO_IMAGE_SIZE))


def get_typical_side(folder: Path) -> int:
    """The median larger side, in pixels, of up to ``SIZE_SAMPLE`` images of the image folder
    ``folder`` (only their headers are read; unreadable files are passed over, as ``init``
    passes over them, and ``PHOTO_IMAGE_SIZE`` stands when none is readable). Raises
    ValueError as ``scan_image_folder`` does."""
    scan = scan_image_folder(folder)
    picks = np.unique(np.linspace(0, scan.n_images - 1, num=min(SIZE_SAMPLE, scan.n_images)))
    sides = []
    for index in picks.astype(int):
        path = scan.get_path(scan.images[index])
        try:
            with Image.open(path) as image:
                sides.append(max(image.size))
        except OSError:
            continue
    return int(np.median(sides)) if sides else PHOTO_IMAGE_SIZE
