from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from labeler.data.image_folder import (
    detect_channels,
    load_images,
    resize_images,
    scan_image_folder,
)


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
    with pytest.raises(ValueError, match="no image found"):
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

    decoded = load_images(paths, image_size=4)
    images, skipped = decoded.images, decoded.skipped
    assert images.shape == (3, 4, 4) and images.dtype == np.uint8
    assert [Path(path).name for path in decoded.converted] == ["red.jpg", "clear.png"]
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


def test_load_images_grows_small_images_and_names_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_image(tmp_path / "small.png", gray(77, (5, 5)))
    write_image(tmp_path / "big.png", gray(77, (12, 12)))
    decoded = load_images([tmp_path / "small.png", tmp_path / "big.png"], image_size=10)
    assert decoded.skipped == []
    np.testing.assert_array_equal(decoded.images, np.full((2, 10, 10), 77))
    assert decoded.upscaled == [(str(tmp_path / "small.png"), 5, 5)]
    assert "small.png (5 x 5)" in caplog.text


def test_load_images_letterboxes_non_square_images(tmp_path: Path) -> None:
    # A 20 x 10 black image fills the width of a 10 px square: 5 x 10 px of black, centred.
    write_image(tmp_path / "wide.png", gray(0, (20, 10)))
    write_image(tmp_path / "tall.png", gray(0, (4, 16)))
    images = load_images([tmp_path / "wide.png", tmp_path / "tall.png"], image_size=8).images
    wide, tall = images
    assert wide.shape == (8, 8)
    np.testing.assert_array_equal(wide[2:6], 0)
    np.testing.assert_array_equal(wide[:2], 255)
    np.testing.assert_array_equal(wide[6:], 255)
    np.testing.assert_array_equal(tall[:, 3:5], 0)
    np.testing.assert_array_equal(tall[:, :3], 255)
    np.testing.assert_array_equal(tall[:, 5:], 255)


def test_load_images_keeps_colour_when_asked(tmp_path: Path) -> None:
    write_image(tmp_path / "red.png", Image.new("RGB", (6, 6), (255, 0, 0)))
    write_image(tmp_path / "gray.png", gray(40, (6, 6)))
    clear = Image.new("RGBA", (6, 6), (0, 0, 255, 0))
    write_image(tmp_path / "clear.png", clear)
    paths = [tmp_path / name for name in ("red.png", "gray.png", "clear.png")]
    decoded = load_images(paths, image_size=6, channels=3)
    assert decoded.images.shape == (3, 6, 6, 3)
    np.testing.assert_array_equal(decoded.images[0], np.broadcast_to([255, 0, 0], (6, 6, 3)))
    np.testing.assert_array_equal(decoded.images[1], 40)  # gray copied into R, G and B
    np.testing.assert_array_equal(decoded.images[2], 255)  # transparency over white
    assert [Path(path).name for path in decoded.converted] == ["gray.png"]


def test_detect_channels_follows_most_images(tmp_path: Path) -> None:
    write_image(tmp_path / "a.png", Image.new("RGB", (4, 4), (0, 128, 0)))
    write_image(tmp_path / "b.png", gray(9, (4, 4)))
    write_image(tmp_path / "c.png", gray(9, (4, 4)))
    gray_palette = Image.new("P", (4, 4))
    gray_palette.putpalette([value for level in range(256) for value in (level,) * 3])
    write_image(tmp_path / "d.png", gray_palette)
    (tmp_path / "e.png").write_bytes(b"not an image")
    paths = [tmp_path / name for name in ("a.png", "b.png", "c.png", "d.png", "e.png")]
    assert detect_channels(paths) == 1  # one colour, three gray (the palette is gray)
    assert detect_channels(paths[:2]) == 3  # a tie keeps colour
    assert detect_channels([]) == 1


def test_load_images_rejects_a_bad_size_or_channel_count(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"image size must be an integer >= 1, got"):
        load_images([], image_size=0)
    with pytest.raises(ValueError, match=r"1 \(grayscale\) or 3"):
        load_images([], image_size=4, channels=2)


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
    letterboxed = resize_images(wide, 8)
    assert letterboxed.shape == (1, 8, 8)
    np.testing.assert_array_equal(letterboxed[0, 3:5], 0)  # 2 rows of black, centred
    np.testing.assert_array_equal(letterboxed[0, :3], 255)
    colour = np.zeros((2, 8, 8, 3), dtype=np.uint8)
    colour[..., 1] = 200
    shrunk = resize_images(colour, 4)
    assert shrunk.shape == (2, 4, 4, 3)
    np.testing.assert_array_equal(shrunk[..., 1], 200)
    np.testing.assert_array_equal(shrunk[..., 0], 0)
    empty = resize_images(np.zeros((0, 4, 4), dtype=np.uint8), 2)
    assert empty.shape == (0, 2, 2)


def test_resize_images_checks_its_input() -> None:
    with pytest.raises(ValueError, match="uint8 images"):
        resize_images(np.zeros((4, 4), dtype=np.uint8), 2)
    with pytest.raises(ValueError, match="uint8 images"):
        resize_images(np.zeros((1, 4, 4, 2), dtype=np.uint8), 2)
    with pytest.raises(ValueError, match="uint8 images"):
        resize_images(np.zeros((1, 4, 4), dtype=np.float32), 2)
