"""Known traps of Ray, checked on the sources: seeds never come from Python's per-process
``hash()`` of a string, and nothing uses Ray Data (whose actors can deadlock a small cluster
and whose rows come back out of order unless told otherwise)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
SOURCES = sorted(
    path
    for package in ("labeler", "generators", "server")
    for path in (REPO_ROOT / package).rglob("*.py")
)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_no_source_calls_the_builtin_hash(path: Path) -> None:
    # hash("abc") differs between processes (PYTHONHASHSEED), so a seed made from it would
    # differ between Ray workers; seeds come from integers or zlib.crc32.
    calls = [
        node.lineno
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "hash"
    ]
    assert not calls, f"{path}: hash() on lines {calls}"


def test_nothing_uses_ray_data() -> None:
    for path in SOURCES:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            assert not any(n == "ray.data" or n.startswith("ray.data.") for n in names), path
