"""The `dialer` command line: a thin shell that owns paths, output and exit codes.

Each command lives in its own module and registers itself on `workers.cli.app.app`. This is the
only layer that turns a `DialerError` into a message for a person.
"""

from __future__ import annotations

import importlib
import sys

from rich.console import Console
from rich.markup import escape

import workers
from dialer.errors import DialerError
from dialer.private import protect_process
from workers.cli.app import app

if workers.CLI_ONLY is None:
    from workers.cli import commands  # noqa: F401  (registers every command)
else:  # the console script named one command (`workers.entry`): only its module registers
    importlib.import_module(f"workers.cli.{workers.CLI_ONLY}")

EXIT_USER_ERROR = 2


def main() -> None:
    """Entry point of the `dialer` console script: files it (and its workers) create are the
    user's only, and it dumps no core (it may hold the API key)."""
    protect_process()
    try:
        app()
    except DialerError as exc:
        show_error(exc)
        sys.exit(EXIT_USER_ERROR)


def show_error(exc: DialerError) -> None:
    """The message on stderr: wrapped for a person at a terminal, one line each for a log or a
    pipe (a file's path in it is never cut in two)."""
    console = Console(stderr=True, highlight=False)
    console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=not console.is_terminal)
