"""Making a project: ``init_project`` builds a project folder from a generated dataset folder
(its train split becomes the pool, its test split the test samples, both with known labels)
or from any folder of PNG/JPEG images (flat, ImageFolder, optionally with ``train/`` and
``test/`` split folders); ``labeler.store.project`` opens what it made.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from labeler.data import dataset_format
from labeler.data.augmentation import choose_augmentation
from labeler.data.image_arrays import (
    COLOUR_MODES,
    convert_channels,
    get_channels,
    image_shape,
)
from labeler.data.image_folder import (
    choose_channels,
    load_scanned_images,
    resize_images,
    scan_image_folder,
)
from labeler.data.input_size import choose_image_size
from labeler.store.atomic_files import atomic_path, write_json_atomic
from labeler.store.database import (
    NewLabel,
    NewSample,
    ProjectStore,
    check_class_names,
)
from labeler.store.project import FORMAT_VERSION
from labeler.store.project_files import (
    INIT_FILES,
    PROJECT_FILE,
    get_database_file,
    get_images_file,
    get_project_file,
)

logger = logging.getLogger(__name__)

SOURCE_KINDS = ("dataset", "image_folder")
# Label events made from known labels by ``init --use-folder-labels``.
FOLDER_LABEL_SOURCE = "folder"
FOLDER_ANNOTATOR = "folder"
# Rows per chunk when copying a dataset's packed arrays into the project.
_COPY_CHUNK = 4096


@dataclass(frozen=True)
class InitSummary:
    """What ``init_project`` made.

    ``n_pool`` / ``n_test``: samples per split; ``n_known_pool``: pool samples whose label the
    source knew; ``n_labels_recorded``: label events made from them (``use_folder_labels``);
    ``skipped``: ``(path, reason)`` of unreadable images left out; ``converted``: images whose
    colour differed from the project's (converted); ``upscaled``: ``(path, width, height)`` of
    images smaller than the image size (enlarged); ``seconds``: wall time.
    """

    path: Path
    source: Path
    source_kind: str
    class_names: tuple[str, ...]
    image_size: int
    channels: int
    n_pool: int
    n_test: int
    n_known_pool: int
    n_labels_recorded: int
    skipped: tuple[tuple[str, str], ...]
    seconds: float
    converted: tuple[str, ...] = ()
    upscaled: tuple[tuple[str, int, int], ...] = ()

    @property
    def n_samples(self) -> int:
        return self.n_pool + self.n_test


def init_project(
    project_dir: str | os.PathLike[str],
    *,
    images: str | os.PathLike[str],
    classes: Sequence[str] | None = None,
    image_size: int | None = None,
    colour: str = "auto",
    use_folder_labels: bool = False,
    progress: bool = True,
) -> InitSummary:
    """Make a project at ``project_dir`` from ``images`` (a dataset folder or image folder).

    ``classes``: class names, needed for a flat image folder; for a folder with class folders
    or a dataset they may be given to fix their order (and add classes with no images yet),
    but must include every class the source has. ``image_size``: side in pixels of the square
    images stored (default: chosen for the source, ``labeler.data.input_size``). ``colour``:
    "auto" (colour when most of an image folder is colour; generated datasets are grayscale),
    "rgb" or "gray"; images of the other kind are converted. ``use_folder_labels``:
    record the labels the source knows for pool samples as label events (source "folder"), as
    if annotators had given them. Unreadable images are skipped and listed in the summary.

    Refuses a ``project_dir`` that exists and is not empty (except for the leftovers of an
    interrupted init, which are cleared). Raises ValueError on bad input.
    """
    started = time.perf_counter()
    folder = Path(project_dir)
    source = Path(images)
    if colour not in COLOUR_MODES:
        raise ValueError(f"unknown colour mode {colour!r}; valid ones: {', '.join(COLOUR_MODES)}")
    if image_size is not None:
        choose_image_size(source, image_size)  # a bad size is refused before anything is made
    if classes is not None:
        classes = check_class_names(classes)
    _prepare_project_folder(folder)
    if not source.exists():
        raise ValueError(f"image source {source} does not exist")
    is_dataset = (source / dataset_format.INFO_FILE).is_file()
    size = choose_image_size(source, image_size)

    created_folder = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        if is_dataset:
            plan = _plan_from_dataset(source, classes, size, colour, folder, progress=progress)
        else:
            plan = _plan_from_image_folder(source, classes, size, colour, folder, progress=progress)
        n_recorded = _write_database(folder, plan, use_folder_labels=use_folder_labels)
        info = {
            "format_version": FORMAT_VERSION,
            "class_names": list(plan.class_names),
            "image_size": size,
            "channels": plan.channels,
            "augment": list(choose_augmentation(source)),
            "source": str(source.resolve()),
            "source_kind": plan.source_kind,
            "n_pool": plan.n_pool,
            "n_test": plan.n_test,
            "n_skipped": len(plan.skipped),
            "created_at": time.time(),
            **plan.extra_info,
        }
        write_json_atomic(get_project_file(folder), info)  # last: the project is now complete
    except BaseException:
        _remove_init_files(folder, remove_folder=created_folder)
        raise
    summary = InitSummary(
        path=folder,
        source=source,
        source_kind=plan.source_kind,
        class_names=plan.class_names,
        image_size=size,
        channels=plan.channels,
        n_pool=plan.n_pool,
        n_test=plan.n_test,
        n_known_pool=sum(
            1
            for sample in plan.samples
            if sample.split == "pool" and sample.known_label is not None
        ),
        n_labels_recorded=n_recorded,
        skipped=tuple(plan.skipped),
        seconds=time.perf_counter() - started,
        converted=tuple(plan.converted),
        upscaled=tuple(plan.upscaled),
    )
    logger.info(
        "project %s: %d pool and %d test samples, %d skipped",
        folder,
        summary.n_pool,
        summary.n_test,
        len(summary.skipped),
    )
    return summary


# --- init ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """A project's samples, chosen and with their images already in ``pool_images.npy``."""

    source_kind: str
    class_names: tuple[str, ...]
    channels: int
    samples: list[NewSample]
    skipped: list[tuple[str, str]]
    extra_info: dict[str, Any]
    converted: list[str] = field(default_factory=list)
    upscaled: list[tuple[str, int, int]] = field(default_factory=list)

    @property
    def n_pool(self) -> int:
        return sum(1 for sample in self.samples if sample.split == "pool")

    @property
    def n_test(self) -> int:
        return len(self.samples) - self.n_pool


