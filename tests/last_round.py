"""The last finished round of a project, as tests read it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from labeler.store import project_files
from labeler.store.project import open_project


def get_last_round_folder(project: Path) -> Path:
    """The folder of ``project``'s last finished round (the test fails when there is none)."""
    with open_project(project) as opened:
        last = opened.store.get_last_done_round()
        assert last is not None and last.folder
        return opened.path / last.folder


def read_last_report(project: Path) -> dict[str, Any]:
    """The report of ``project``'s last finished round."""
    report: dict[str, Any] = json.loads(
        (get_last_round_folder(project) / project_files.REPORT_FILE).read_text()
    )
    return report
