from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from labeler.data.image_folder import load_images, resize_images, scan_image_folder


def write_image(path: Path, image: Image.Image) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def gray(value: int, size: tuple[int, int] = (12, 12)) -> Image.Image:
    return Image.new("L", size, value)


# --- scanning ----------------------------------------------------------------------------------


def test_scan_a_flat_folder(tmp_path: Path) -> None:
    for name in ("b.png", "a.JPG", "c.jpeg"):
        write_image(tmp_path / name, gray(0).convert("RGB"))
    (tmp_path / "readme.txt").write_text("x")
    write_image(tmp_path / ".hidden.png", gray(0))
    scan = scan_image_folder(tmp_path)
    assert (scan.layout, scan.has_splits, scan.class_names) == ("flat", False, ())
    assert [image.relpath for image in scan.images] == ["a.JPG", "b.png", "c.jpeg"]
    assert all(image.class_name is None and image.split is None for image in scan.images)
    assert scan.n_other_files == 1
    assert scan.get_path(scan.images[0]) == tmp_path / "a.JPG"


def test_scan_class_folders(tmp_path: Path) -> None:
    write_image(tmp_path / "zebra" / "1.png", gray(0))
    write_image(tmp_path / "ant" / "deep" / "2.png", gray(0))
    write_image(tmp_path / "ant" / "1.png", gray(0))
    (tmp_path / "empty").mkdir()
    scan = scan_image_folder(tmp_path)
    assert scan.layout == "classes"
    assert scan.class_names == ("ant", "zebra")
    assert [(image.relpath, image.class_name) for image in scan.images] == [
        ("ant/1.png", "ant"),
        ("ant/deep/2.png", "ant"),
        ("zebra/1.png", "zebra"),
    ]


def test_scan_split_folders(tmp_path: Path) -> None:
    write_image(tmp_path / "train" / "a" / "1.png", gray(0))
    write_image(tmp_path / "train" / "b" / "1.png", gray(0))
    write_image(tmp_path / "test" / "c" / "1.png", gray(0))
    scan = scan_image_folder(tmp_path)
    assert (scan.layout, scan.has_splits) == ("classes", True)
    assert scan.class_names == ("a", "b", "c")
    assert [(image.split, image.class_name) for image in scan.images] == [
        ("test", "c"),
        ("train", "a"),
        ("train", "b"),
    ]


def test_scan_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        scan_image_folder(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="no PNG or JPEG image found"):
        scan_image_folder(tmp_path / "empty")
    mixed = tmp_path / "mixed"
    write_image(mixed / "loose.png", gray(0))
    write_image(mixed / "cat" / "1.png", gray(0))
    with pytest.raises(ValueError, match=r"holds both images \(1, e.g. loose.png\)"):
        scan_image_folder(mixed)
    split = tmp_path / "split"
    write_image(split / "train" / "a" / "1.png", gray(0))
    write_image(split / "test" / "1.png", gray(0))
    with pytest.raises(ValueError, match="must both hold class folders"):
        scan_image_folder(split)


# --- decoding ----------------------------------------------------------------------------------


def test_load_images_converts_resizes_and_skips_bad_files(tmp_path: Path) -> None:
    paths = []
    # A 2x2 checker of 16 px blocks (values 0 and 200) shrinks to a mean of 100 at 2 px blocks.
    checker = np.kron(np.array([[0, 200], [200, 0]], dtype=np.uint8), np.ones((16, 16), np.uint8))
    write_image(tmp_path / "checker.png", Image.fromarray(checker))
    paths.append(tmp_path / "checker.png")
    write_image(tmp_path / "red.jpg", Image.new("RGB", (8, 8), (255, 0, 0)))
    paths.append(tmp_path / "red.jpg")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    paths.append(tmp_path / "broken.png")
    clear = Image.new("RGBA", (8, 8), (0, 0, 0, 0))  # fully transparent black
    write_image(tmp_path / "clear.png", clear)
    paths.append(tmp_path / "clear.png")
    buffer = io.BytesIO()
    gray(50, (64, 64)).save(buffer, format="PNG")
    (tmp_path / "truncated.png").write_bytes(buffer.getvalue()[:60])
    paths.append(tmp_path / "truncated.png")
    paths.append(tmp_path / "missing.png")

    images, skipped = load_images(paths, image_size=4)
    assert images.shape == (3, 4, 4) and images.dtype == np.uint8
    np.testing.assert_array_equal(
        images[0], np.kron(np.array([[0, 200], [200, 0]]), np.ones((2, 2)))
    )
    # Pure red is luminance 0.299 * 255 = 76 (JPEG may shift it by a few levels).
    assert abs(int(images[1].mean()) - 76) <= 3
    np.testing.assert_array_equal(images[2], 255)  # transparency lies over white
    assert [Path(path).name for path, _ in skipped] == [
        "broken.png",
        "truncated.png",
        "missing.png",
    ]
    assert all(reason for _, reason in skipped)


def test_load_images_grows_small_images(tmp_path: Path) -> None:
    write_image(tmp_path / "small.png", gray(77, (3, 5)))
    images, skipped = load_images([tmp_path / "small.png"], image_size=10)
    assert skipped == []
    np.testing.assert_array_equal(images, np.full((1, 10, 10), 77))


def test_load_images_rejects_a_bad_size(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        load_images([], image_size=0)


# --- resizing ----------------------------------------------------------------------------------


def test_resize_images_area_average_when_shrinking() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(3, 8, 8), dtype=np.uint8)
    resized = resize_images(images, 4)
    expected = images.reshape(3, 4, 2, 4, 2).astype(float).mean(axis=(2, 4))
    assert resized.dtype == np.uint8
    assert np.abs(resized.astype(float) - expected).max() <= 0.5 + 1e-9


def test_resize_images_identity_and_growing() -> None:
    images = np.full((2, 5, 5), 42, dtype=np.uint8)
    assert resize_images(images, 5) is images
    grown = resize_images(images, 9)
    np.testing.assert_array_equal(grown, np.full((2, 9, 9), 42))
    wide = np.zeros((1, 4, 16), dtype=np.uint8)
    assert resize_images(wide, 8).shape == (1, 8, 8)
    empty = resize_images(np.zeros((0, 4, 4), dtype=np.uint8), 2)
    assert empty.shape == (0, 2, 2)


def test_resize_images_checks_its_input() -> None:
    with pytest.raises(ValueError, match="uint8 images"):
        resize_images(np.zeros((4, 4), dtype=np.uint8), 2)
    with pytest.raises(ValueError, match="uint8 images"):
        resize_images(np.zeros((1, 4, 4), dtype=np.float32), 2)
