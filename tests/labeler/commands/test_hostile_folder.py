"""``labeler init`` on a hostile image folder: every kind of broken, odd or malicious file.

The good ones are imported (EXIF orientation applied, odd modes converted), the bomb is
refused before its pixels are allocated, and every refused file is listed with its reason."""

from __future__ import annotations

import io
import resource
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from labeler.store.project import open_project

SIZE = 16


def _arrow() -> Image.Image:
    """A 16 x 16 image that no rotation maps onto itself: dark top-left quarter."""
    pixels = np.full((SIZE, SIZE), 255, dtype=np.uint8)
    pixels[: SIZE // 2, : SIZE // 4] = 0
    return Image.fromarray(pixels, mode="L")


def _png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def hostile_folder(tmp_path: Path) -> Path:
    root = tmp_path / "hostile"
    good, bad = root / "good", root / "bad"
    good.mkdir(parents=True)
    bad.mkdir()
    _arrow().save(good / "plain.png")
    Image.new("CMYK", (SIZE, SIZE), (0, 0, 0, 40)).save(good / "cmyk.jpg")
    Image.fromarray((np.arange(SIZE * SIZE).reshape(SIZE, SIZE) * 200).astype(np.uint16)).save(
        good / "deep.png"
    )
    # Left half colour 0 (transparent black), right half colour 1 (red).
    indices = np.zeros((SIZE, SIZE), dtype=np.uint8)
    indices[:, SIZE // 2 :] = 1
    palette = Image.fromarray(indices, mode="P")
    palette.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)
    palette.info["transparency"] = 0
    palette.save(good / "palette-alpha.png")
    frames = [Image.new("L", (SIZE, SIZE), value) for value in (20, 230)]
    frames[0].save(good / "animated.gif", save_all=True, append_images=frames[1:], duration=50)
    # EXIF orientation 6: the stored pixels must be turned 90 degrees clockwise to be seen.
    exif = Image.Exif()
    exif[0x0112] = 6
    _arrow().convert("RGB").save(good / "rotated.jpg", exif=exif.tobytes(), quality=100)
    valid = _png_bytes(_arrow())
    (bad / "empty.png").write_bytes(b"")
    (bad / "truncated.png").write_bytes(valid[: len(valid) // 2])
    (bad / "corrupt.png").write_bytes(valid[:16] + bytes(range(256)) * 4)
    (bad / "notes.png").write_text("not an image at all\n")
    # A decompression bomb: 20,000 x 20,000 pixels (400 million) in a few kilobytes.
    Image.new("1", (20_000, 20_000)).save(bad / "bomb.png", optimize=True)
    return root


def test_init_imports_the_good_files_and_lists_every_refused_one(
    hostile_folder: Path, tmp_path: Path, run_cli: Callable
) -> None:
    assert (hostile_folder / "bad" / "bomb.png").stat().st_size < 200_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    project = tmp_path / "project"
    result = run_cli("init", project, "--images", hostile_folder, "--image-size", SIZE)
    assert result.code == 0, result.err
    # The bomb was refused before decoding: 400 million pixels would be 400 MB or more.
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200
    refused = {"empty.png", "truncated.png", "corrupt.png", "notes.png", "bomb.png"}
    listed = result.out + result.err
    for name in refused:
        line = next((line for line in listed.splitlines() if name in line), None)
        assert line is not None and ":" in line.split(name, 1)[1], f"{name} not listed: {listed}"
    assert "DecompressionBomb" in next(line for line in listed.splitlines() if "bomb.png" in line)
    with open_project(project) as opened:
        paths = {sample.path: sample.id for sample in opened.store.get_samples("pool")}
        images = opened.load_images()
    good = {"plain.png", "cmyk.jpg", "deep.png", "palette-alpha.png", "animated.gif", "rotated.jpg"}
    assert {Path(path).name for path in paths} == good
    plain = images[paths["good/plain.png"]].reshape(SIZE, SIZE)
    rotated = images[paths["good/rotated.jpg"]].reshape(SIZE, SIZE).astype(int)
    # Turned as its EXIF says: the dark quarter is now at the top right, as a clockwise turn
    # of the plain image puts it (JPEG blurs the edges a little).
    expected = np.rot90(plain, k=-1).astype(int)
    assert np.abs(rotated - expected).mean() < 12
    assert np.abs(rotated - plain.astype(int)).mean() > 40
    # The palette's transparent colour is laid over white, its other colour kept; the 16-bit
    # ramp (0 to 51,000 of 65,535) is scaled to 8 bits, not clipped at 255.
    palette = images[paths["good/palette-alpha.png"]].reshape(SIZE, SIZE)
    assert (palette[:, : SIZE // 2] == 255).all() and (palette[:, SIZE // 2 :] < 120).all()
    deep = images[paths["good/deep.png"]]
    assert deep.min() == 0 and 195 <= deep.max() <= 200
