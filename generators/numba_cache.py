"""Where numba keeps compiled kernels, keyed by the generators' source.

numba's own cache checks only the timestamp of the file that holds a cached function, not of
the files holding the functions it calls, so after an edit (or an upgrade) in ``sprites.py`` a
kernel in ``svrt/`` would keep running stale machine code. Keying the cache folder by a hash of
every source file of the package makes any change start a fresh cache. Folders of other source
versions that have not been used for ``STALE_DAYS`` are removed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

import numba

STALE_DAYS = 30


def get_source_digest(package_dir: Path) -> str:
    """A short hash of every ``.py`` file under ``package_dir`` (paths and contents)."""
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted(package_dir.rglob("*.py")):
        digest.update(path.relative_to(package_dir).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def configure_numba_cache() -> None:
    """Point numba's cache at a folder named after the source digest.

    An explicit ``NUMBA_CACHE_DIR`` from the user wins. Must run before any kernel module is
    imported, since numba picks the cache folder when a function is decorated.
    """
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "guided-labeler"
    folder = root / f"numba-{get_source_digest(Path(__file__).resolve().parent)}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        os.utime(folder)  # marks it as in use for the pruning below
        _remove_stale_folders(root, keep=folder)
    except OSError:
        return  # a read-only home: numba falls back to its own cache locations
    numba.config.CACHE_DIR = str(folder)  # type: ignore[attr-defined]


def _remove_stale_folders(root: Path, *, keep: Path) -> None:
    cutoff = time.time() - STALE_DAYS * 86400
    for folder in root.glob("numba-*"):
        if folder != keep and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
