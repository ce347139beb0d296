"""Atomic file writes: a file is either its old complete self or its new complete self.

Each write goes to a temporary sibling (same folder, so the rename never crosses file systems),
is flushed to disk, then renamed over the target with ``os.replace``; the folder is flushed too,
so the rename itself survives a power cut. A writer killed mid-way leaves at most a temporary
file whose name starts with ``.`` and holds ``.tmp-``, never a half-written target.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

_TEMP_MARK = ".tmp-"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it to ``path`` atomically.

    The caller writes the complete file at the yielded path (by name, e.g. with ``np.save`` or
    ``Image.save``). On leaving the block without error the file is fsynced and renamed over
    ``path`` (replacing any old file), and the folder is fsynced. On error the temporary file is
    removed and ``path`` is left as it was. The folder must exist.
    """
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        raise OSError(f"cannot write {target}: folder {folder} does not exist")
    temp = folder / f".{target.name}{_TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}"
    try:
        yield temp
        if not temp.exists():
            raise OSError(f"cannot write {target}: nothing was written to {temp}")
        _fsync_file(temp)
        os.replace(temp, target)
    except BaseException:
        # Also on KeyboardInterrupt: leave no temporary file behind.
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
    fsync_folder(folder)


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see ``atomic_path``)."""
    with atomic_path(path) as temp, open(temp, "wb") as file:
        file.write(data)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` as UTF-8, atomically."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as JSON (indent 2, keys in their given order, final newline), atomically."""
    text = json.dumps(obj, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
    write_text_atomic(path, text)


def save_npy_atomic(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Save ``array`` as a ``.npy`` file at ``path`` (no pickled objects), atomically."""
    with atomic_path(path) as temp, open(temp, "wb") as file:
        # An open file, not a name: np.save would append ".npy" to the temporary name.
        np.save(file, np.asarray(array), allow_pickle=False)


def fsync_folder(folder: str | os.PathLike[str]) -> None:
    """Flush a folder's entries (new names, renames) to disk, where the system allows it."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open folders; the rename is still atomic there
        logger.debug("cannot open folder %s to fsync it", folder)
        return
    try:
        os.fsync(descriptor)
    except OSError:
        logger.debug("cannot fsync folder %s", folder)
    finally:
        os.close(descriptor)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as file:
        os.fsync(file.fileno())
