"""``labeler suspects``: the labels that are probably wrong, most suspect first."""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any

from generators.checks import check_int
from labeler.api.projects import get_suspects
from labeler.commands.table import format_table
from labeler.loop.label_checks import SuspectList


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "suspects",
        help="list the labels that are probably wrong, most suspect first",
        description=(
            "Rank the current labels by how likely each is wrong: confident learning on the "
            "out-of-fold probabilities the latest round computed (each label predicted by a "
            "head that did not see it), and disagreements between annotators. Flagged: the "
            "model is confident of another class (above that class's average confidence). "
            "Score: 1 - p / t, where p is the model's probability of the given label and t its "
            "average over the labels of that class (0: backed as much as the class's labels on "
            "average; near 1: hardly backed). Disputed labels first, then by score."
        ),
    )
    parser.add_argument("project", help="project folder")
    parser.add_argument("--top", type=int, default=20, help="labels to list (default 20)")
    parser.add_argument("--json", action="store_true", help="print every ranked label as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    top = check_int("--top", args.top, low=1)
    suspects = get_suspects(args.project)
    if args.json:
        print(json.dumps(dataclasses.asdict(suspects), indent=2))
        return 0
    print(format_suspects(suspects, top=top))
    return 0


def format_suspects(suspects: SuspectList, *, top: int) -> str:
    if suspects.n_labels == 0:
        return "no labels yet"
    if suspects.round_id is None:
        source = "no round has computed out-of-fold probabilities yet (run `labeler round`)"
    else:
        source = f"out-of-fold probabilities of round {suspects.round_id}: {suspects.source}"
    lines = [
        f"{suspects.n_flagged} of {suspects.n_labels} labels flagged, {suspects.n_disputed} "
        f"disputed by annotators; {suspects.n_scored} checked with {source}",
        "",
    ]
    rows = [
        [
            row["sample"],
            row["path"],
            row["label"],
            row["model_label"] or "-",
            "-" if row["score"] is None else f"{row['score']:+.3f}",
            "yes" if row["flagged"] else "",
            _describe_dispute(row),
        ]
        for row in suspects.rows[:top]
    ]
    headers = ["sample", "path", "label", "model says", "score", "flagged", "annotators"]
    lines.append(format_table(headers, rows))
    return "\n".join(lines)


def _describe_dispute(row: dict[str, Any]) -> str:
    return ", ".join(f"{name}: {label}" for name, label in sorted(row["annotators"].items()))
