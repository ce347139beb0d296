from pathlib import Path

import pytest
from PIL import Image

from labeler.data.input_size import (
    MIN_IMAGE_SIZE,
    PHOTO_IMAGE_SIZE,
    SIZE_SAMPLE,
    choose_image_size,
    get_typical_side,
)


def write_images(root: Path, sizes: list[tuple[int, int]]) -> Path:
    for index, size in enumerate(sizes):
        path = root / "cls" / f"{index:03d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("L", size, 128).save(path)
    return root


def test_photos_larger_than_the_default_are_seen_at_the_default(tmp_path: Path):
    folder = write_images(tmp_path / "big", [(300, 200)] * 3)
    assert choose_image_size(folder) == PHOTO_IMAGE_SIZE


def test_small_images_are_never_enlarged_by_default(tmp_path: Path):
    folder = write_images(tmp_path / "small", [(32, 32)] * 4 + [(28, 20), (200, 100)])
    assert get_typical_side(folder) == 32
    assert choose_image_size(folder) == 32
    assert choose_image_size(folder, 48) == 48  # asked for: enlarged as asked


def test_tiny_images_stop_at_the_smallest_supported_size(tmp_path: Path):
    folder = write_images(tmp_path / "tiny", [(4, 4)] * 2)
    assert choose_image_size(folder) == MIN_IMAGE_SIZE


def test_only_a_sample_of_headers_is_read(tmp_path: Path):
    # More images than the sample: the median of the spread picks, not of all.
    folder = write_images(tmp_path / "many", [(16, 16)] * (SIZE_SAMPLE * 2) + [(100, 100)])
    assert choose_image_size(folder) == 16


def test_unreadable_files_are_passed_over(tmp_path: Path):
    folder = write_images(tmp_path / "mixed", [(24, 24)])
    (folder / "cls" / "broken.png").write_bytes(b"not an image")
    assert choose_image_size(folder) == 24
    only_broken = tmp_path / "broken"
    (only_broken / "cls").mkdir(parents=True)
    (only_broken / "cls" / "a.png").write_bytes(b"nope")
    assert choose_image_size(only_broken) == PHOTO_IMAGE_SIZE


def test_a_missing_folder_is_a_clear_error(tmp_path: Path):
    with pytest.raises(ValueError, match="does not exist"):
        choose_image_size(tmp_path / "nowhere")
