"""`dialer retry`: a new campaign from the rows of an earlier results file with given statuses."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from dialer.errors import ConfigError, InputError
from dialer.settings import load_settings
from workers.cli.app import app
from workers.cli.run import console, dial
from workers.cli.runopts import run_options, run_options_command
from workers.planning import plan_run
from workers.reselect import RETRYABLE, select_rows


def _statuses(only: str, include_unknown: bool) -> set[str]:
    chosen = {s.strip() for s in only.split(",") if s.strip()}
    unknown = chosen - set(RETRYABLE) - {"unknown"}
    if unknown:
        raise ConfigError(f"--only: unknown status(es) {sorted(unknown)}; choose from {RETRYABLE}")
    if "unknown" in chosen and not include_unknown:
        raise ConfigError("--only unknown needs --include-unknown (they may have been called)")
    return chosen | ({"unknown"} if include_unknown else set())


@app.command(cls=run_options_command())
def retry(
    ctx: typer.Context,
    results: Annotated[Path, typer.Argument(help="Results file of an earlier campaign.")],
    only: Annotated[
        str, typer.Option(help="Statuses to dial again (comma separated).")
    ] = "failed,no_answer",
    include_unknown: Annotated[
        bool,
        typer.Option(
            "--include-unknown",
            help="Also dial contacts whose status is unknown (they may have been "
            "called already: possible double calls).",
        ),
    ] = False,
) -> None:
    """Dial again the contacts of an earlier results file that ended with the given statuses.

    Their columns and variables are kept; the new campaign writes its own results file.
    """
    if not results.is_file():
        raise InputError("no such file", where=str(results))
    statuses = _statuses(only, include_unknown)
    stem = results.name.removesuffix(".csv").removesuffix(".results")
    contacts = results.with_name(f"{stem}.retry-{time.strftime('%Y%m%d-%H%M%S')}.csv")
    copied, unknown = select_rows(results, statuses, contacts)
    console.print(f"{copied} contacts with status {', '.join(sorted(statuses))} -> {contacts}")
    if unknown:
        console.print(
            f"[bold yellow]warning:[/] {unknown} of them ended `unknown`: they may "
            "have been called already, and will be called again."
        )
    if not copied:
        console.print("Nothing to dial again.")
        raise typer.Exit(0)
    settings = load_settings()
    settings.require_api_key()
    chosen = plan_run(settings, contacts, run_options(ctx))
    raise typer.Exit(dial(settings, chosen))
