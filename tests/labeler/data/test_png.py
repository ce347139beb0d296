"""The PNG encoder, checked against Pillow's decoder."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from labeler.data.png import encode_png


@pytest.mark.parametrize("shape", [(1, 1), (16, 16), (7, 33), (128, 128)])
def test_pillow_decodes_the_same_pixels(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(shape))
    image = rng.integers(0, 256, size=shape, dtype=np.uint8)
    with Image.open(io.BytesIO(encode_png(image))) as png:
        assert png.mode == "L"
        assert png.size == (shape[1], shape[0])
        np.testing.assert_array_equal(np.asarray(png), image)


def test_the_bytes_depend_only_on_the_pixels() -> None:
    image = np.full((8, 8), 255, dtype=np.uint8)
    image[2:5, 3] = 0
    assert encode_png(image) == encode_png(image.copy())


def test_colour_images_decode_to_the_same_pixels() -> None:
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, size=(5, 7, 3), dtype=np.uint8)
    with Image.open(io.BytesIO(encode_png(image))) as png:
        assert png.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(png), image)


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((4, 4), dtype=np.float32),
        np.zeros((4, 4, 4), dtype=np.uint8),
        np.zeros((2, 4, 4, 3), dtype=np.uint8),
    ],
)
def test_only_gray_or_rgb_uint8_images_are_taken(image: np.ndarray) -> None:
    with pytest.raises(ValueError, match="uint8"):
        encode_png(image)
