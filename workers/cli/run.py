"""`dialer run`: dial a contacts file, follow every call to its end, write the results."""

from __future__ import annotations

import contextlib
import logging
import shlex
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, NoReturn

import redis
import typer

from campaigns import lifecycle
from campaigns import preflight as checking
from campaigns.checks import Level
from campaigns.model import Reject
from campaigns.planning import RunPlan, plan_run
from campaigns.preflight import Preflight
from campaigns.progress import Progress
from dialer.campaign import CampaignConfig, CampaignState
from dialer.errors import ConfigError
from dialer.settings import Settings, load_settings
from dialer.store import Store
from workers import stack
from workers.celery_app import worker_ping
from workers.cli import display, options
from workers.cli.app import Out, app
from workers.cli.check import check_exit, run_preflight, show, show_file
from workers.cli.flags import given_options, run_options, run_options_command
from workers.cli.interrupt import Interrupted, interrupts_raise, quit_on_next
from workers.processes import served_url

EXIT_ABORTED = 3
EXIT_REDIS_GONE = 4  # Redis stopped answering mid-run: the campaign is safe, resume it
EXIT_RESULTS_UNWRITTEN = 5  # every contact is final, but the results file could not be written

console = Out()


def dial(
    settings: Settings,
    plan: RunPlan,
    *,
    detach: bool = False,
    workers: int = 1,
    preflight: bool = False,
    rerun: str = "",
) -> int:
    """Submit, follow and report one campaign; returns the exit code.

    The preflight runs once the stack is starting, so the worker boots while it checks.
    Ctrl-C or SIGTERM pauses the campaign and says how to go on (`rerun`: the command that
    resumes it; by default, this one as it was typed).
    """
    rerun = rerun or this_command()
    # The store's transition lines are for the workers' log, not for the person watching.
    logging.getLogger("dialer.store").setLevel(logging.WARNING)
    try:
        with interrupts_raise():
            return _dial(
                settings, plan, detach=detach, workers=workers, preflight=preflight, rerun=rerun
            )
    except Interrupted as stop:  # before the store was open, or while the stack stopped
        console.print(f"\n{stop.name}: stopped.")
        _how_to_go_on(settings, plan.config.campaign_id, rerun)
        return stop.exit_code
    except REDIS_GONE as exc:
        _redis_gone(settings, plan.config.campaign_id, exc, rerun)
        return EXIT_REDIS_GONE


