"""The ``labeler`` command line: parses arguments, configures logging, reports errors.

Bad input (ValueError, OSError) ends with a one-line message on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator, Sequence
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any, NoReturn

from labeler.commands import (
    annotators,
    audit,
    embed,
    export,
    generate,
    gold,
    grid,
    import_labels,
    init,
    label,
    oracle,
    pool_map,
    preview,
    prune,
    review,
    round,
    simulate,
    status,
    suspects,
)

logger = logging.getLogger(__name__)

_COMMANDS = (
    generate,
    audit,
    preview,
    init,
    embed,
    pool_map,
    status,
    suspects,
    review,
    label,
    import_labels,
    export,
    oracle,
    round,
    simulate,
    annotators,
    gold,
    grid,
    prune,
)
EXIT_BAD_INPUT = 2
# Packages add commands through this entry-point group (the annotation server adds `serve`),
# so that the engine never imports them: each entry names a module with ``add_parser``.
COMMAND_ENTRY_POINTS = "guided_labeler.commands"


class UsageError(ValueError):
    """A command line that argparse rejects."""


class _Parser(argparse.ArgumentParser):
    # argparse prints usage and exits on errors; raise instead, so that main() reports every
    # error the same way and returns its code (callers and tests get an int, not SystemExit).
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="labeler",
        description="Active-learning labeling of images, with abstract-dataset generators.",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="debug logging, tracebacks on errors"
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for command in (*_COMMANDS, *_load_plugin_commands()):
        command.add_parser(subparsers)
    return parser


def _load_plugin_commands() -> Iterator[ModuleType | Any]:
    for entry in sorted(entry_points(group=COMMAND_ENTRY_POINTS), key=lambda e: e.name):
        try:
            yield entry.load()
        except ImportError as error:  # e.g. the server's Flask is not installed
            logger.debug("command %s is unavailable: %s", entry.name, error)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``labeler`` command line; return its exit code."""
    parser = make_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as error:
        print(f"labeler: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SystemExit as exit_:  # --help and --version
        return exit_.code if isinstance(exit_.code, int) else 0
    if not hasattr(args, "run"):
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.run(args))
    except (ValueError, OSError) as error:
        logger.debug("traceback of the error below", exc_info=True)
        print(f"labeler: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("labeler: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
