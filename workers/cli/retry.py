"""`dialer retry`: a new campaign from the rows of an earlier results file with given statuses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from campaigns.planning import plan_run
from campaigns.reselect import RETRYABLE, retry_id, retry_list, select_rows
from dialer.errors import ConfigError, InputError
from dialer.run_options import OUTPUT
from workers.cli import options
from workers.cli.app import app
from workers.cli.flags import run_options, run_options_command
from workers.cli.run import Launch, check_detach, console, launch, run_settings


def _statuses(only: str, include_unknown: bool) -> set[str]:
    chosen = {s.strip().lower() for s in only.split(",") if s.strip()}
    unknown = chosen - set(RETRYABLE) - {"unknown"}
    if unknown:
        raise ConfigError(
            f"--only: unknown status(es) {sorted(unknown)}; choose from {RETRYABLE}", field="only"
        )
    if "unknown" in chosen and not include_unknown:
        raise ConfigError(
            "--only unknown needs --include-unknown (they may have been called)", field="only"
        )
    return chosen | ({"unknown"} if include_unknown else set())


@app.command(cls=run_options_command())
def retry(
    ctx: typer.Context,
    results: Annotated[Path, typer.Argument(help="Results file of an earlier campaign.")],
    only: Annotated[
        str, typer.Option(help="Statuses to dial again (comma separated, any case).")
    ] = "failed,no_answer",
    include_unknown: Annotated[
        bool,
        typer.Option(
            "--include-unknown",
            help="Also dial contacts whose status is unknown (they may have been "
            "called already: possible double calls).",
        ),
    ] = False,
    campaign: options.Campaign = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--results",
            help="Results file of the retry (default: <campaign>.results.csv beside it).",
            rich_help_panel=OUTPUT,
        ),
    ] = None,
    rejects: options.Rejects = None,
    detach: options.Detach = False,
    workers: options.Workers = 1,
    no_preflight: options.NoPreflight = False,
    dry_run: options.DryRun = False,
    allow_unsafe_redis: options.AllowUnsafeRedis = False,
) -> None:
    """Dial again the contacts of an earlier results file that ended with the given statuses.

    Their columns, variables and source rows are kept. The retry is a campaign like any other:
    the same command run again resumes it (nobody already dialled is dialled again).
    """
    if not results.is_file():
        raise InputError("no such file", where=str(results))
    statuses = _statuses(only, include_unknown)
    settings = run_settings(allow_unsafe_redis)
    check_detach(settings, detach)
    cid = campaign or retry_id(results, statuses)
    contacts = retry_list(results, cid)
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
    chosen = plan_run(
        settings, contacts, run_options(ctx), campaign=cid, results=output, rejects=rejects
    )
    chosen.config = chosen.config.model_copy(update={"retry_of": str(results.resolve())})
    launch(settings, chosen, Launch(detach, workers, not no_preflight, dry_run))
