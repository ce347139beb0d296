"""``labeler oracle``: answer the queue with the samples' known labels (a simulated annotator).

For demos and for trying the loop on a generated dataset or a labeled folder: the known label of
each queued sample (from the dataset's ground truth or the source's class folders) is recorded
as a label event with source "oracle", as an annotator would. Samples without a known label are
left in the queue.
"""

from __future__ import annotations

import argparse
from typing import Any

from labeler.store.project import open_project

SOURCE = "oracle"


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "oracle",
        help="label the queued samples with their known labels (simulated annotator)",
        description=(
            "Record the known label (ground truth of a generated dataset, or the class folder "
            "of the source) of every queued sample, as annotator 'oracle'. For trying the "
            "loop without people."
        ),
    )
    parser.add_argument("project", help="project folder")
    parser.add_argument(
        "--limit", type=int, default=None, help="answer at most this many, queue order"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 1:
        raise ValueError(f"--limit must be positive, got {args.limit}")
    with open_project(args.project) as project:
        store = project.store
        queue = store.get_queue()[: args.limit]
        pairs = []
        n_unknown = 0
        for item in queue:
            known = store.get_sample(item.sample_id).known_label
            if known is None:
                n_unknown += 1
                continue
            pairs.append((item.sample_id, project.class_names[known]))
        n_added = store.add_labels(pairs, annotator=SOURCE, source=SOURCE) if pairs else 0
        n_left = len(store.get_queue())
    unknown = f"; {n_unknown} have no known label and stay queued" if n_unknown else ""
    print(f"oracle labeled {n_added} queued samples{unknown}; {n_left} left in the queue")
    return 0
