"""`dialer schedule add|list|remove|run-now`: scheduled batch jobs, kept in Redis."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from campaigns.schedules import check_name, check_zone, occurrence_id, parse_cron
from dialer.errors import ConfigError, InputError
from dialer.settings import load_settings
from dialer.store import Store
from workers.celery_app import make_app
from workers.cli.app import app
from workers.cli.runopts import run_options, run_options_command
from workers.planning import calling_times
from workers.scheduler import Schedule, load, next_run, send_start

console = Console()
schedule_app = typer.Typer(help="Scheduled batch jobs (need DIALER_REDIS_URL, `dialer beat`).")
app.add_typer(schedule_app, name="schedule")

Name = Annotated[str, typer.Argument(help="The job's name (its campaigns are NAME-DATE-TIME).")]


def _redis_url() -> str:
    url = load_settings().redis_url
    if not url:
        raise ConfigError(
            "schedules live in a shared Redis: set DIALER_REDIS_URL, and run "
            "`dialer beat` and `dialer worker` against it"
        )
    return url


def _store() -> Store:
    store = Store.from_url(_redis_url())
    store.ping()
    return store


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
    """Add (or replace) a job that dials CONTACTS on a schedule, with the run options given."""
    check_name(name)
    parse_cron(cron)
    check_zone(tz)
    if not contacts.is_file():
        raise InputError(
            "no such file (it must exist now; it is read again at each run)", where=str(contacts)
        )
    given = run_options(ctx)
    dnc = str(Path(given.dnc).resolve()) if given.dnc else None  # read when the job fires
    opts = given.model_copy(update={"tz": tz, "dnc": dnc})
    calling_times(opts)
    default = str(contacts.resolve().parent / "{name}-{date}-{time}.results.csv")
    job = Schedule(
        name=name,
        cron=cron,
        tz=tz,
        contacts=str(contacts.resolve()),
        results=str(Path(results).resolve()) if results else default,
        run=opts.model_dump(exclude_none=True),
    )
    store = _store()
    store.save_schedule(name, job.model_dump_json())
    when = next_run(job, datetime.now(UTC))
    console.print(
        f"Scheduled [bold]{name}[/]: {cron} ({tz}); next run {when:%Y-%m-%d %H:%M} UTC"
        if when
        else f"Scheduled {name} (never fires?)"
    )


@schedule_app.command("list")
def list_() -> None:
    """Show every job: when, which file, the next run and how the last one went."""
    store = _store()
    last = store.last_occurrences()
    table = Table("name", "cron", "tz", "contacts", "next run (UTC)", "last run")
    now = datetime.now(UTC)
    for name, job in sorted(load(store).items()):
        when = next_run(job, now)
        occurrence, error = last.get(name, ("", ""))
        table.add_row(
            name,
            job.cron,
            job.tz,
            job.contacts,
            f"{when:%Y-%m-%d %H:%M}" if when else "-",
            f"{occurrence} {'FAILED: ' + error if error else ''}".strip() or "-",
        )
    console.print(table)


@schedule_app.command("remove")
def remove(name: Name) -> None:
    """Delete a job (campaigns it already started go on)."""
    if not _store().remove_schedule(name):
        raise InputError(f"no schedule named {name!r}")
    console.print(f"Removed {name}.")


@schedule_app.command("run-now")
def run_now(name: Name) -> None:
    """Start one run of the job now, as if it had fired."""
    store = _store()
    job = load(store).get(name)
    if job is None:
        raise InputError(f"no schedule named {name!r}")
    now = datetime.now(UTC)
    occurrence = occurrence_id(name, now, check_zone(job.tz)) + "-now"
    if not store.claim_occurrence(occurrence):
        raise ConfigError(f"{occurrence} was started already; try again in a minute")
    send_start(make_app(_redis_url()), name, json.dumps([occurrence, now.isoformat()]))
    console.print(f"Started {occurrence}; `dialer status {occurrence}` follows it.")
