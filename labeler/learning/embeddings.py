"""Embeddings of every sample of a project, computed once and cached.

``get_embedding(project, kind)`` gives float32 ``[n_samples, dim]`` vectors, row = sample id
(pool and test samples alike), of a kind from ``labeler.learning.embedding_kinds`` (``pixels``,
``efficientnet_lite0``, ...). The first call computes them and saves them as
``PROJECT/embeddings/<kind>-<key>.npy`` (atomically, with ``<kind>-<key>.json`` saying what they
were computed from); later calls memory-map the file.

The key is the start of the SHA-256 of everything the vectors depend on: the kind, its
parameters and version, its weights' SHA-256 (pretrained kinds), the project's image size and
channels, the packed images' shape, and the SHA-256 of the whole packed images file
(``pool_images.npy``), so that an embedding of other images is never reused. Hashing the whole
file, streamed, costs ~1 s per GB (1.3 s for 100,000 colour images of 64 px, 0.4 s grayscale)
against minutes to embed them, and changes when any pixel does; a sample of rows would miss a
change elsewhere. When a kind is computed anew, its files of other keys (other images or
weights) are deleted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from labeler.learning.devices import cpu_threads, resolve_device
from labeler.learning.embedding_kinds import get_embedding_kind
from labeler.learning.joint_embedding import join_embeddings, split_joint_name
from labeler.store.project import Project
from labeler.store.project_files import (
    EMBEDDING_KEY_LENGTH,
    EmbeddingFile,
    get_embedding_file,
    get_images_file,
    list_embedding_files,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Embedding:
    """``vectors`` float32 ``[n_samples, dim]`` (row = sample id; a read-only memory map) of
    embedding ``kind``, cached in ``path``; ``seconds`` spent computing them in this call and
    ``computed`` whether this call did (False and 0.0 when read from the cache)."""

    vectors: NDArray[np.float32]
    kind: str
    path: Path
    seconds: float
    computed: bool

    @property
    def n_samples(self) -> int:
        return int(self.vectors.shape[0])

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])


def get_embedding(
    project: Project,
    kind: str,
    *,
    progress: bool = True,
    n_threads: int | None = None,
    device: str | torch.device = "auto",
) -> Embedding:
    """The ``kind`` embedding of every sample of ``project``, from the cache or computed now
    (on ``device``, "auto": CUDA when present; ``n_threads`` CPU threads, None: every core;
    a progress bar unless ``progress`` is False) and cached.

    Raises ValueError for an unknown kind (listing the valid ones) or a kind that cannot run
    here (naming what to install). A cache file that cannot be read or has the wrong number of
    rows (e.g. cut short by a full disk) is computed again.
    """
    embedder = get_embedding_kind(kind)
    images = project.load_images()
    file, key_info = _locate(project, kind, embedder.get_key_parts())
    if file.path.is_file():
        cached = file.read()
        if cached is not None and cached.shape[0] == len(images):
            logger.info("%s embedding of %d images read from %s", kind, len(images), file.path)
            return Embedding(cached, kind, file.path, 0.0, computed=False)
        logger.warning("%s is not float32 [%d, dim]: computing it again", file.path, len(images))
    torch_device = resolve_device(device)
    logger.info("computing the %s embedding of %d images once", kind, len(images))
    started = time.perf_counter()
    threads = cpu_threads(n_threads) if torch_device.type == "cpu" else contextlib.nullcontext()
    with threads:
        vectors = embedder.embed(
            images, device=torch_device, n_threads=n_threads, progress=progress
        )
    seconds = max(time.perf_counter() - started, 1e-9)
    vectors = _check_vectors(vectors, kind=kind, n_samples=len(images))
    info = {
        **key_info,
        "dim": int(vectors.shape[1]),
        "seconds": round(seconds, 3),
        "device": str(torch_device),
        "n_threads": n_threads,
        "created_at": time.time(),
    }
    file.write(vectors, info)
    _remove_superseded(project, file)
    logger.info(
        "computed the %s embedding in %.1f s (%.0f img/s)", kind, seconds, len(images) / seconds
    )
    stored = file.read()
    if stored is None:
        raise OSError(f"{file.path} could not be read back after writing it")
    return Embedding(stored, kind, file.path, seconds, computed=True)


def get_embedding_vectors(
    project: Project,
    names: list[str],
    *,
    progress: bool = True,
    n_threads: int | None = None,
    device: str | torch.device = "auto",
) -> dict[str, NDArray[np.float32]]:
    """The vectors of each embedding of ``names``: a kind (``get_embedding``), or a joint
    embedding of kinds named with ``+`` (``labeler.learning.joint_embedding``); each kind is
    read or computed once, and cached."""
    kinds = dict.fromkeys(part for name in names for part in split_joint_name(name))
    fetched = {
        kind: get_embedding(
            project, kind, progress=progress, n_threads=n_threads, device=device
        ).vectors
        for kind in kinds
    }
    vectors = {}
    for name in names:
        parts = split_joint_name(name)
        vectors[name] = (
            fetched[name]
            if len(parts) == 1
            else join_embeddings({part: fetched[part] for part in parts})
        )
    return vectors


def is_embedding_cached(project: Project, kind: str) -> bool:
    """Whether ``project`` holds a cache file of ``kind`` for its current images (and the
    kind's current weights); False too when the kind cannot run here."""
    try:
        key_parts = get_embedding_kind(kind).get_key_parts()
    except ValueError:
        return False
    return _locate(project, kind, key_parts)[0].path.is_file()


def _locate(
    project: Project, kind: str, key_parts: dict[str, Any]
) -> tuple[EmbeddingFile, dict[str, Any]]:
    """The cache file of ``kind`` for the project's current images, and what its key says."""
    key_info = {
        "kind": kind,
        **key_parts,
        "image_size": project.image_size,
        "channels": project.channels,
        "images_shape": list(project.load_images().shape),
        "images_sha256": get_images_digest(project),
    }
    return get_embedding_file(project.path, kind, _make_key(key_info)), key_info


def list_embeddings(project: Project) -> list[EmbeddingFile]:
    """The embeddings cached in ``project``, by kind then key (``read()`` gives the vectors,
    ``read_info()`` what they were computed from)."""
    return list_embedding_files(project.path)


def get_images_digest(project: Project) -> str:
    """SHA-256 (hex) of the project's packed images file, streamed once per process and file
    version: the file never changes after ``init``, and hashing gigabytes on every question
    (the dashboard's map asks which embeddings are cached) would stall the server."""
    path = get_images_file(project.path)
    stat = path.stat()
    version = (str(path.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns)
    digest = _IMAGE_DIGESTS.get(version)
    if digest is None:
        with open(path, "rb") as images_file:
            digest = hashlib.file_digest(images_file, "sha256").hexdigest()
        _IMAGE_DIGESTS[version] = digest
    return digest


# (path, inode, size, mtime) of a packed images file -> its SHA-256.
_IMAGE_DIGESTS: dict[tuple[str, int, int, int], str] = {}


def _make_key(key_info: dict[str, Any]) -> str:
    text = json.dumps(key_info, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:EMBEDDING_KEY_LENGTH]


def _check_vectors(vectors: Any, *, kind: str, n_samples: int) -> NDArray[np.float32]:
    array = np.asarray(vectors)
    if array.ndim != 2 or array.shape[0] != n_samples or array.shape[1] < 1:
        raise RuntimeError(
            f"embedding kind {kind!r} gave an array of shape {array.shape}, "
            f"expected [{n_samples}, dim]"
        )
    if not np.isfinite(array).all():
        raise RuntimeError(f"embedding kind {kind!r} gave values that are not finite")
    return np.ascontiguousarray(array, dtype=np.float32)


def _remove_superseded(project: Project, current: EmbeddingFile) -> None:
    """Delete the files of ``current``'s kind with other keys: they were computed from other
    images or weights and will not be read again."""
    for file in list_embedding_files(project.path):
        if file.kind == current.kind and file.key != current.key:
            logger.info("removing %s (computed from other images or weights)", file.path)
            file.remove()
