"""Writing a dataset folder (layout in ``labeler.data.dataset_format``): images made in
chunks, here, by worker processes or by an engine's tasks, with the same bytes either way, in a
temporary sibling renamed into place when complete.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import json
import logging
import multiprocessing
import os
import secrets
import shutil
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from generators.checks import check_int
from generators.family import Family, check_transforms
from labeler.data.dataset_format import (
    INFO_FILE,
    OLD_MARK,
    TEMP_MARK,
    check_split_counts,
    get_image_relpath,
    get_split_file,
    write_info,
)
from labeler.data.png import encode_png
from labeler.engines.base import Engine

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1024


@dataclass(frozen=True)
class WriteSummary:
    """What ``write_dataset`` wrote: counts per split and class, and how fast (seconds, img/s)."""

    path: Path
    family: str
    problem: str
    n_per_split_class: dict[str, dict[str, int]]
    n_images: int
    seconds: float

    @property
    def images_per_second(self) -> float:
        return self.n_images / self.seconds if self.seconds > 0 else float("inf")

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "family": self.family,
            "problem": self.problem,
            "n_per_split_class": self.n_per_split_class,
            "n_images": self.n_images,
            "seconds": self.seconds,
            "images_per_second": self.images_per_second,
        }


def check_output_folder(out: str | os.PathLike[str], *, force: bool = False) -> None:
    """Raise ValueError unless a dataset may be written at ``out``.

    ``out`` may be missing or an empty folder. An existing dataset folder is replaced only with
    ``force``; any other non-empty folder is refused even then, so that a mistyped path never
    deletes unrelated files.
    """
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"output path {folder} exists and is not a folder")
    if not folder.is_dir() or not any(folder.iterdir()):
        return
    if not force:
        raise ValueError(
            f"output folder {folder} exists and is not empty; use --force to replace it"
        )
    if not (folder / INFO_FILE).is_file():
        raise ValueError(
            f"output folder {folder} is not empty and is not a dataset folder (no {INFO_FILE}); "
            "refusing to replace it even with --force"
        )


def write_dataset(
    out: str | os.PathLike[str],
    family: Family,
    problem: str,
    params: Any,
    *,
    n_per_split: Mapping[str, int],
    seed: int,
    workers: int = 1,
    engine: Engine | None = None,
    force: bool = False,
    config: Mapping[str, Any] | None = None,
    chunk_size: int = CHUNK_SIZE,
    progress: bool = False,
) -> WriteSummary:
    """Generate ``problem`` of ``family`` and write it as a dataset folder at ``out``.

    ``n_per_split`` maps split names to image counts (e.g. ``{"train": 20000, "test": 2000}``),
    each a positive multiple of the number of classes. ``params`` is the family's frozen
    parameter dataclass. ``workers`` processes each make chunks of ``chunk_size`` images; the
    bytes written do not depend on ``workers``. ``engine``: a Ray engine (see
    ``labeler.engines``) makes the chunks as tasks on its cluster instead, with the same bytes;
    a chunk's task writes its PNGs and packed rows in place (a retried task writes the same
    bytes again) and returns its labels and metadata, which are written here in index order.
    ``config`` (JSON-ready) is stored in ``dataset.json`` to record how the run was asked for.
    ``progress`` shows a progress bar (in images) on stderr.

    Raises ValueError on bad arguments or an output folder that may not be replaced, and
    OSError (with the output path in its message) when the folder cannot be written.
    """
    out = Path(out)
    family.check_problem(problem)
    check_transforms(family.get_label_preserving_transforms(problem))
    counts = check_split_counts(n_per_split, n_classes=len(family.class_names))
    seed = check_int("seed", seed, low=0)
    workers = check_int("workers", workers, low=1)
    chunk_size = check_int("chunk_size", chunk_size, low=1)
    if not dataclasses.is_dataclass(params) or isinstance(params, type):
        raise ValueError(f"params must be a dataclass instance, got {type(params).__name__}")
    check_output_folder(out, force=force)

    started = time.perf_counter()
    try:
        temp = _make_temp_folder(out)
    except OSError as error:
        raise OSError(f"cannot write the dataset {out}: {error}") from error
    try:
        n_per_split_class = _fill_folder(
            temp,
            family,
            problem,
            params,
            n_per_split=counts,
            seed=seed,
            workers=workers,
            engine=engine,
            config=dict(config or {}),
            chunk_size=chunk_size,
            progress=progress,
            description=out.name,
        )
        check_output_folder(out, force=force)  # again: someone may have written there meanwhile
        _move_into_place(temp, out)
    except OSError as error:
        shutil.rmtree(temp, ignore_errors=True)
        raise OSError(f"cannot write the dataset {out}: {error}") from error
    except BaseException:
        # Also on KeyboardInterrupt: leave nothing half-written behind.
        shutil.rmtree(temp, ignore_errors=True)
        raise
    seconds = time.perf_counter() - started
    return WriteSummary(
        path=out,
        family=family.name,
        problem=problem,
        n_per_split_class=n_per_split_class,
        n_images=sum(counts.values()),
        seconds=seconds,
    )


@dataclass(frozen=True)
class _WriteContext:
    """Everything a worker needs to make and write chunks; pickled once per worker."""

    folder: Path
    family: Family
    problem: str
    params: Any
    seed: int
    image_shape: tuple[int, int]
    # Byte offset of the pixels in each split's .npy file (after its header).
    data_offsets: dict[str, int]


@dataclass(frozen=True)
class _Chunk:
    split: str
    start: int
    count: int


@dataclass(frozen=True)
class _ChunkResult:
    split: str
    start: int
    labels: np.ndarray
    metadata_text: str


def _fill_folder(
    folder: Path,
    family: Family,
    problem: str,
    params: Any,
    *,
    n_per_split: dict[str, int],
    seed: int,
    workers: int,
    engine: Engine | None,
    config: dict[str, Any],
    chunk_size: int,
    progress: bool,
    description: str,
) -> dict[str, dict[str, int]]:
    class_names = family.class_names
    # One image tells the size, so that workers can write straight into preallocated arrays.
    first_split = next(iter(n_per_split))
    probe = family.generate(
        problem, params, split=first_split, seed=seed, start=0, count=1, with_metadata=False
    )
    height, width = (int(size) for size in probe.images.shape[1:])

    chunks: list[_Chunk] = []
    labels: dict[str, np.ndarray] = {}
    data_offsets: dict[str, int] = {}
    for split, n_images in n_per_split.items():
        for class_name in class_names:
            (folder / split / class_name).mkdir(parents=True)
        images = np.lib.format.open_memmap(
            folder / get_split_file(split, "images"),
            mode="w+",
            dtype=np.uint8,
            shape=(n_images, height, width),
        )
        data_offsets[split] = int(images.offset)
        del images  # closed; workers write their rows at their offsets
        labels[split] = np.empty(n_images, dtype=np.int64)
        chunks += [
            _Chunk(split, start, min(chunk_size, n_images - start))
            for start in range(0, n_images, chunk_size)
        ]

    context = _WriteContext(folder, family, problem, params, seed, (height, width), data_offsets)
    with contextlib.ExitStack() as stack:
        # The pool starts first, before the progress bar's thread exists (see _make_chunks).
        results = _make_chunks(context, chunks, workers=workers, engine=engine, stack=stack)
        metadata_files = {
            split: stack.enter_context(
                open(
                    folder / get_split_file(split, "metadata"), "w", encoding="utf-8", newline="\n"
                )
            )
            for split in n_per_split
        }
        bar = stack.enter_context(
            tqdm(
                total=sum(n_per_split.values()),
                unit="img",
                desc=description,
                disable=not progress,
                dynamic_ncols=True,
            )
        )
        for result in results:
            n_done = len(result.labels)
            labels[result.split][result.start : result.start + n_done] = result.labels
            # Chunks arrive in order, so the metadata lines stay in index order.
            metadata_files[result.split].write(result.metadata_text)
            bar.update(n_done)

    n_per_split_class: dict[str, dict[str, int]] = {}
    for split in n_per_split:
        np.save(folder / get_split_file(split, "labels"), labels[split])
        counts = np.bincount(labels[split], minlength=len(class_names))
        n_per_split_class[split] = {
            name: int(count) for name, count in zip(class_names, counts, strict=True)
        }
    write_info(
        folder,
        family,
        problem,
        params,
        n_per_split_class=n_per_split_class,
        seed=seed,
        image_shape=(height, width),
        config=config,
    )
    return n_per_split_class


def _make_chunks(
    context: _WriteContext,
    chunks: list[_Chunk],
    *,
    workers: int,
    engine: Engine | None,
    stack: contextlib.ExitStack,
) -> Iterator[_ChunkResult]:
    """Return an iterator over every chunk's result, in order, made here, by workers or by an
    engine's tasks.

    With several workers their pool starts now and stops when ``stack`` closes.
    """
    if engine is not None and engine.name != "local":
        return engine.map_in_order(_write_chunk, chunks, shared=context)
    workers = min(workers, len(chunks))
    if workers == 1:
        return (_write_chunk(context, chunk) for chunk in chunks)
    # fork where there is one: workers inherit the imported modules and the numba kernels the
    # probe image compiled, where spawn would load them again (seconds per worker). The pool
    # starts before any progress-bar thread exists, and workers touch neither torch nor
    # OpenMP, so the threads a fork does not copy are not missed.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    pool = stack.enter_context(
        multiprocessing.get_context(method).Pool(
            workers, initializer=_set_worker_context, initargs=(context,)
        )
    )
    return pool.imap(_write_chunk_in_worker, chunks)


# The context a worker process received from its pool's initializer; set once per process.
_worker_context: _WriteContext | None = None


def _set_worker_context(context: _WriteContext) -> None:
    global _worker_context
    _worker_context = context


def _write_chunk_in_worker(chunk: _Chunk) -> _ChunkResult:
    assert _worker_context is not None, "the pool initializer sets the context"
    return _write_chunk(_worker_context, chunk)


def _write_chunk(context: _WriteContext, chunk: _Chunk) -> _ChunkResult:
    """Make images ``chunk.start ..`` of a split; write their PNGs and packed rows."""
    family = context.family
    batch = family.generate(
        context.problem,
        context.params,
        split=chunk.split,
        seed=context.seed,
        start=chunk.start,
        count=chunk.count,
        with_metadata=True,
    )
    indices = np.arange(chunk.start, chunk.start + chunk.count)
    _check_batch(family, batch.images, batch.labels, batch.metadata, indices, context.image_shape)

    # Plain writes at the chunk's offset: cheaper than mapping the file, and chunks never overlap.
    height, width = context.image_shape
    with open(context.folder / get_split_file(chunk.split, "images"), "r+b") as packed:
        packed.seek(context.data_offsets[chunk.split] + chunk.start * height * width)
        packed.write(np.ascontiguousarray(batch.images).data)

    lines = []
    for index, image, label, metadata in zip(
        indices.tolist(), batch.images, batch.labels.tolist(), batch.metadata, strict=True
    ):
        relpath = get_image_relpath(chunk.split, family.class_names[label], index)
        with open(os.path.join(context.folder, relpath), "wb") as png:
            png.write(encode_png(image))
        record = {"index": index, "label": label}
        record.update((key, value) for key, value in metadata.items() if key not in record)
        lines.append(json.dumps(record, separators=(",", ":"), default=_to_json) + "\n")
    return _ChunkResult(chunk.split, chunk.start, batch.labels.astype(np.int64), "".join(lines))


def _check_batch(
    family: Family,
    images: np.ndarray,
    labels: np.ndarray,
    metadata: list[dict[str, Any]],
    indices: np.ndarray,
    image_shape: tuple[int, int],
) -> None:
    # A family that breaks its contract would silently unbalance or corrupt the dataset.
    n_images = len(indices)
    if images.shape != (n_images, *image_shape) or images.dtype != np.uint8:
        raise RuntimeError(
            f"family {family.name} returned images {images.dtype} {images.shape}, "
            f"expected uint8 {(n_images, *image_shape)}"
        )
    if not np.array_equal(labels, indices % len(family.class_names)):
        raise RuntimeError(f"family {family.name} broke the rule label = index % n_classes")
    if len(metadata) != n_images:
        raise RuntimeError(
            f"family {family.name} returned {len(metadata)} metadata dicts for {n_images} images"
        )


def _to_json(value: Any) -> Any:
    """Convert numpy values that ``json`` does not know (the generators return plain ones)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _make_temp_folder(out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_temp_folders(out)
    temp = out.parent / f"{out.name}{TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}"
    temp.mkdir()
    return temp


def _remove_abandoned_temp_folders(out: Path) -> None:
    """Delete temporary siblings of ``out`` left by writers that were killed (e.g. SIGKILL).

    Their names carry the writer's process id; a folder whose process no longer runs can never
    be finished, and only ever held a half-written copy.
    """
    for mark in (TEMP_MARK, OLD_MARK):
        for folder in out.parent.glob(f"{glob.escape(out.name)}{mark}*"):
            pid_text = folder.name[len(out.name) + len(mark) :].split("-", 1)[0]
            if pid_text.isdigit() and not _is_running(int(pid_text)):
                logger.info("removing %s, left by a writer that was killed", folder)
                shutil.rmtree(folder, ignore_errors=True)


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by someone else
    return True


def _move_into_place(temp: Path, out: Path) -> None:
    if out.is_dir() and any(out.iterdir()):
        # Replacing (force): move the old dataset aside first, so that a complete dataset
        # is at ``out`` at every moment except between the two renames.
        old = out.parent / f"{out.name}{OLD_MARK}{os.getpid()}-{secrets.token_hex(4)}"
        logger.info("replacing the existing dataset %s", out)
        os.rename(out, old)
        os.rename(temp, out)
        shutil.rmtree(old, ignore_errors=True)
        return
    if out.is_dir():
        out.rmdir()
    os.rename(temp, out)
