"""docs/python-api.md stays true: its Python blocks run in order, in one namespace, in an empty
folder, as a reader would paste them into a notebook."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "python-api.md"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def test_the_doc_has_the_worked_example() -> None:
    blocks = BLOCK.findall(DOC.read_text())
    assert len(blocks) == 4
    assert "api.simulate(" in blocks[1] and "LabelPreservingTransform" in blocks[0]


@pytest.mark.slow
def test_every_python_block_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "python_api_doc"}
    for number, block in enumerate(BLOCK.findall(DOC.read_text()), start=1):
        code = compile(block, f"{DOC.name} block {number}", "exec")
        exec(code, namespace)  # the doc's own asserts check its results
    assert (tmp_path / "work" / "study" / "learning_curves.png").is_file()
    assert (tmp_path / "work" / "my_curve.png").stat().st_size > 10_000
    assert len((tmp_path / "work" / "labels.csv").read_text().splitlines()) == 17
