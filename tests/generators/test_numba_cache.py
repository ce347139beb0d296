"""The numba cache folder follows the generators' source, old folders are pruned, and
importing the package does none of it: the first kernel compile does."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from generators import numba_cache

ROOT = Path(__file__).resolve().parents[2]

# Imports every kernel module, records what the import left behind, then calls one small kernel.
_FIRST_USE = """
import json, os, sys
from pathlib import Path
import numba
import numpy as np
config_before = numba.config.CACHE_DIR
import generators
from generators.registry import list_families, get_family
for name in list_families():
    get_family(name)
from generators import rng
cache_home = Path(os.environ["XDG_CACHE_HOME"])
after_import = sorted(str(p) for p in cache_home.rglob("*"))
config_after_import = numba.config.CACHE_DIR
rng.make_state(np.uint64(1), np.uint64(2))
stats = rng.make_state.stats
print(json.dumps({
    "after_import": after_import,
    "config_unchanged_by_import": config_after_import == config_before,
    "config_unchanged_by_use": numba.config.CACHE_DIR == config_before,
    "cache_path": stats.cache_path,
    "hits": sum(stats.cache_hits.values()),
    "misses": sum(stats.cache_misses.values()),
}))
"""


def _run_first_use(cache_home: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(cache_home)
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-c", _FIRST_USE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_import_is_quiet_and_the_first_kernel_call_uses_the_cache(tmp_path: Path) -> None:
    folder = tmp_path / "guided-labeler" / f"numba-{_get_package_digest()}"

    first = _run_first_use(tmp_path)
    assert first["after_import"] == []
    assert first["config_unchanged_by_import"] and first["config_unchanged_by_use"]
    assert Path(first["cache_path"]).parent == folder
    assert (first["hits"], first["misses"]) == (0, 1)
    assert list(folder.rglob("rng.make_state-*.nbi"))

    second = _run_first_use(tmp_path)
    assert (second["hits"], second["misses"]) == (1, 0)


def test_digest_changes_with_any_source_file(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.py").write_text("y = 2\n")
    before = numba_cache.get_source_digest(tmp_path)
    assert before == numba_cache.get_source_digest(tmp_path)
    (tmp_path / "sub" / "b.py").write_text("y = 3\n")
    assert numba_cache.get_source_digest(tmp_path) != before


def test_cache_folder_is_keyed_and_stale_ones_are_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    root = tmp_path / "guided-labeler"
    stale = root / "numba-0000000000000000"
    recent = root / "numba-1111111111111111"
    for folder in (stale, recent):
        folder.mkdir(parents=True)
    old = time.time() - (numba_cache.STALE_DAYS + 1) * 86400
    os.utime(stale, (old, old))

    chosen = numba_cache.get_cache_folder()

    expected = root / f"numba-{_get_package_digest()}"
    assert chosen == expected
    assert expected.is_dir() and recent.is_dir() and not stale.exists()


def test_an_explicit_numba_cache_dir_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUMBA_CACHE_DIR", "/somewhere")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert numba_cache.get_cache_folder() is None
    assert not any(tmp_path.iterdir())


def _get_package_digest() -> str:
    return numba_cache.get_source_digest(Path(numba_cache.__file__).resolve().parent)
