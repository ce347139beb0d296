"""Contact sheets: a grid of a dataset's images, one row band per class, as one PNG."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

_GAP = 4
_LABEL_HEIGHT = 14
_FRAME = 200  # grey between images, so that white backgrounds stay apart


def make_contact_sheet(
    images: np.ndarray,
    labels: np.ndarray,
    class_names: tuple[str, ...],
    *,
    n_per_class: int = 8,
    n_columns: int = 8,
    title: str = "",
) -> Image.Image:
    """Return a grayscale sheet with the first ``n_per_class`` images of each class.

    ``images`` is ``[n, height, width]`` uint8 (may be a memory map), ``labels`` ``[n]``; each
    class gets its own band of rows under a caption with its index and name.
    """
    if n_per_class < 1 or n_columns < 1:
        raise ValueError(
            f"n_per_class and n_columns must be positive, got {n_per_class}, {n_columns}"
        )
    height, width = images.shape[1:]
    n_columns = min(n_columns, n_per_class)
    n_rows = -(-n_per_class // n_columns)
    band = _LABEL_HEIGHT + n_rows * (height + _GAP)
    top = _LABEL_HEIGHT if title else 0
    sheet = Image.new(
        "L", (n_columns * (width + _GAP) + _GAP, top + len(class_names) * band + _GAP), _FRAME
    )
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    if title:
        draw.text((_GAP, 1), title, fill=0, font=font)
    for label, name in enumerate(class_names):
        y0 = top + label * band
        indices = np.flatnonzero(np.asarray(labels) == label)[:n_per_class]
        draw.text((_GAP, y0 + 1), f"{label}: {name} ({len(indices)} shown)", fill=0, font=font)
        for k, index in enumerate(indices):
            x = _GAP + (k % n_columns) * (width + _GAP)
            y = y0 + _LABEL_HEIGHT + (k // n_columns) * (height + _GAP)
            sheet.paste(Image.fromarray(np.asarray(images[index])), (x, y))
    return sheet
