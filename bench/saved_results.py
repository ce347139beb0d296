"""A benchmark's saved report: its JSON and markdown, rewritten from the JSON without running
again, and merged with what an earlier run, or a run beside this one, saved."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any


def add_markdown_only_flag(parser: argparse.ArgumentParser) -> None:
    """Add ``--markdown-only``: rewrite the .md from the saved .json and stop."""
    parser.add_argument(
        "--markdown-only", action="store_true", help="rewrite the .md from the saved .json"
    )


def rewrite_markdown(out: Path, name: str, make_markdown: Callable[[Any], str]) -> int:
    """Write ``out/<name>.md`` from ``out/<name>.json`` with ``make_markdown``; exit code 0."""
    results = json.loads((out / f"{name}.json").read_text())
    (out / f"{name}.md").write_text(make_markdown(results))
    return 0


def save_report(out: Path, report: dict[str, Any], make_markdown: Callable[[Any], str]) -> None:
    """Write ``out`` with the suffixes ``.json`` (the report) and ``.md`` (its table), and
    print the table."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n")
    markdown = make_markdown(report)
    out.with_suffix(".md").write_text(markdown)
    print(markdown)


def rewrite_saved_report(out: Path, make_markdown: Callable[[Any], str]) -> None:
    """Write ``out.md`` from the ``out.json`` that ``save_report`` wrote, with ``make_markdown``."""
    report = json.loads(out.with_suffix(".json").read_text())
    out.with_suffix(".md").write_text(make_markdown(report))


def read_saved(path: Path, default: dict[str, Any]) -> dict[str, Any]:
    """The report saved at ``path`` (a .json), or ``default`` when there is none yet."""
    if not path.exists():
        return default
    saved: dict[str, Any] = json.loads(path.read_text())
    return saved


def merge_rows(
    saved: Sequence[dict[str, Any]],
    mine: Sequence[dict[str, Any]],
    key: Callable[[dict[str, Any]], Hashable],
) -> list[dict[str, Any]]:
    """The saved rows that none of ``mine`` replaces (same ``key``), then ``mine``: benches
    read the saved report just before writing, so that rows of earlier runs, and of a run
    beside this one (one list of problems per process on a shared machine), are kept."""
    replaced = {key(row) for row in mine}
    return [row for row in saved if key(row) not in replaced] + list(mine)
