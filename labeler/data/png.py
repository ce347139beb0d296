"""Encode 8-bit grayscale PNG files, several times faster than Pillow for small images.

Generated datasets write one PNG per image, so encoding speed bounds generation speed. This is
the plain PNG of the spec (one IHDR, one IDAT, no ancillary chunks, filter type 0 on every row)
which every decoder reads; its bytes depend only on the pixels and zlib.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Levels 1-3 use zlib's fast matcher; 3 gives smaller files than 1 for the same time on our
# line drawings, while 6 costs four times as much for a few hundred bytes.
_COMPRESS_LEVEL = 3


def encode_gray_png(image: np.ndarray) -> bytes:
    """Return the PNG bytes of ``image``, a ``[height, width]`` uint8 array (0 black, 255 white)."""
    if image.ndim != 2 or image.dtype != np.uint8:
        raise ValueError(
            f"expected a [height, width] uint8 image, got shape {image.shape} dtype {image.dtype}"
        )
    height, width = image.shape
    # Each row is prefixed with its filter type byte (0 = none).
    rows = np.zeros((height, width + 1), dtype=np.uint8)
    rows[:, 1:] = image
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grayscale
    return b"".join(
        (
            _SIGNATURE,
            _make_chunk(b"IHDR", header),
            _make_chunk(b"IDAT", zlib.compress(rows.tobytes(), _COMPRESS_LEVEL)),
            _make_chunk(b"IEND", b""),
        )
    )


def _make_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
