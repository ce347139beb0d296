"""Contact sheets: each class's first images, pasted unchanged, and the preview command."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from labeler.data.dataset_format import load_split
from labeler.data.preview import make_contact_sheet


def _find(sheet: np.ndarray, image: np.ndarray) -> bool:
    """Whether ``image`` appears somewhere in ``sheet`` pixel for pixel (brute force)."""
    h, w = image.shape
    for y in range(sheet.shape[0] - h + 1):
        for x in range(sheet.shape[1] - w + 1):
            if (sheet[y : y + h, x : x + w] == image).all():
                return True
    return False


def test_sheet_holds_the_first_images_of_each_class() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(10, 6, 7), dtype=np.uint8)
    labels = np.array([0, 1] * 5)
    sheet = np.asarray(make_contact_sheet(images, labels, ("a", "b"), n_per_class=3, n_columns=2))
    for index in (0, 2, 4, 1, 3, 5):
        assert _find(sheet, images[index])
    assert not _find(sheet, images[6]) and not _find(sheet, images[7])
    # Two classes, each a caption and two rows of 6 px images.
    assert sheet.shape[1] == 2 * (7 + 4) + 4


def test_bad_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="n_per_class"):
        make_contact_sheet(
            np.zeros((2, 4, 4), np.uint8), np.array([0, 1]), ("a", "b"), n_per_class=0
        )


def test_preview_command_writes_a_png(
    tiny_dataset: Path, tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    out = tmp_path / "sheet.png"
    result = run_cli("preview", tiny_dataset, "--split", "test", "--n-per-class", "4", "--out", out)
    assert result.code == 0, result.err
    sheet = np.asarray(Image.open(out))
    images, _ = load_split(tiny_dataset, "test")
    assert _find(sheet, np.asarray(images[0]))


def test_preview_of_a_missing_split_is_a_clear_error(
    tiny_dataset: Path, run_cli: Callable[..., Any]
) -> None:
    result = run_cli("preview", tiny_dataset, "--split", "valid")
    assert result.code == 2
    assert "no split 'valid'" in result.err and "train, test" in result.err
