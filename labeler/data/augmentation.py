"""Which label-preserving transforms a project trains with, chosen per dataset.

- A generated dataset folder: the transforms its family declares for the problem (written into
  ``dataset.json``; none for folders written before they were recorded). Some SVRT rules are
  about position or orientation, so each problem declares its own.
- Any other image folder (photos): ``PHOTO_AUGMENTATION``, mirror images and small shifts,
  which keep the label of almost every photo class (not of text, arrows or left/right classes:
  give ``--augment none`` or a list for those).

The vocabulary is ``generators.family.TRANSFORMS``.
"""

from __future__ import annotations

import os
from pathlib import Path

from generators.family import TRANSFORMS, check_transforms
from labeler.data.dataset_format import INFO_FILE, load_dataset_info

AUGMENT_MODES = ("auto", "none")
PHOTO_AUGMENTATION = ("hflip", "shift")


def choose_augmentation(source: str | os.PathLike[str], requested: str = "auto") -> tuple[str, ...]:
    """The transforms for images from ``source``: ``requested`` is "auto" (the default for the
    source, module docstring), "none", or a comma-separated list of ``TRANSFORMS``."""
    if requested == "none":
        return ()
    if requested != "auto":
        return parse_augmentation(requested)
    folder = Path(source)
    if (folder / INFO_FILE).is_file():
        return load_dataset_info(folder).label_preserving_transforms
    return PHOTO_AUGMENTATION


def parse_augmentation(text: str) -> tuple[str, ...]:
    """``"hflip,shift"`` -> ``("hflip", "shift")``; ValueError naming the valid transforms."""
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise ValueError(
            f"--augment {text!r} names no transform; give auto, none or a list of "
            f"{', '.join(TRANSFORMS)}"
        )
    return check_transforms(names)
