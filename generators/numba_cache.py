"""Where numba keeps compiled kernels, keyed by the generators' source, chosen at first use.

numba's own cache checks only the timestamp of the file that holds a cached function, not of
the files holding the functions it calls, so after an edit (or an upgrade) in ``sprites.py`` a
kernel in ``svrt/`` would keep running stale machine code. Keying the cache folder by a hash of
every source file of the package makes any change start a fresh cache. Folders of other source
versions that have not been used for ``STALE_DAYS`` are removed.

Importing does none of this: kernels are declared with ``cached_njit``, and the first compile of
any of them (a first call, or a caller's compile) hashes the source, makes and prunes the folders
and switches the cache on for every kernel. numba's global ``config.CACHE_DIR`` is left as it was.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba
from numba.core.dispatcher import Dispatcher

STALE_DAYS = 30

_lock = threading.RLock()
# Kernels declared before the first compile; their cache is switched on by ``use_package_cache``.
_waiting: list[Dispatcher] = []
# The folder chosen by ``use_package_cache``: None before it runs, "" for numba's own locations.
_chosen: str | None = None


def get_source_digest(package_dir: Path) -> str:
    """A short hash of every ``.py`` file under ``package_dir`` (paths and contents)."""
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted(package_dir.rglob("*.py")):
        digest.update(path.relative_to(package_dir).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cached_njit(func: Callable[..., Any]) -> Any:
    """``numba.njit(cache=True)``, with the cache in the package's folder from the first compile.

    Until a kernel is first compiled, nothing is hashed, created or configured.
    """
    kernel = numba.njit(func)
    if not isinstance(kernel, Dispatcher):  # NUMBA_DISABLE_JIT gives back the Python function
        return kernel
    with _lock:
        if _chosen is not None:
            _enable_cache(kernel, _chosen)
        else:
            _waiting.append(kernel)
            # Shadows the method until the cache is on; use_package_cache removes it again.
            vars(kernel)["compile"] = lambda sig: _compile_first(kernel, sig)
    return kernel


def _compile_first(kernel: Dispatcher, sig: Any) -> Any:
    use_package_cache()
    return kernel.compile(sig)


def use_package_cache() -> None:
    """Choose the cache folder (once per process) and switch the cache on for every kernel."""
    global _chosen
    with _lock:
        if _chosen is not None:
            return
        folder = get_cache_folder()
        _chosen = "" if folder is None else str(folder)
        for kernel in _waiting:
            vars(kernel).pop("compile", None)
            _enable_cache(kernel, _chosen)
        _waiting.clear()


def get_cache_folder() -> Path | None:
    """Make (and mark as in use) the folder of this source version, pruning stale ones.

    None where numba should keep its own locations: an explicit ``NUMBA_CACHE_DIR`` from the
    user wins, and a read-only home leaves numba to fall back on its own.
    """
    if os.environ.get("NUMBA_CACHE_DIR"):
        return None
    root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "guided-labeler"
    folder = root / f"numba-{get_source_digest(Path(__file__).resolve().parent)}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        os.utime(folder)  # marks it as in use for the pruning below
        _remove_stale_folders(root, keep=folder)
    except OSError:
        return None
    return folder


def _enable_cache(kernel: Dispatcher, folder: str) -> None:
    # numba reads config.CACHE_DIR once, when a function's cache is made: set it only for that.
    if not folder:
        kernel.enable_caching()
        return
    config: Any = numba.config  # its settings are set at run time, unknown to mypy
    saved = config.CACHE_DIR
    config.CACHE_DIR = folder
    try:
        kernel.enable_caching()
    finally:
        config.CACHE_DIR = saved


def _remove_stale_folders(root: Path, *, keep: Path) -> None:
    cutoff = time.time() - STALE_DAYS * 86400
    for folder in root.glob("numba-*"):
        if folder != keep and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