def _merge_classes(
    found: Sequence[str], given: tuple[str, ...] | None, source: Path
) -> tuple[str, ...]:
    """The project's classes: ``given`` (which must cover ``found``), else ``found``."""
    if given is None:
        return tuple(found)
    missing = [name for name in found if name not in given]
    if missing:
        raise ValueError(
            f"{source} has the classes {', '.join(missing)} that --classes "
            f"({','.join(given)}) lacks; list every class, or leave --classes out"
        )
    return given


def _prepare_project_folder(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"project path {folder} exists and is not a folder")
    if not folder.is_dir():
        return
    if get_project_file(folder).exists():
        raise ValueError(f"{folder} is already a project; choose a new folder")
    entries = list(folder.iterdir())
    if not entries:
        return
    if all(_is_init_leftover(entry.name) for entry in entries):
        logger.warning("clearing the files an interrupted init left in %s", folder)
        _remove_init_files(folder, remove_folder=False)
        return
    raise ValueError(
        f"project folder {folder} exists and is not empty; choose a new or empty folder"
    )


def _is_init_leftover(name: str) -> bool:
    if name in INIT_FILES:
        return True
    # Temporary files of atomic writes: ".pool_images.npy.tmp-PID-XXXX", and so on.
    return (
        name.startswith(".")
        and ".tmp-" in name
        and any(name[1:].startswith(known) for known in (*INIT_FILES, PROJECT_FILE))
    )


def _remove_init_files(folder: Path, *, remove_folder: bool) -> None:
    """Remove what an init wrote in ``folder`` (and the folder itself if it made it)."""
    if not folder.is_dir():
        return
    if remove_folder:
        shutil.rmtree(folder, ignore_errors=True)
        return
    for entry in folder.iterdir():
        if entry.name == PROJECT_FILE or _is_init_leftover(entry.name):
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()


