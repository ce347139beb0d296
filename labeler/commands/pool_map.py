"""``labeler map``: lay the pool out in 2-D for the dashboard's map."""

from __future__ import annotations

import argparse
from typing import Any

from labeler.learning.embedding_kinds import list_embedding_kinds
from labeler.learning.pool_map import MAP_METHODS
from labeler.loop.pool_layout import MAP_EMBEDDINGS, make_pool_map
from labeler.store.project import open_project
from labeler.store.project_files import get_map_file


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "map",
        help="lay the pool out in 2-D from an embedding, for the dashboard's map",
        description=(
            "Compute a 2-D layout of every pool image from a cached embedding and keep it in "
            "PROJECT/map/layout.npz; the dashboard draws it, coloured by label, the model's "
            "guess or its acquisition score. The annotation server makes it by itself after a "
            "round when it is missing or from another embedding."
        ),
    )
    parser.add_argument("project", help="project folder")
    parser.add_argument(
        "--embedding",
        default="auto",
        help=f"auto (the first cached of {', '.join(MAP_EMBEDDINGS)}) or a kind: "
        f"{', '.join(list_embedding_kinds())}",
    )
    parser.add_argument(
        "--method",
        default="auto",
        choices=MAP_METHODS,
        help="auto: umap; tsne for a few thousand images; pca in seconds (default auto)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed of the layout")
    parser.add_argument(
        "--threads", type=int, default=1, help="CPU threads (more: faster, not reproducible)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with open_project(args.project) as project:
        pool_map = make_pool_map(
            project,
            embedding=args.embedding,
            method=args.method,
            seed=args.seed,
            n_threads=args.threads,
        )
        path = get_map_file(project.path)
    info = pool_map.info
    print(
        f"map of {info['n']} pool images from the {info['embedding']} embedding by "
        f"{info['method']} in {info['seconds']:.1f} s: {path}"
    )
    return 0
