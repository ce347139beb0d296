"""Where numba keeps compiled kernels, keyed by the generators' source.

numba's own cache checks only the timestamp of the file that holds a cached function, not of
the files holding the functions it calls, so after an edit (or an upgrade) in ``sprites.py`` a
kernel in ``svrt/`` would keep running stale machine code. Keying the cache folder by a hash of
every source file of the package makes any change start a fresh cache.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba


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
    root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    package_dir = Path(__file__).resolve().parent
    numba.config.CACHE_DIR = str(  # type: ignore[attr-defined]
        root / "guided-labeler" / f"numba-{get_source_digest(package_dir)}"
    )
