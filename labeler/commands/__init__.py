"""The ``labeler`` subcommands: each module's ``add_parser(subparsers)`` adds its parser, with
``run`` (parsed arguments -> exit code) as its default."""
