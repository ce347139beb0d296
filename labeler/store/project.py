"""Opening a project: ``open_project`` opens a project folder as a ``Project`` (its info, its
store, its images); ``labeler.store.project_init`` makes one.

What each file of a project folder holds, and where it is, is ``labeler.store.project_files``'s
to say (the one module that knows the layout; ``docs/formats.md``). ``project.json`` holds the
format version, class names, image size, channels (1 grayscale, 3 colour; absent in projects
made before colour: 1), the label-preserving transforms to train with, where the images came
from and when it was made; it is written last by ``init_project``, so its presence means the
project is complete. ``pool_images.npy`` is every sample's image, ``[n_samples, S, S]`` uint8
(0 black, 255 white) or ``[n_samples, S, S, 3]`` RGB in a colour project, row = sample id,
pool and test samples alike; memory-mapped when read.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from generators.family import check_transforms
from labeler.data import dataset_format
from labeler.data.augmentation import choose_augmentation
from labeler.data.image_arrays import (
    image_shape,
)
from labeler.store.database import (
    ProjectStore,
)
from labeler.store.project_files import (
    PROJECT_FILE,
    get_database_file,
    get_images_file,
    get_project_file,
    get_round_folder,
)

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Project:
    """An open project; close it (or use ``with``) to close its database.

    ``source``: the image folder or dataset folder it was made from (sample paths are relative
    to it); ``channels``: 1 (grayscale) or 3 (colour); ``info``: the whole of ``project.json``.
    """

    path: Path
    class_names: tuple[str, ...]
    image_size: int
    channels: int
    source: Path
    source_kind: str
    store: ProjectStore
    info: dict[str, Any] = field(repr=False)

    def load_images(self) -> NDArray[np.uint8]:
        """Every sample's image, uint8 ``[n_samples, S, S]`` or ``[n_samples, S, S, 3]``, a
        read-only memory map."""
        images: NDArray[np.uint8] = np.load(get_images_file(self.path), mmap_mode="r")
        return images

    def get_round_folder(self, round_id: int) -> Path:
        """The folder of round ``round_id`` (``rounds/round-0001``); not created here."""
        return get_round_folder(self.path, round_id)

    def get_augmentation(self, requested: str = "auto") -> tuple[str, ...]:
        """The transforms to train with: ``requested`` "auto" gives the ones chosen for the
        source at init (``labeler.data.augmentation``), else as ``choose_augmentation``."""
        if requested == "auto" and "augment" in self.info:
            return check_transforms(self.info["augment"])
        is_gone_dataset = (
            self.source_kind == "dataset" and not (self.source / dataset_format.INFO_FILE).is_file()
        )
        if requested == "auto" and is_gone_dataset:
            # A project made before transforms were recorded, whose dataset folder has moved:
            # what keeps its labels is unknown, so none (photos' flips could break them).
            return ()
        return choose_augmentation(self.source, requested)

    def get_source_path(self, sample_path: str) -> Path:
        """Where the original file of a sample (its ``Sample.path``) is in the source folder."""
        return self.source / sample_path

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def is_project(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a complete project folder (it has ``project.json``)."""
    return get_project_file(path).is_file()


def open_project(project_dir: str | os.PathLike[str]) -> Project:
    """Open the project folder ``project_dir``.

    Raises ValueError naming the folder when it is not a (complete) project, or when its files
    disagree with each other.
    """
    folder = Path(project_dir)
    if not folder.is_dir():
        raise ValueError(f"project folder {folder} does not exist")
    info_path = get_project_file(folder)
    if not info_path.is_file():
        if get_database_file(folder).exists():
            raise ValueError(
                f"{folder} is an unfinished project (no {PROJECT_FILE}: its init was "
                "interrupted); run init on it again"
            )
        raise ValueError(
            f"{folder} is not a project folder (no {PROJECT_FILE}); create one with init"
        )
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
        version = info["format_version"]
        if version != FORMAT_VERSION:
            raise ValueError(
                f"{info_path} has format version {version!r}; this labeler reads version "
                f"{FORMAT_VERSION}"
            )
        class_names = tuple(str(name) for name in info["class_names"])
        image_size = int(info["image_size"])
        channels = int(info.get("channels", 1))
        source = Path(info["source"])
        source_kind = str(info["source_kind"])
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read {info_path}: {error}") from error
    except (KeyError, TypeError) as error:
        raise ValueError(f"{info_path} is malformed: {error!r}") from error

    store = ProjectStore.open(get_database_file(folder))
    try:
        if store.class_names != class_names:
            raise ValueError(
                f"{info_path} lists classes {list(class_names)} but the database holds "
                f"{list(store.class_names)}"
            )
        images_path = get_images_file(folder)
        try:
            images = np.load(images_path, mmap_mode="r")
        except (OSError, ValueError) as error:
            raise ValueError(f"cannot read {images_path}: {error}") from error
        expected = (store.n_samples, *image_shape(image_size, channels))
        if images.shape != expected or images.dtype != np.uint8:
            raise ValueError(
                f"{images_path} holds {images.dtype} {images.shape}, expected uint8 {expected}"
            )
        del images
    except BaseException:
        store.close()
        raise
    return Project(folder, class_names, image_size, channels, source, source_kind, store, info)
