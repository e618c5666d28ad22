"""Options shared by the commands that read a contacts file (`validate`, `run`); the run
options themselves are declared in `dialer.run_options`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dialer.run_options import OUTPUT

Rejects = Annotated[
    Path | None,
    typer.Option(
        help="Rejects file to write (default: <stem>.rejects.csv beside the input).",
        rich_help_panel=OUTPUT,
    ),
]
