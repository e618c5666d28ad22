"""`dialer run`: dial a contacts file, follow every call to its end, write the results."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from campaigns.model import Reject
from dialer.campaign import CampaignConfig, CampaignState
from dialer.errors import ConfigError
from dialer.private import open_private, private_dir
from dialer.run_options import OUTPUT
from dialer.settings import Settings, load_settings
from workers import session
from workers.cli import display, options
from workers.cli.app import Out, app
from workers.cli.check import check_exit, run_preflight, show, show_file
from workers.cli.runopts import run_options, run_options_command
from workers.embedded import served_url
from workers.planning import RunPlan, plan_run, stream
from workers.preflight import Level, Preflight, check_outputs

EXIT_ABORTED = 3

console = Out()


def dial(
    settings: Settings,
    plan: RunPlan,
    *,
    detach: bool = False,
    workers: int = 1,
    preflight: bool = False,
) -> int:
    """Submit, follow and report one campaign; returns the exit code.

    The preflight runs once the stack is starting, so the worker boots while it checks.
    """
    cid = plan.config.campaign_id
    console.print(f"Campaign [bold]{cid}[/]", highlight=False)
    with session.open_store(settings, workers=0 if detach else workers) as store:
        if warning := session.require_durable(store, settings):
            console.print(f"[bold yellow]Warning:[/] {warning}", markup=True, highlight=False)
        checked = _preflight(settings, plan) if preflight else _outputs_writable(plan)
        if checked is None:
            return EXIT_ABORTED
        rejects: list[Reject] = []
        private_dir(plan.rejects_path.parent)
        out = open_private(plan.rejects_path, "w", encoding="utf-8", newline="")
        # A detached campaign's results are written by the worker that sees it end.
        config = plan.config.model_copy(update={"results_path": str(plan.results.resolve())})
        contacts = stream(plan.contact_file, out, rejects, refuse=checked.unknown.reject)
        resumed = session.submit(store, config if detach else plan.config, contacts)
        display.loaded(
            console,
            plan.source,
            store.total(cid),
            rejects,
            plan.rejects_path,
            plan.contact_file.warnings,
        )
        if store.total(cid) == 0:
            console.print("[bold red]No valid contact to dial[/]; nothing was dialled.")
            return EXIT_ABORTED
        _announce(store.campaign_state(cid), resumed, cid)
        session.start(store, cid)
        if detach:
            console.print(
                f"Submitted; `dialer status {cid}` follows it. Its results are "
                f"written to {plan.results} when it ends (`dialer export` any time)."
            )
            return 0
        final = display.follow_live(
            console, store, plan.config, plan.results, settings.progress_every_s
        )
    return _report(final, plan.config, plan.results)


def _preflight(settings: Settings, plan: RunPlan) -> Preflight | None:
    """The preflight, shown; None when it failed (nobody is dialled)."""
    checked = run_preflight(settings, plan)
    show(checked, plan.config)
    if checked.failed:
        console.print("[bold red]Preflight failed[/]: nothing was dialled.")
        return None
    return checked


def _outputs_writable(plan: RunPlan) -> Preflight | None:
    """Without the preflight, still refuse outputs that cannot be written."""
    checks = check_outputs(plan.results, plan.rejects_path)
    failed = [c for c in checks if c.level is Level.FAIL]
    for check in failed:
        console.print(f"[bold red]{check.name}[/]: {check.detail}")
    return None if failed else Preflight(checks, None)


def _announce(state: CampaignState | None, resumed: bool, cid: str) -> None:
    if state is CampaignState.DONE:
        console.print(f"Campaign [bold]{cid}[/] had already finished; writing its results.")
    elif resumed:
        console.print(
            f"Resuming campaign [bold]{cid}[/]: nothing already dialled is dialled again."
        )


def _report(final: session.Progress, config: CampaignConfig, results: Path) -> int:
    display.summary(console, final, results)
    if final.live == 0 and final.state is not CampaignState.CANCELED:
        return 0
    if final.reason:
        console.print(f"[bold red]Stopped:[/] {final.reason}")
    else:
        console.print(f"Campaign {config.campaign_id} was {final.state.value}.")
    return EXIT_ABORTED


@app.command(cls=run_options_command())
def run(
    ctx: typer.Context,
    contacts: Annotated[Path, typer.Argument(help="Contacts file (CSV or .xlsx).")],
    campaign: Annotated[
        str | None,
        typer.Option(help="Campaign id; the same id resumes. Default: file name + content hash."),
    ] = None,
    results: Annotated[
        Path | None,
        typer.Option(
            help="Results file (default: <stem>.results.csv beside it).", rich_help_panel=OUTPUT
        ),
    ] = None,
    rejects: options.Rejects = None,
    detach: Annotated[
        bool,
        typer.Option(
            "--detach",
            help="Submit to DIALER_REDIS_URL's workers (or a running `dialer serve`'s) and "
            "return at once.",
        ),
    ] = False,
    workers: Annotated[
        int, typer.Option(help="Worker processes of the embedded stack.", min=1, max=8)
    ] = 1,
    no_preflight: Annotated[
        bool,
        typer.Option(
            "--no-preflight", help="Skip the check of key, agent, number, quota and workers."
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Validate the file and run the preflight, then stop."),
    ] = False,
    allow_unsafe_redis: Annotated[
        bool,
        typer.Option(
            "--allow-unsafe-redis",
            help="Dial even if DIALER_REDIS_URL's Redis may lose claims on a crash.",
        ),
    ] = False,
) -> None:
    """Dial every valid contact once, follow each call to its end, write the results file.

    Calls happen only inside each recipient's local calling window (08:00-21:00 by default);
    contacts outside it wait, and the results say until when.
    """
    opts = run_options(ctx)
    settings = load_settings()
    if allow_unsafe_redis:  # the flag wins over DIALER_ALLOW_UNSAFE_REDIS
        settings = settings.model_copy(update={"allow_unsafe_redis": True})
    settings.require_api_key()
    if detach and not (settings.redis_url or served_url(settings.state_dir)):
        raise ConfigError(
            "--detach needs DIALER_REDIS_URL and `dialer worker` processes, or a running "
            "`dialer serve` on the same state folder"
        )
    chosen = plan_run(settings, contacts, opts, campaign=campaign, results=results, rejects=rejects)
    if dry_run:
        checked = _preflight(settings, chosen)
        if checked is not None:
            show_file(checked, chosen.source, chosen.rejects_path)
        console.print("Dry run: nothing was dialled.")
        raise typer.Exit(EXIT_ABORTED if checked is None else check_exit(checked))
    raise typer.Exit(
        dial(settings, chosen, detach=detach, workers=workers, preflight=not no_preflight)
    )
