"""The ``labeler`` subcommands: each module adds its parser and runs it.

A command module has ``add_parser(subparsers)``, which sets ``run`` (a function of the parsed
arguments returning the exit code) as the parser's default.
"""
