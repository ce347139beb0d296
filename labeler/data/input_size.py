"""The side of the square images a dataset is stored and seen at, chosen per dataset.

- A generated dataset folder: its native size, capped at ``GENERATED_SIZE_CAP`` (its rules are
  about shapes that must survive the shrinking; SVRT is drawn at 128 px).
- Any other image folder (photos): ``PHOTO_IMAGE_SIZE``.

``--image-size`` overrides either, within ``MIN_IMAGE_SIZE`` .. ``MAX_IMAGE_SIZE``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from generators.checks import check_int
from labeler.data.dataset_format import INFO_FILE, load_dataset_info

MIN_IMAGE_SIZE = 8
# Large enough for pretrained backbones at their usual scale; a 10,000-image colour pool at this
# size is 2 GB on disk, memory-mapped.
MAX_IMAGE_SIZE = 256
GENERATED_SIZE_CAP = 64
PHOTO_IMAGE_SIZE = 64


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
    return PHOTO_IMAGE_SIZE