def _plan_from_dataset(
    source: Path,
    classes: tuple[str, ...] | None,
    size: int,
    colour: str,
    folder: Path,
    *,
    progress: bool,
) -> _Plan:
    info = dataset_format.load_dataset_info(source)
    if "train" not in info.splits:
        raise ValueError(
            f"dataset {source} has no train split to use as the pool; its splits: "
            f"{', '.join(info.splits)}"
        )
    class_names = _merge_classes(info.class_names, classes, source)
    # Map the dataset's class indices to the project's (they differ when --classes reorders).
    to_project = np.array([class_names.index(name) for name in info.class_names], dtype=np.int64)
    splits = [("train", "pool")] + ([("test", "test")] if "test" in info.splits else [])
    ignored = sorted(set(info.splits) - {"train", "test"})
    if ignored:
        logger.warning("dataset %s: ignoring the splits %s", source, ", ".join(ignored))

    arrays = [dataset_format.load_split(source, split) for split, _ in splits]
    n_total = sum(len(labels) for _, labels in arrays)
    native_channels = get_channels(arrays[0][0])
    channels = 3 if colour == "rgb" else 1 if colour == "gray" else native_channels
    upscaled = (
        [(str(source), info.image_width, info.image_height)]
        if max(info.image_width, info.image_height) < size
        else []
    )
    if upscaled:
        logger.warning(
            "dataset %s is %d x %d px, smaller than %d px: its images are enlarged",
            source,
            info.image_width,
            info.image_height,
            size,
        )
    samples: list[NewSample] = []
    with atomic_path(get_images_file(folder)) as temp:
        out = np.lib.format.open_memmap(
            temp, mode="w+", dtype=np.uint8, shape=(n_total, *image_shape(size, channels))
        )
        row = 0
        bar = tqdm(total=n_total, desc="copying images", unit="img", disable=not progress)
        with bar:
            for (split, project_split), (split_images, labels) in zip(splits, arrays, strict=True):
                for start in range(0, len(labels), _COPY_CHUNK):
                    chunk = resize_images(
                        np.asarray(split_images[start : start + _COPY_CHUNK]), size
                    )
                    chunk = convert_channels(chunk, channels)
                    out[row : row + len(chunk)] = chunk
                    row += len(chunk)
                    bar.update(len(chunk))
                for index, label in enumerate(labels.tolist()):
                    relpath = dataset_format.get_image_relpath(
                        split, info.class_names[label], index
                    )
                    samples.append(NewSample(relpath, project_split, int(to_project[label])))
        out.flush()
        del out
    extra = {"dataset": {"family": info.family, "problem": info.problem, "seed": info.seed}}
    # Every image of the dataset was converted when the project's colour is not the dataset's.
    converted = [str(source)] if channels != native_channels else []
    return _Plan("dataset", class_names, channels, samples, [], extra, converted, upscaled)


def _plan_from_image_folder(
    source: Path,
    classes: tuple[str, ...] | None,
    size: int,
    colour: str,
    folder: Path,
    *,
    progress: bool,
) -> _Plan:
    scan = scan_image_folder(source)
    if scan.layout == "flat":
        if scan.has_splits and any(image.split == "test" for image in scan.images):
            raise ValueError(
                f"{source}/test holds images without class folders; test images need their "
                "class (test/<class>/...) to measure accuracy"
            )
        if classes is None:
            raise ValueError(
                f"{source} is a flat folder of images with no class folders; give the class "
                "names with --classes (e.g. --classes cat,dog)"
            )
        class_names = classes
    else:
        class_names = _merge_classes(scan.class_names, classes, source)
    class_index = {name: index for index, name in enumerate(class_names)}

    channels = choose_channels(colour, [scan.get_path(image) for image in scan.images])
    decoded, kept = load_scanned_images(scan, image_size=size, channels=channels, progress=progress)
    pixels, skipped = decoded.images, decoded.skipped
    samples = [
        NewSample(
            image.relpath,
            "test" if image.split == "test" else "pool",
            None if image.class_name is None else class_index[image.class_name],
        )
        for image in kept
    ]
    relative_skipped = [(_relative(path, source), why) for path, why in skipped]
    if not samples:
        raise ValueError(
            f"none of the {scan.n_images} images in {source} could be read; first error: "
            f"{skipped[0][0]}: {skipped[0][1]}"
        )
    if not any(sample.split == "pool" for sample in samples):
        raise ValueError(f"{source} has no readable image outside test/ to label")
    with atomic_path(get_images_file(folder)) as temp, open(temp, "wb") as file:
        np.save(file, pixels, allow_pickle=False)
    extra = {"layout": scan.layout, "has_splits": scan.has_splits}
    return _Plan(
        "image_folder",
        class_names,
        channels,
        samples,
        relative_skipped,
        extra,
        [_relative(path, source) for path in decoded.converted],
        [(_relative(path, source), width, height) for path, width, height in decoded.upscaled],
    )


def _relative(path: str, source: Path) -> str:
    return Path(path).relative_to(source).as_posix()


def _write_database(folder: Path, plan: _Plan, *, use_folder_labels: bool) -> int:
    with ProjectStore.create(
        get_database_file(folder),
        class_names=plan.class_names,
        samples=plan.samples,
        meta={"source_kind": plan.source_kind},
    ) as store:
        if not use_folder_labels:
            return 0
        labels = [
            NewLabel(
                index, plan.class_names[sample.known_label], FOLDER_ANNOTATOR, FOLDER_LABEL_SOURCE
            )
            for index, sample in enumerate(plan.samples)
            if sample.split == "pool" and sample.known_label is not None
        ]
        if not labels:
            logger.warning("--use-folder-labels: the source knows no pool labels; none recorded")
        return store.add_label_events(labels)
