"""The numba cache folder follows the generators' source and old folders are pruned."""

import os
import time
from pathlib import Path

import numba
import pytest

from generators import numba_cache


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
    monkeypatch.setattr(numba.config, "CACHE_DIR", "", raising=False)
    root = tmp_path / "guided-labeler"
    stale = root / "numba-0000000000000000"
    recent = root / "numba-1111111111111111"
    for folder in (stale, recent):
        folder.mkdir(parents=True)
    old = time.time() - (numba_cache.STALE_DAYS + 1) * 86400
    os.utime(stale, (old, old))

    numba_cache.configure_numba_cache()

    expected = root / f"numba-{numba_cache.get_source_digest(Path(numba_cache.__file__).parent)}"
    chosen = numba.config.CACHE_DIR
    assert chosen == str(expected)
    assert expected.is_dir() and recent.is_dir() and not stale.exists()


def test_an_explicit_numba_cache_dir_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUMBA_CACHE_DIR", "/somewhere")
    monkeypatch.setattr(numba.config, "CACHE_DIR", "unchanged", raising=False)
    numba_cache.configure_numba_cache()
    chosen = numba.config.CACHE_DIR
    assert chosen == "unchanged"
