from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from labeler.store.atomic_files import (
    atomic_path,
    save_npy_atomic,
    write_bytes_atomic,
    write_json_atomic,
)


def test_write_bytes_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "data.bin"
    write_bytes_atomic(target, b"old")
    write_bytes_atomic(target, b"new contents")
    assert target.read_bytes() == b"new contents"
    assert [path.name for path in tmp_path.iterdir()] == ["data.bin"]


def test_write_json_keeps_key_order_and_indents(tmp_path: Path) -> None:
    target = tmp_path / "info.json"
    write_json_atomic(target, {"zeta": 1, "alpha": [1, 2], "name": "café"})
    text = target.read_text(encoding="utf-8")
    assert text.startswith('{\n  "zeta": 1,')
    assert text.endswith("}\n")
    assert "café" in text
    assert list(json.loads(text)) == ["zeta", "alpha", "name"]


def test_save_npy_round_trips_without_adding_a_suffix(tmp_path: Path) -> None:
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    save_npy_atomic(tmp_path / "images.npy", array)
    np.testing.assert_array_equal(np.load(tmp_path / "images.npy"), array)
    assert [path.name for path in tmp_path.iterdir()] == ["images.npy"]


def test_an_error_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "keep.txt"
    target.write_text("original")
    with pytest.raises(RuntimeError, match="boom"), atomic_path(target) as temp:
        temp.write_text("half")
        raise RuntimeError("boom")
    assert target.read_text() == "original"
    assert [path.name for path in tmp_path.iterdir()] == ["keep.txt"]


def test_temp_file_is_a_hidden_sibling(tmp_path: Path) -> None:
    with atomic_path(tmp_path / "out.json") as temp:
        assert temp.parent == tmp_path
        assert temp.name.startswith(".out.json.tmp-")
        assert not temp.exists()
        temp.write_text("{}")
    assert (tmp_path / "out.json").read_text() == "{}"


def test_writing_nothing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="nothing was written"), atomic_path(tmp_path / "x"):
        pass
    assert not (tmp_path / "x").exists()


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="does not exist"):
        write_bytes_atomic(tmp_path / "no" / "file.bin", b"x")
