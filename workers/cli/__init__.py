"""The `dialer` command line: a thin shell that owns paths, output and exit codes.

Each command lives in its own module and registers itself on `workers.cli.app.app`. This is the
only layer that turns a `DialerError` into a message for a person.
"""

from __future__ import annotations

import sys

from rich.console import Console

from dialer.errors import DialerError
from workers.cli import commands  # noqa: F401  (registers every command)
from workers.cli.app import app

EXIT_USER_ERROR = 2


def main() -> None:
    """Entry point of the `dialer` console script."""
    try:
        app()
    except DialerError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(EXIT_USER_ERROR)
