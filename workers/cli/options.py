"""Options shared by the commands that read a contacts file (`validate`, `run`, `retry`); the run
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
Campaign = Annotated[
    str | None,
    typer.Option(help="Campaign id; the same id resumes. Default: derived from the file."),
]
Results = Annotated[
    Path | None,
    typer.Option(
        help="Results file, .csv or .xlsx (default: <stem>.results.csv).",
        rich_help_panel=OUTPUT,
    ),
]
Detach = Annotated[
    bool,
    typer.Option(
        "--detach",
        help="Submit to DIALER_REDIS_URL's workers (or a running `dialer serve`'s) and "
        "return at once.",
    ),
]
Workers = Annotated[int, typer.Option(help="Worker processes of the embedded stack.", min=1, max=8)]
NoPreflight = Annotated[
    bool,
    typer.Option("--no-preflight", help="Skip the check of key, agent, number, quota and workers."),
]
DryRun = Annotated[
    bool,
    typer.Option("--dry-run", help="Validate the file and run the preflight, then stop."),
]
AllowUnsafeRedis = Annotated[
    bool,
    typer.Option(
        "--allow-unsafe-redis",
        help="Dial even if DIALER_REDIS_URL's Redis may lose claims on a crash.",
    ),
]
