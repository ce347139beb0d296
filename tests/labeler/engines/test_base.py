"""The local engine, and choosing an engine by name."""

from __future__ import annotations

import sys

import pytest

from labeler.engines.base import LocalEngine, make_engine


def add(shared: int, item: int) -> int:
    return shared + item


def test_the_local_engine_maps_in_order() -> None:
    with LocalEngine() as engine:
        assert list(engine.map_in_order(add, [3, 1, 2], shared=10)) == [13, 11, 12]


def test_engine_names_and_addresses_are_checked() -> None:
    assert make_engine("local").name == "local"
    with pytest.raises(ValueError, match="unknown engine 'spark'; valid engines: local, ray"):
        make_engine("spark")
    with pytest.raises(ValueError, match="--ray-address goes with --engine ray"):
        make_engine("local", address="auto")


def test_ray_without_ray_installed_names_the_pip_command(monkeypatch, run_cli, tmp_path) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # what an environment without Ray sees
    with pytest.raises(ValueError, match=r"pip install 'guided-labeler\[ray\]'"):
        make_engine("ray")
    result = run_cli(
        "generate", "orientation", "--n-train", "4", "--n-test", "2", "--engine", "ray",
        "--out", tmp_path / "x",
    )  # fmt: skip
    assert result.code == 2
    assert "guided-labeler[ray]" in result.err and "Traceback" not in result.err
    assert not (tmp_path / "x").exists()
