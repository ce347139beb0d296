"""The flags every command that can scale out shares: ``--engine`` and ``--ray-address``."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from typing import Any

from labeler.engines.base import ENGINES, Engine, make_engine


def add_engine_arguments(parser: Any) -> None:
    parser.add_argument(
        "--engine",
        default="local",
        help=f"where tasks run: {' or '.join(ENGINES)} (default local; ray needs the ray extra)",
    )
    parser.add_argument(
        "--ray-address",
        default=None,
        help="with --engine ray: a cluster to join ('auto': the running one); default: start a "
        "private local cluster",
    )


@contextlib.contextmanager
def make_engine_from_args(args: argparse.Namespace) -> Iterator[Engine]:
    """The engine the flags ask for, closed (its private cluster stopped) afterwards."""
    engine = make_engine(args.engine, address=args.ray_address)
    try:
        yield engine
    finally:
        engine.close()
