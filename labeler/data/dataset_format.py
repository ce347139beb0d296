"""The dataset folder: the one module that knows its layout, writes it and reads it.

A dataset folder holds, for a generator problem and every split (e.g. ``train``, ``test``):

- ``dataset.json``: format version, generator (family, version, problem, parameters, and the
  label-preserving transforms the family declares for the problem), seed, class names, image
  size, and per split its counts and the sha256 of its files; written last;
- ``<split>/<class_name>/<split>-<index:06d>.png``: 8-bit grayscale PNGs in the layout that
  torchvision's ``ImageFolder`` loads as is (background 255, ink 0);
- ``<split>_images.npy``: the same images packed as ``[n_images, height, width]`` uint8,
  memory-mappable with ``np.load(..., mmap_mode="r")``;
- ``<split>_labels.npy``: ``[n_images]`` int64 class indices into the class names;
- ``<split>_metadata.jsonl``: one JSON object of ground truth per image, in index order, each
  with its ``index`` and ``label``.

A folder is written in a temporary sibling and renamed into place when complete, so an
interrupted write never leaves a folder that looks like a dataset. This module knows the layout
and ``dataset.json`` and reads folders; ``labeler.data.dataset_writer`` makes them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from generators.checks import check_int
from generators.family import Family, check_transforms

FORMAT_VERSION = 1
INFO_FILE = "dataset.json"
# Marks in the names of temporary siblings; folders so named are never taken for datasets.
TEMP_MARK = ".tmp-"
OLD_MARK = ".old-"
_SPLIT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# A split's packed files by kind, as ``dataset.json`` names them: ``<split>_<kind><suffix>``.
_SPLIT_FILE_SUFFIXES = {"images": ".npy", "labels": ".npy", "metadata": ".jsonl"}
_FILE_KINDS = tuple(_SPLIT_FILE_SUFFIXES)


@dataclass(frozen=True)
class SplitInfo:
    """One split of a dataset folder: its counts and files (names relative to the folder)."""

    name: str
    n_images: int
    n_per_class: dict[str, int]
    images_file: str
    labels_file: str
    metadata_file: str
    images_sha256: str
    labels_sha256: str
    metadata_sha256: str


@dataclass(frozen=True)
class DatasetInfo:
    """What ``dataset.json`` says about a dataset folder at ``path``."""

    path: Path
    format_version: int
    family: str
    family_version: str
    problem: str
    params: dict[str, Any]
    seed: int
    class_names: tuple[str, ...]
    image_height: int
    image_width: int
    splits: dict[str, SplitInfo]
    config: dict[str, Any]
    # Names from generators.family.TRANSFORMS that keep every label; none in folders written
    # before they were recorded.
    label_preserving_transforms: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.path.name


def get_image_relpath(split: str, class_name: str, index: int) -> str:
    """Return the path of image ``index`` of ``split``, relative to the dataset folder."""
    return f"{split}/{class_name}/{split}-{index:06d}.png"


def get_split_file(split: str, kind: str) -> str:
    """The name, relative to the dataset folder, of ``split``'s packed ``"images"``,
    ``"labels"`` or ``"metadata"`` file."""
    return f"{split}_{kind}{_SPLIT_FILE_SUFFIXES[kind]}"


def check_split_counts(n_per_split: Mapping[str, int], *, n_classes: int) -> dict[str, int]:
    """``n_per_split`` as a dict of ints, or ValueError unless every split name is allowed and
    every count is a positive multiple of ``n_classes``.

    A multiple of the number of classes keeps the classes exactly balanced (image k has label
    k % n_classes).
    """
    if not n_per_split:
        raise ValueError("at least one split is needed")
    counts = {}
    for split, count in n_per_split.items():
        if not _SPLIT_NAME.match(split):
            raise ValueError(
                f"split name {split!r} is not allowed; use lowercase letters, digits and '_'"
            )
        n_images = check_int(f"the {split} count", count, low=1)
        if n_images % n_classes:
            lower = n_images - n_images % n_classes
            suggestion = f"{lower} or {lower + n_classes}" if lower else f"{n_classes}"
            raise ValueError(
                f"the {split} count {n_images} is not a multiple of the {n_classes} classes, "
                f"so the classes cannot be balanced; use e.g. {suggestion}"
            )
        counts[split] = n_images
    return counts


def write_info(
    folder: Path,
    family: Family,
    problem: str,
    params: Any,
    *,
    n_per_split_class: Mapping[str, dict[str, int]],
    seed: int,
    image_shape: tuple[int, int],
    config: dict[str, Any],
) -> None:
    """Write ``dataset.json`` for the split files in ``folder``, with their sha256.

    Written last: a folder with ``dataset.json`` is complete. ``n_per_split_class`` holds each
    split's image count per class name, ``image_shape`` is (height, width) in px.
    """
    splits = {
        split: {
            "n_images": sum(n_per_class.values()),
            "n_per_class": n_per_class,
            "png_folder": split,
            **{
                kind: _describe_file(folder, get_split_file(split, kind))
                for kind in _SPLIT_FILE_SUFFIXES
            },
        }
        for split, n_per_class in n_per_split_class.items()
    }
    height, width = image_shape
    info = {
        "format_version": FORMAT_VERSION,
        "generator": {
            "family": family.name,
            "version": family.version,
            "problem": problem,
            "params": asdict(params),
            "label_preserving_transforms": list(family.get_label_preserving_transforms(problem)),
        },
        "seed": seed,
        "class_names": list(family.class_names),
        "image_size": {"height": height, "width": width},
        "splits": splits,
        "config": config,
    }
    (folder / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


def load_dataset_info(path: str | os.PathLike[str]) -> DatasetInfo:
    """Read and check the ``dataset.json`` of the dataset folder ``path``.

    Raises ValueError naming the folder when it is missing, is not a complete dataset folder,
    or has a format this version cannot read.
    """
    folder = Path(path)
    if not folder.exists():
        raise ValueError(f"dataset folder {folder} does not exist")
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a dataset folder (it is not a folder)")
    info_path = folder / INFO_FILE
    if not info_path.is_file():
        raise ValueError(
            f"{folder} is not a dataset folder: it has no {INFO_FILE} "
            "(an unfinished write never has one)"
        )
    try:
        raw = json.loads(info_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read {info_path}: {error}") from error
    try:
        info = _parse_info(folder, raw)
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"{info_path} is malformed: {error!r}") from error
    for split in info.splits.values():
        for name in (split.images_file, split.labels_file, split.metadata_file):
            if not (folder / name).is_file():
                raise ValueError(f"dataset folder {folder} is incomplete: {name} is missing")
    return info


def load_split(
    path: str | os.PathLike[str], split: str, *, mmap: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(images, labels)`` of ``split``: ``[n, height, width]`` uint8, ``[n]`` int64.

    With ``mmap`` the images are a read-only memory map (nothing is read until used).
    """
    info = load_dataset_info(path)
    split_info = _get_split_info(info, split)
    folder = Path(path)
    images = np.load(folder / split_info.images_file, mmap_mode="r" if mmap else None)
    labels = np.load(folder / split_info.labels_file)
    expected = (split_info.n_images, info.image_height, info.image_width)
    if images.shape != expected or images.dtype != np.uint8:
        raise ValueError(
            f"{folder / split_info.images_file} holds {images.dtype} {images.shape}, "
            f"expected uint8 {expected}"
        )
    if labels.shape != (split_info.n_images,):
        raise ValueError(
            f"{folder / split_info.labels_file} holds {labels.shape}, "
            f"expected ({split_info.n_images},)"
        )
    return images, labels


