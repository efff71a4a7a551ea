"""CLI subcommands, one module each, found automatically by `oversight.cli`.

A module here defines `register(subparsers) -> None`, which adds its parser and sets
`func=<callable(args) -> exit code>`. Adding a command means adding a file; cli.py is untouched.
"""
