"""``labeler embed``: compute and cache one embedding of every sample of a project."""

from __future__ import annotations

import argparse
from typing import Any

from labeler.learning.devices import DEVICES
from labeler.learning.embedding_kinds import list_embedding_kinds
from labeler.learning.embeddings import get_embedding
from labeler.store.project import open_project


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "embed",
        help="compute and cache an embedding of every image of a project",
        description=(
            "Compute an embedding (a float32 vector per sample, row = sample id) of every "
            "image of the project once and cache it in PROJECT/embeddings/; run again, it "
            "reads the cache, unless the images changed."
        ),
    )
    parser.add_argument("project", help="project folder")
    parser.add_argument(
        "--kind",
        required=True,
        help=f"embedding kind: {', '.join(list_embedding_kinds())}",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads (default: every core; give 1 to each of several processes "
        "sharing the cores)",
    )
    parser.add_argument(
        "--device", default="auto", choices=DEVICES, help="auto: CUDA when present (default auto)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with open_project(args.project) as project:
        embedding = get_embedding(
            project, args.kind, n_threads=args.threads, device=args.device, progress=True
        )
    how = f"computed in {embedding.seconds:.1f} s" if embedding.computed else "read from the cache"
    print(
        f"{embedding.kind}: {embedding.n_samples} x {embedding.dim} float32, {how}: "
        f"{embedding.path}"
    )
    return 0