def load_metadata(path: str | os.PathLike[str], split: str) -> list[dict[str, Any]]:
    """Return the ground-truth dicts of ``split``, one per image in index order."""
    info = load_dataset_info(path)
    split_info = _get_split_info(info, split)
    with open(Path(path) / split_info.metadata_file, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def verify_dataset(path: str | os.PathLike[str]) -> None:
    """Raise ValueError if any array or metadata file differs from its hash in dataset.json."""
    info = load_dataset_info(path)
    folder = Path(path)
    for split in info.splits.values():
        for name, expected in (
            (split.images_file, split.images_sha256),
            (split.labels_file, split.labels_sha256),
            (split.metadata_file, split.metadata_sha256),
        ):
            if _hash_file(folder / name) != expected:
                raise ValueError(f"{folder / name} does not match its sha256 in {INFO_FILE}")


def find_datasets(path: str | os.PathLike[str]) -> list[Path]:
    """Return ``[path]`` if it is a dataset folder, else its dataset subfolders, sorted.

    Raises ValueError if ``path`` is missing or holds no dataset.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise ValueError(f"dataset folder {folder} does not exist")
    if (folder / INFO_FILE).is_file():
        return [folder]
    found = sorted(
        child
        for child in folder.iterdir()
        if child.is_dir()
        and TEMP_MARK not in child.name
        and OLD_MARK not in child.name
        and (child / INFO_FILE).is_file()
    )
    if not found:
        raise ValueError(
            f"{folder} is not a dataset folder and holds none (no {INFO_FILE} in it or in its "
            "subfolders)"
        )
    return found


def _describe_file(folder: Path, name: str) -> dict[str, str]:
    return {"file": name, "sha256": _hash_file(folder / name)}


def _hash_file(path: Path) -> str:
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _parse_info(folder: Path, raw: dict[str, Any]) -> DatasetInfo:
    format_version = raw["format_version"]
    if format_version != FORMAT_VERSION:
        raise ValueError(
            f"{folder / INFO_FILE} has format version {format_version!r}; "
            f"this labeler reads version {FORMAT_VERSION}"
        )
    generator = raw["generator"]
    splits = {
        name: SplitInfo(
            name=name,
            n_images=int(split["n_images"]),
            n_per_class={str(key): int(value) for key, value in split["n_per_class"].items()},
            images_file=str(split["images"]["file"]),
            labels_file=str(split["labels"]["file"]),
            metadata_file=str(split["metadata"]["file"]),
            images_sha256=str(split["images"]["sha256"]),
            labels_sha256=str(split["labels"]["sha256"]),
            metadata_sha256=str(split["metadata"]["sha256"]),
        )
        for name, split in raw["splits"].items()
    }
    return DatasetInfo(
        path=folder,
        format_version=int(format_version),
        family=str(generator["family"]),
        family_version=str(generator["version"]),
        problem=str(generator["problem"]),
        params=dict(generator["params"]),
        seed=int(raw["seed"]),
        class_names=tuple(str(name) for name in raw["class_names"]),
        image_height=int(raw["image_size"]["height"]),
        image_width=int(raw["image_size"]["width"]),
        splits=splits,
        config=dict(raw.get("config") or {}),
        label_preserving_transforms=_parse_transforms(folder, generator),
    )


def _parse_transforms(folder: Path, generator: dict[str, Any]) -> tuple[str, ...]:
    """The generator's label-preserving transforms; none when the key is missing (older
    folders), a ValueError naming the file when they are not a list of known names."""
    names = generator.get("label_preserving_transforms", [])
    if not isinstance(names, list):
        raise ValueError(
            f"{folder / INFO_FILE}: label_preserving_transforms must be a list of names, "
            f"got {names!r}"
        )
    try:
        return check_transforms(names)
    except ValueError as error:
        raise ValueError(f"{folder / INFO_FILE}: {error}") from None


def _get_split_info(info: DatasetInfo, split: str) -> SplitInfo:
    try:
        return info.splits[split]
    except KeyError:
        valid = ", ".join(info.splits)
        raise ValueError(
            f"dataset {info.path} has no split {split!r}; its splits: {valid}"
        ) from None
