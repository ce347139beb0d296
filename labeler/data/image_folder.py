"""Any folder of images (PNG, JPEG, GIF, BMP, TIFF or WebP): the one module that finds and
decodes them.

Layouts ``scan_image_folder`` understands (hidden files and folders are ignored):

- flat: ``ROOT/*.png`` — images with no class (an unlabeled pool);
- ImageFolder: ``ROOT/<class>/**/*.png`` — the class of each image is its top folder;
- split folders: ``ROOT/train/...`` and optionally ``ROOT/test/...``, each flat or ImageFolder.

Images are read as 8-bit squares, grayscale ``[n, size, size]`` or colour ``[n, size, size, 3]``
(uint8, 0 black, 255 white), whatever their mode: ``detect_channels`` tells which the folder
mostly holds, the rest are converted; transparency is laid over white; non-square images are
letterboxed (see ``labeler.data.image_arrays``); EXIF orientation is applied; an animated or
multi-page file gives its first frame. A file that cannot be read is skipped with its reason,
as is a decompression bomb (over twice Pillow's ``MAX_IMAGE_PIXELS``, about 179 million
pixels): Pillow refuses it from its header, before any pixel is allocated.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps
from tqdm import tqdm

from generators.checks import check_int
from labeler.data.image_arrays import (
    COLOUR_MODES,
    WHITE,
    check_channels,
    get_channels,
    image_shape,
    letterbox_array,
    letterbox_box,
)

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp")
SPLIT_FOLDERS = ("train", "test")
LAYOUTS = ("flat", "classes")
# Images per torch call in resize_images: bounds the float32 copy to ~100 MB at 128 px.
_RESIZE_CHUNK = 1024
# Pillow modes that hold colour (palette images are judged by their palette).
_COLOUR_IMAGE_MODES = frozenset({"RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"})


@dataclass(frozen=True)
class FolderImage:
    """An image file found by ``scan_image_folder``.

    ``relpath``: POSIX path relative to the scanned root; ``split``: ``'train'`` or ``'test'``
    when the folder has split folders, else None; ``class_name``: the class folder, or None in
    a flat layout.
    """

    relpath: str
    split: str | None
    class_name: str | None


@dataclass(frozen=True)
class FolderScan:
    """What ``scan_image_folder`` found under ``root``.

    ``layout``: ``'flat'`` (no classes) or ``'classes'`` (ImageFolder); ``has_splits``: whether
    ``train/`` / ``test/`` folders split the images; ``class_names``: sorted class folder names
    (empty when flat); ``images``: sorted by relpath; ``n_other_files``: files that are not
    PNG/JPEG (ignored).
    """

    root: Path
    layout: str
    has_splits: bool
    class_names: tuple[str, ...]
    images: tuple[FolderImage, ...]
    n_other_files: int

    @property
    def n_images(self) -> int:
        return len(self.images)

    def get_path(self, image: FolderImage) -> Path:
        """The file of ``image`` on disk."""
        return self.root / image.relpath


def is_image_file(name: str) -> bool:
    """Whether ``name`` has a PNG or JPEG extension (any case)."""
    return name.lower().endswith(IMAGE_EXTENSIONS)


def scan_image_folder(root: str | os.PathLike[str]) -> FolderScan:
    """Find the images under ``root`` and tell its layout (see the module docstring).

    Raises ValueError when ``root`` is missing, holds no image, or mixes loose images with
    class folders (which would leave the loose ones without a class).
    """
    folder = Path(root)
    if not folder.exists():
        raise ValueError(f"image folder {folder} does not exist")
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder")
    split_dirs = {
        child.name.lower(): child
        for child in _list_visible(folder)
        if child.is_dir() and child.name.lower() in SPLIT_FOLDERS
    }
    if "train" in split_dirs:
        others = [
            child.name
            for child in _list_visible(folder)
            if child.name.lower() not in SPLIT_FOLDERS and (child.is_dir() or _is_image(child))
        ]
        if others:
            logger.warning("ignoring %s in %s: only train/ and test/ are read", others, folder)
        parts = [
            _scan_part(folder, split_dirs[split], split)
            for split in SPLIT_FOLDERS
            if split in split_dirs
        ]
        layouts = {layout for layout, _, _ in parts}
        if len(layouts) > 1:
            raise ValueError(
                f"{folder}: train/ and test/ must both hold class folders or both hold images "
                "directly; they differ"
            )
        layout = layouts.pop()
        images = tuple(image for _, part_images, _ in parts for image in part_images)
        n_other = sum(n for _, _, n in parts)
        has_splits = True
    else:
        layout, part_images, n_other = _scan_part(folder, folder, None)
        images = tuple(part_images)
        has_splits = False
    if not images:
        raise ValueError(
            f"no image found in {folder} (looked for {', '.join(IMAGE_EXTENSIONS)}, any case)"
        )
    class_names = tuple(sorted({image.class_name for image in images if image.class_name}))
    images = tuple(sorted(images, key=lambda image: image.relpath))
    if n_other:
        logger.info("ignored %d files in %s that are not PNG or JPEG", n_other, folder)
    return FolderScan(folder, layout, has_splits, class_names, images, n_other)


@dataclass(frozen=True)
class DecodedImages:
    """What ``load_images`` read.

    ``images``: uint8 ``[n_loaded, S, S]`` (grayscale) or ``[n_loaded, S, S, 3]`` (colour),
    one row per readable path in the order given; ``skipped``: ``(path, reason)`` of each file
    that could not be read; ``converted``: paths whose colour differed from the one asked for
    (colour made grayscale, or grayscale made colour); ``upscaled``: ``(path, width, height)``
    of images smaller than the square, enlarged to fill it.
    """

    images: NDArray[np.uint8]
    skipped: list[tuple[str, str]]
    converted: list[str]
    upscaled: list[tuple[str, int, int]]


def detect_channels(paths: Sequence[str | os.PathLike[str]]) -> int:
    """3 when most readable ``paths`` (ties included) are colour images, else 1.

    Reads only the file headers (and palettes): a palette image is colour unless every entry
    of its palette is gray. Unreadable files do not count.
    """
    n_colour = n_gray = 0
    for path in paths:
        try:
            with Image.open(path) as opened:
                colour = _is_colour(opened)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
            continue
        n_colour += colour
        n_gray += not colour
    return 3 if n_colour and n_colour >= n_gray else 1


def choose_channels(colour: str, paths: Sequence[str | os.PathLike[str]]) -> int:
    """Channels for ``colour`` ("auto": what most of ``paths`` are, ``detect_channels``;
    "rgb": 3; "gray": 1); ValueError naming the valid modes otherwise."""
    if colour not in COLOUR_MODES:
        raise ValueError(f"unknown colour mode {colour!r}; valid ones: {', '.join(COLOUR_MODES)}")
    if colour == "auto":
        return detect_channels(paths)
    return 3 if colour == "rgb" else 1


def load_images(
    paths: Sequence[str | os.PathLike[str]],
    *,
    image_size: int,
    channels: int = 1,
    progress: bool = False,
) -> DecodedImages:
    """Decode ``paths`` into ``image_size`` squares with ``channels`` channels (1 or 3).

    Non-square images are letterboxed (``labeler.data.image_arrays``): scaled so that the longer
    side fills the square, by a box filter when shrinking and bilinear when growing, and padded
    with white. Transparency is laid over white; colour is converted to luminance for 1 channel,
    grayscale copied into R, G, B for 3. Files that cannot be read are skipped (never raised).
    """
    size = check_int("image size", image_size, low=1)
    channels = check_channels(channels)
    images = np.empty((len(paths), *image_shape(size, channels)), dtype=np.uint8)
    skipped: list[tuple[str, str]] = []
    converted: list[str] = []
    upscaled: list[tuple[str, int, int]] = []
    n_loaded = 0
    for path in tqdm(paths, desc="reading images", unit="img", disable=not progress):
        try:
            pixels, was_colour, (width, height) = _load_one(Path(path), size, channels)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
            reason = f"{type(error).__name__}: {error}"
            logger.debug("skipping %s: %s", path, reason)
            skipped.append((str(path), reason))
            continue
        images[n_loaded] = pixels
        if was_colour != (channels == 3):
            converted.append(str(path))
        if max(width, height) < size:
            upscaled.append((str(path), width, height))
        n_loaded += 1
    if upscaled:
        first, width, height = upscaled[0]
        logger.warning(
            "%d images are smaller than %d px and were enlarged to it, e.g. %s (%d x %d)",
            len(upscaled),
            size,
            first,
            width,
            height,
        )
    return DecodedImages(images[:n_loaded], skipped, converted, upscaled)


def load_scanned_images(
    scan: FolderScan, *, image_size: int, channels: int = 1, progress: bool = False
) -> tuple[DecodedImages, list[FolderImage]]:
    """Decode every image ``scan`` found, like ``load_images``; also returns the
    ``FolderImage`` of each row kept, in scan order."""
    paths = [scan.get_path(image) for image in scan.images]
    decoded = load_images(paths, image_size=image_size, channels=channels, progress=progress)
    skipped_paths = {path for path, _ in decoded.skipped}
    kept = [
        image
        for image, path in zip(scan.images, paths, strict=True)
        if str(path) not in skipped_paths
    ]
    return decoded, kept


def resize_images(images: Any, size: int) -> NDArray[np.uint8]:
    """Resize uint8 ``[n, H, W]`` or ``[n, H, W, 3]`` images to ``size`` squares.

    Non-square images are letterboxed first (padded with white to a square). Area averaging
    when shrinking, bilinear when growing. Returns ``images`` itself (not a copy) when the size
    already matches. Works in chunks, so a memory-mapped input is never read whole into memory.
    """
    import torch  # here, not at import: commands that never resize start faster
    import torch.nn.functional as functional

    size = check_int("image size", size, low=1)
    array = np.asarray(images) if not isinstance(images, np.ndarray) else images
    channels = get_channels(array)
    n_images, height, width = array.shape[:3]
    if (height, width) == (size, size):
        return array
    side = max(height, width)
    out = np.empty((n_images, *image_shape(size, channels)), dtype=np.uint8)
    for start in range(0, n_images, _RESIZE_CHUNK):
        # A copy: the input may be a read-only memory map, which torch would warn about.
        square = letterbox_array(np.array(array[start : start + _RESIZE_CHUNK]))
        chunk = torch.from_numpy(np.ascontiguousarray(square))
        batch = (chunk.unsqueeze(1) if channels == 1 else chunk.permute(0, 3, 1, 2)).float()
        if size <= side:
            resized = functional.interpolate(batch, size=(size, size), mode="area")
        else:
            resized = functional.interpolate(
                batch, size=(size, size), mode="bilinear", align_corners=False
            )
        pixels = resized.round().clamp(0, 255).to(torch.uint8)
        pixels = pixels.squeeze(1) if channels == 1 else pixels.permute(0, 2, 3, 1)
        out[start : start + len(chunk)] = pixels.numpy()
    return out


def _load_one(
    path: Path, size: int, channels: int
) -> tuple[NDArray[np.uint8], bool, tuple[int, int]]:
    """``(pixels, was_colour, (width, height))`` of the image file at ``path``."""
    with Image.open(path) as opened:
        was_colour = _is_colour(opened)
        # JPEG: let the decoder shrink by a power of two first (much faster for big photos).
        opened.draft("RGB" if channels == 3 else "L", (size, size))
        image = ImageOps.exif_transpose(opened)
        image.load()  # decode now, so a truncated file fails here
        image = _to_rgb(image) if channels == 3 else _to_gray(image)
    original_size = image.size
    left, top, new_width, new_height = letterbox_box(image.width, image.height, size)
    if (new_width, new_height) != image.size:
        shrinking = new_width <= image.width and new_height <= image.height
        resample = Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR
        image = image.resize((new_width, new_height), resample=resample)
    if image.size != (size, size):
        white = (WHITE,) * 3 if channels == 3 else WHITE
        square = Image.new(image.mode, (size, size), white)
        square.paste(image, (left, top))
        image = square
    return np.asarray(image, dtype=np.uint8), was_colour, original_size


def _is_colour(image: Image.Image) -> bool:
    """Whether ``image`` holds colour, judged from its mode (and palette)."""
    if image.mode in ("P", "PA"):
        palette = image.getpalette() or []
        return any(
            not palette[i] == palette[i + 1] == palette[i + 2]
            for i in range(0, len(palette) - 2, 3)
        )
    return image.mode in _COLOUR_IMAGE_MODES


def _flatten_alpha(image: Image.Image) -> Image.Image:
    """``image`` with any transparency laid over white (palette images become RGB(A))."""
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        background = Image.new("RGBA", image.size, (WHITE, WHITE, WHITE, 255))
        background.alpha_composite(image.convert("RGBA"))
        return background.convert("RGB")
    return image


def _to_gray(image: Image.Image) -> Image.Image:
    image = _flatten_alpha(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit grayscale: convert("L") would clip; scale to 8 bits instead.
        wide = np.asarray(image, dtype=np.float64)
        top = 65535.0 if wide.max() > 255 else 255.0
        return Image.fromarray(np.round(wide * (255.0 / top)).astype(np.uint8), mode="L")
    return image.convert("L")


def _to_rgb(image: Image.Image) -> Image.Image:
    image = _flatten_alpha(image)
    if image.mode in ("RGB",):
        return image
    if image.mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        return image.convert("RGB")
    return _to_gray(image).convert("RGB")


def _list_visible(folder: Path) -> list[Path]:
    return sorted(child for child in folder.iterdir() if not child.name.startswith("."))


def _is_image(path: Path) -> bool:
    return path.is_file() and is_image_file(path.name)


def _scan_part(root: Path, folder: Path, split: str | None) -> tuple[str, list[FolderImage], int]:
    """Scan ``folder`` (the root or a split folder): ``(layout, images, n_other_files)``."""
    children = _list_visible(folder)
    loose = [child for child in children if _is_image(child)]
    class_dirs = [child for child in children if child.is_dir()]
    class_images: dict[str, list[Path]] = {}
    n_other = sum(1 for child in children if child.is_file() and not _is_image(child))
    for class_dir in class_dirs:
        found, n_other_inside = _walk_images(class_dir)
        n_other += n_other_inside
        if found:
            class_images[class_dir.name] = found
        else:
            logger.warning("ignoring %s: it holds no PNG or JPEG image", class_dir)
    if loose and class_images:
        raise ValueError(
            f"{folder} holds both images ({len(loose)}, e.g. {loose[0].name}) and class folders "
            f"({', '.join(sorted(class_images))}); put every image in a class folder, or use a "
            "flat folder of images"
        )
    if class_images:
        images = [
            FolderImage(path.relative_to(root).as_posix(), split, class_name)
            for class_name, paths in class_images.items()
            for path in paths
        ]
        return "classes", images, n_other
    images = [FolderImage(path.relative_to(root).as_posix(), split, None) for path in loose]
    return "flat", images, n_other


def _walk_images(folder: Path) -> tuple[list[Path], int]:
    found: list[Path] = []
    n_other = 0
    for directory, subdirs, files in os.walk(folder):
        subdirs[:] = sorted(name for name in subdirs if not name.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            if is_image_file(name):
                found.append(Path(directory) / name)
            else:
                n_other += 1
    return found, n_other
