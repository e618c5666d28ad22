"""`dialer check`: the preflight on its own; `dialer run` runs it first (unless --no-preflight)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from campaigns import preflight
from campaigns.checks import Level
from campaigns.estimate import describe
from campaigns.planning import RunPlan, plan_run
from campaigns.preflight import Preflight
from dialer.campaign import CampaignConfig
from dialer.settings import Settings, load_settings
from workers import stack
from workers.celery_app import worker_ping
from workers.cli.app import Out, app
from workers.cli.flags import run_options, run_options_command

EXIT_NOTHING = 3  # nothing can be dialled (as `dialer run` exits)

console = Out()
_STYLE = {Level.OK: "green", Level.WARN: "yellow", Level.FAIL: "bold red"}


def run_preflight(settings: Settings, chosen: RunPlan) -> Preflight:
    """The preflight in a pass of its own over the list (`dialer check`, a dry run)."""
    return preflight.run(settings, chosen, infra=stack.preflight_infra(settings, worker_ping))


def show(result: Preflight, config: CampaignConfig, *, title: str = "Preflight") -> None:
    """The checks as a table (one plain line each without a terminal), then the estimate."""
    if console.is_terminal and result.checks:
        table = Table("check", "result", "detail", title=title)
        for check in result.checks:
            style = _STYLE[check.level]
            table.add_row(check.name, f"[{style}]{check.level.value}[/]", check.detail)
        console.print(table)
    else:
        for check in result.checks:
            line = f"Preflight {check.name}: {check.level.value}: {check.detail}"
            console.print(line, markup=False, highlight=False)
    if result.estimate is not None:
        console.print(describe(result.estimate, deadline=bool(config.deadline)))


def show_file(result: Preflight, source: Path, rejects: Path) -> None:
    """What the contacts file gave: contacts to dial, rejects by reason (nothing is written)."""
    rejected = sum(result.rejects.values())
    console.print(
        f"[bold]{source}[/]: {result.contacts} contacts to dial, {rejected} rejected.",
    )
    if rejected:
        listed = ", ".join(f"{reason} {n}" for reason, n in result.rejects.most_common())
        console.print(
            f"  rejected: {listed} (`dialer validate` writes them to {rejects})",
            highlight=False,
        )


@app.command("check", cls=run_options_command())
def check_command(
    ctx: typer.Context,
    contacts: Annotated[Path, typer.Argument(help="Contacts file (CSV or .xlsx).")],
) -> None:
    """Check a campaign before dialling: key, agent, from-number, quota, Redis and workers,
    countries; then estimate when it would finish. Exits 1 when something must be fixed."""
    settings = load_settings()
    chosen = plan_run(settings, contacts, run_options(ctx), campaign="preflight")
    result = run_preflight(settings, chosen)
    show_file(result, chosen.source, chosen.rejects_path)
    show(result, chosen.config)
    console.print(f"Checked at {datetime.now(UTC):%H:%M:%S} UTC; nothing was dialled.")
    raise typer.Exit(check_exit(result))


def check_exit(result: Preflight) -> int:
    """1 when something must be fixed; 3 when nothing could be dialled (like `run`); else 0."""
    if result.failed:
        return 1
    return EXIT_NOTHING if result.contacts == 0 else 0
