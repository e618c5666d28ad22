"""`dialer schedule add|list|remove|run-now`: scheduled batch jobs, kept in Redis."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from campaigns.schedules import check_cron, check_name, check_zone, occurrence_id
from dialer.errors import ConfigError, InputError
from dialer.settings import load_settings
from dialer.store import JobRun, Store
from workers import stack
from workers.cli.app import Group, Out, app
from workers.cli.flags import run_options, run_options_command
from workers.cli.plain import print_table
from workers.processes import served_url
from workers.scheduler import Schedule, check_job, clock, load, next_run, start_occurrence

console = Out()
schedule_app = typer.Typer(
    help="Scheduled batch jobs (need DIALER_REDIS_URL and `dialer beat`, or `dialer serve`).",
    rich_markup_mode=None,
)
app.add_typer(schedule_app, name="schedule", cls=Group)

Name = Annotated[str, typer.Argument(help="The job's name (its campaigns are NAME-DATE-TIME).")]


def _redis_url() -> str:
    """DIALER_REDIS_URL, or the Redis of a `dialer serve` running on this state folder (its
    worker and scheduler serve the jobs)."""
    settings = load_settings()
    url = settings.redis_url or served_url(settings.state_dir)
    if not url:
        raise ConfigError(
            "schedules live in a shared Redis: set DIALER_REDIS_URL, and run "
            "`dialer beat` and `dialer worker` against it (or run `dialer serve`)"
        )
    return url


def _store() -> Store:
    return stack.connect(_redis_url())


@schedule_app.command("add", cls=run_options_command(exclude=frozenset({"tz"})))
def add(
    ctx: typer.Context,
    name: Name,
    contacts: Annotated[Path, typer.Argument(help="Contacts file, read each time the job fires.")],
    cron: Annotated[
        str, typer.Option(help='When, as cron in --tz: "0 10 * * mon-fri" = weekdays 10:00.')
    ],
    tz: Annotated[
        str, typer.Option(help="Time zone of --cron, and of a --deadline written as HH:MM.")
    ] = "UTC",
    results: Annotated[
        str | None,
        typer.Option(
            help="Results file per run; {name}, {date}, {time} are filled in. "
            "Default: <contacts folder>/{name}-{date}-{time}.results.csv"
        ),
    ] = None,
) -> None:
    """Add (or replace) a job that dials CONTACTS on a schedule, with the run options given.

    Every option is checked now, as a run would check it; the job fires only at occurrences
    after this moment.
    """
    check_name(name)
    check_cron(cron)
    check_zone(tz)
    if not contacts.is_file():
        raise InputError(
            "no such file (it must exist now; it is read again at each run)", where=str(contacts)
        )
    given = run_options(ctx)
    dnc = str(Path(given.dnc).resolve()) if given.dnc else None  # read when the job fires
    opts = given.model_copy(update={"tz": tz, "dnc": dnc})
    default = str(contacts.resolve().parent / "{name}-{date}-{time}.results.csv")
    store = _store()
    now = clock(store)
    job = Schedule(
        name=name,
        cron=cron,
        tz=tz,
        contacts=str(contacts.resolve()),
        results=str(Path(results).resolve()) if results else default,
        run=opts.model_dump(exclude_none=True),
        changed=now,
    )
    check_job(job, load_settings(), now)
    store.save_schedule(name, job.model_dump_json())
    when = next_run(job, now)
    console.print(
        f"Scheduled [bold]{name}[/]: {cron} ({tz}); next run {when:%Y-%m-%d %H:%M} UTC"
        if when
        else f"Scheduled {name} (never fires?)"
    )


def _when(iso: str) -> str:
    return iso[:19].replace("T", " ")


def _run_cell(run: JobRun | None) -> str:
    if run is None:
        return "-"
    return f"{run.occurrence} {run.status} {_when(run.at)}".strip()


def _error_cell(run: JobRun | None) -> str:
    return f"{_when(run.at)} {run.occurrence}: {run.error}".strip() if run else "-"


def _beat_line(store: Store, now: datetime) -> str:
    seen = store.beat_seen()
    if seen is None:
        return "No scheduler has run yet: start `dialer beat` (jobs fire only while one runs)."
    ago = now - datetime.fromisoformat(seen)
    late = "; is `dialer beat` running?" if ago > timedelta(minutes=1) else ""
    return f"Scheduler last looked for due jobs at {_when(seen)} UTC{late}"


@schedule_app.command("list")
def list_() -> None:
    """Show every job: when, which file, the next run, how the last one went, the last error."""
    store = _store()
    runs, errors = store.last_runs(), store.last_errors()
    table = Table(
        "name", "cron", "tz", "contacts", "next run (UTC)", "last run (UTC)", "last error (UTC)"
    )
    now = clock(store)
    for name, job in sorted(load(store).items()):
        when = next_run(job, now)
        table.add_row(
            name,
            job.cron,
            job.tz,
            job.contacts,
            f"{when:%Y-%m-%d %H:%M}" if when else "-",
            _run_cell(runs.get(name)),
            _error_cell(errors.get(name)),
        )
    out = Out()  # read COLUMNS now, not at import
    print_table(out, table)
    out.print(_beat_line(store, now), soft_wrap=True)


@schedule_app.command("remove")
def remove(name: Name) -> None:
    """Delete a job (campaigns it already started go on)."""
    store = _store()
    if not store.remove_schedule(name):
        raise InputError(f"no schedule named {name!r}")
    store.forget_schedule(name)
    console.print(f"Removed {name}.")


@schedule_app.command("run-now")
def run_now(name: Name) -> None:
    """Start one run of the job now, here, as if it had fired; say why when it cannot start."""
    store = _store()
    job = load(store).get(name)
    if job is None:
        raise InputError(f"no schedule named {name!r}")
    now = clock(store)
    occurrence = occurrence_id(name, now, job.zone()) + "-now"
    if not store.claim_occurrence(occurrence):
        raise ConfigError(f"{occurrence} was started already; try again in a minute")
    run = start_occurrence(store, load_settings(), name, occurrence, now)
    if run.error:
        store.release_occurrence(occurrence)
        raise ConfigError(f"{occurrence} did not start: {run.error}")
    console.print(
        f"Started {occurrence}; `dialer worker` processes dial it, "
        f"`dialer status {occurrence}` follows it."
    )
