"""``labeler grid``: the admin's switch and blind share, and review agreement by source."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from labeler.store.project import open_project


def test_grid_settings_and_review_agreement(project: Path, run_cli: Callable) -> None:
    shown = run_cli("grid", project)
    assert shown.code == 0 and "grid labeling on; blind share 0.05" in shown.out
    assert "grid labels reviewed: 0, confirmed: 0 (-)" in shown.out
    changed = run_cli("grid", project, "--off", "--blind-share", "0.1")
    assert "grid labeling off; blind share 0.1" in changed.out
    with open_project(project) as opened:
        store = opened.store
        assert not store.get_grid_settings().enabled
        store.start_round(strategy="random", query_size=1, config={})
        store.submit_grid("class_0", accepted=[0, 1], annotator="ann", request_id="g")
        store.add_reviews([0, 1], reason="calibration")
        store.submit_review(0, "class_0", annotator="bob", request_id="r0")
    assert "grid labels reviewed: 1, confirmed: 1 (100%)" in run_cli("grid", project, "--on").out


def test_bad_grid_settings_exit_2(project: Path, run_cli: Callable) -> None:
    for args in (("--blind-share", "0.9"), ("--on", "--off"), ("--blind-share", "x")):
        result = run_cli("grid", project, *args)
        assert result.code == 2, args
    assert "blind share" in run_cli("grid", project, "--blind-share", "0.9").err