REDIS_GONE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def _redis_gone(settings: Settings, cid: str, exc: Exception, rerun: str) -> None:
    """One line: what happened, that the campaign is safe, and the command that resumes it."""
    why = str(exc).split("\n")[0].rstrip(".") or type(exc).__name__
    again = rerun if stack.embedded(settings) else f"dialer resume {cid} (once Redis is back)"
    console.print(
        f"Redis stopped answering ({why}): campaign {cid} stays as Redis last saved it "
        f"and resuming picks it up there. To resume: {again}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


def _dial(
    settings: Settings, plan: RunPlan, *, detach: bool, workers: int, preflight: bool, rerun: str
) -> int:
    alone = stack.embedded(settings)
    with (
        stack.open_store(
            settings, workers=0 if detach else workers, only=lambda s: _campaign(s, plan)
        ) as store,
        _paused_on_interrupt(settings, store, _campaign(store, plan), rerun) as interrupted,
    ):
        if warning := stack.require_durable(store, settings):
            console.print(f"[bold yellow]Warning:[/] {warning}", markup=True, highlight=False)
        console.print(f"Campaign [bold]{_campaign(store, plan)}[/]", highlight=False)
        trouble = display.Trouble(console)
        view = display.LiveView(console, store, plan.config, settings.progress_every_s, trouble)
        with view:  # shown from the first batch stored, while the rest of the list loads
            watch = None if detach else view.loading
            loaded = _load(settings, plan, store, preflight=preflight, detach=detach, watch=watch)
            if loaded is None:
                return EXIT_ABORTED
            submitted, rejects = loaded
            config = view.config = submitted.config
            cid = config.campaign_id
            orphans = alone and not detach
            if not display.after_load(console, store, plan, submitted, rejects, orphans=orphans):
                return EXIT_ABORTED
            lifecycle.start(store, cid)
            if detach:
                console.print(
                    f"Submitted; `dialer status {cid}` follows it. Its results are "
                    f"written to {plan.results} when it ends (`dialer export` any time)."
                )
                return 0
            final = view.follow(plan.results)
    if interrupted.exit_code:
        return interrupted.exit_code
    code = _report(final, config, plan.results)
    if final.state is CampaignState.PAUSED and final.reason:  # paused by a guard
        _how_to_go_on(settings, config.campaign_id, rerun)
    return EXIT_RESULTS_UNWRITTEN if trouble.results and code == 0 else code


@dataclass
class _Outcome:
    exit_code: int = 0


@contextlib.contextmanager
def _paused_on_interrupt(
    settings: Settings, store: Store, cid: str, rerun: str
) -> Iterator[_Outcome]:
    """An interrupt in the block pauses the campaign and ends the block (its exit code kept)."""
    outcome = _Outcome()
    try:
        yield outcome
    except Interrupted as stop:
        outcome.exit_code = _interrupted(settings, store, cid, stop, rerun)


def _interrupted(settings: Settings, store: Store, cid: str, stop: Interrupted, rerun: str) -> int:
    """Pause the campaign at once (calls already placed are followed when it resumes), then
    say how to go on."""
    state = lifecycle.pause_interrupted(store, cid)
    console.print()
    if state is None:
        console.print(f"{stop.name}: stopped before campaign {cid} was made; nobody was dialled.")
        return stop.exit_code
    if state is CampaignState.PAUSED:
        console.print(
            f"{stop.name}: campaign [bold]{cid}[/] is paused; nobody new is dialled. Calls "
            "already placed are followed to their end when it resumes.",
            soft_wrap=True,
        )
    else:
        console.print(f"{stop.name}: campaign [bold]{cid}[/] is {state.value}.")
    _how_to_go_on(settings, cid, rerun)
    if stack.embedded(settings):
        console.print("Stopping the workers (Ctrl-C again quits at once)...")
    quit_on_next()
    return stop.exit_code


def _how_to_go_on(settings: Settings, cid: str, rerun: str) -> None:
    """The exact commands, each on a line of its own and never wrapped (to copy them)."""
    if stack.embedded(settings):
        console.print(f"  To resume: {rerun}", highlight=False, markup=False, soft_wrap=True)
    else:
        console.print(
            f"  To resume: dialer resume {cid}   (the workers dial it), or follow it here: {rerun}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    console.print(f"  To cancel: dialer cancel {cid}", highlight=False, soft_wrap=True)


def _campaign(store: Store, plan: RunPlan) -> str:
    """The id of the plan's campaign: its list's own (found by its path), or the one named
    (found once per run)."""
    return lifecycle.identify(store, plan).config.campaign_id


def _load(
    settings: Settings,
    plan: RunPlan,
    store: Store,
    *,
    preflight: bool,
    detach: bool,
    watch: Callable[[lifecycle.Reading], None] | None = None,
) -> tuple[lifecycle.Submission, list[Reject]] | None:
    """Load the list, its preflight checked in the same pass; None when the checks that need
    no list failed (nothing is read, nobody is dialled) or the outputs cannot be written.
    Those checks are shown before the load, the list's when it ends; `watch` is told of each
    batch stored."""
    rejects: list[Reject] = []
    if not preflight:
        if _failed(checking.outputs_only(plan)):
            return None
        submitted = lifecycle.load(store, plan, rejects, watch=watch, keep_results=detach)
        return submitted, rejects
    with checking.begin(
        settings, plan, infra=stack.run_infra(settings, store, worker_ping)
    ) as under_way:
        show(Preflight(under_way.checks, None), plan.config)
        if under_way.failed:
            console.print("[bold red]Preflight failed[/]: nothing was dialled.")
            return None
        submitted = lifecycle.load(
            store, plan, rejects, screen=under_way, watch=watch, keep_results=detach
        )
        found = under_way.finish(rejects)
    listed = [check for check in found.checks if check not in under_way.checks]
    show(Preflight(listed, found.estimate), plan.config, title="Preflight: the list")
    return submitted, rejects


def _dry_run(settings: Settings, plan: RunPlan) -> int:
    """The preflight and what the file gave, shown; nothing is loaded or dialled."""
    checked = run_preflight(settings, plan)
    show(checked, plan.config)
    if checked.failed:
        console.print("[bold red]Preflight failed[/]: nothing was dialled.")
    else:
        show_file(checked, plan.source, plan.rejects_path)
    console.print("Dry run: nothing was dialled.")
    return EXIT_ABORTED if checked.failed else check_exit(checked)


def _failed(result: Preflight) -> bool:
    """Show the failed checks; True when there is one."""
    failed = [c for c in result.checks if c.level is Level.FAIL]
    for check in failed:
        console.print(f"[bold red]{check.name}[/]: {check.detail}")
    return bool(failed)


def _report(final: Progress, config: CampaignConfig, results: Path) -> int:
    display.summary(console, final, results)
    if final.live == 0 and final.state is not CampaignState.CANCELED:
        if final.dialled == 0:
            console.print("Nobody was dialled: every contact ended before its call.")
            return EXIT_ABORTED
        return 0
    if final.reason:
        console.print(f"[bold red]Stopped:[/] {final.reason}")
    else:
        console.print(f"Campaign {config.campaign_id} was {final.state.value}.")
    return EXIT_ABORTED


@dataclass(frozen=True)
class Launch:
    """How a planned campaign is started: the options `run` and `retry` share."""

    detach: bool = False
    workers: int = 1
    preflight: bool = True
    dry_run: bool = False


def launch(settings: Settings, chosen: RunPlan, how: Launch) -> NoReturn:
    """Dry-run, submit or dial the planned campaign, and exit with its code."""
    check_detach(settings, how.detach)
    if how.dry_run:
        raise typer.Exit(_dry_run(settings, chosen))
    code = dial(
        settings,
        chosen,
        detach=how.detach,
        workers=how.workers,
        preflight=how.preflight,
        rerun=this_command(),
    )
    raise typer.Exit(code)


def run_settings(allow_unsafe_redis: bool) -> Settings:
    """The settings of a command that dials, with its API key checked."""
    settings = load_settings()
    if allow_unsafe_redis:  # the flag wins over DIALER_ALLOW_UNSAFE_REDIS
        settings = settings.model_copy(update={"allow_unsafe_redis": True})
    settings.require_api_key()
    return settings


def check_detach(settings: Settings, detach: bool) -> None:
    """--detach needs workers that outlive this command."""
    if detach and not (settings.redis_url or served_url(settings.state_dir)):
        raise ConfigError(
            "--detach needs DIALER_REDIS_URL and `dialer worker` processes, or a running "
            "`dialer serve` on the same state folder",
            field="detach",
        )


def this_command() -> str:
    """The command line this `dialer` was started with, to run again as it is."""
    return shlex.join(["dialer", *sys.argv[1:]])


@app.command(cls=run_options_command())
def run(
    ctx: typer.Context,
    contacts: Annotated[Path, typer.Argument(help="Contacts file (CSV or .xlsx).")],
    campaign: options.Campaign = None,
    results: options.Results = None,
    rejects: options.Rejects = None,
    detach: options.Detach = False,
    workers: options.Workers = 1,
    no_preflight: options.NoPreflight = False,
    dry_run: options.DryRun = False,
    allow_unsafe_redis: options.AllowUnsafeRedis = False,
) -> None:
    """Dial every valid contact once, follow each call to its end, write the results file.

    Calls happen only inside each recipient's local calling window (08:00-21:00 by default);
    contacts outside it wait, and the results say until when.
    """
    opts, given = run_options(ctx), given_options(ctx)
    settings = run_settings(allow_unsafe_redis)
    check_detach(settings, detach)
    chosen = plan_run(
        settings, contacts, opts, campaign=campaign, results=results, rejects=rejects, given=given
    )
    launch(settings, chosen, Launch(detach, workers, not no_preflight, dry_run))
