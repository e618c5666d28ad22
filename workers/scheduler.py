"""Scheduled batch jobs: the scheduler loop that `dialer beat` runs, and the start of one
occurrence, which a worker (or `schedule run-now`) runs when the job fires.

One scheduler is active at a time (a lease in Redis; others wait as standbys). Each pass fires,
per job, the latest occurrence later than the moment the job was added or last changed and late
by no more than the lateness limit (`campaigns.schedules.latest_due`): a scheduler that was down
fires one occurrence, never a burst. An occurrence is claimed once in Redis and names its
campaign, so two schedulers, a failover or a re-fire still start one campaign per occurrence.

Every option of a job is checked when it is added. The contacts file is read when the job
fires; any error in a firing (a missing file, a bug) fails that occurrence, is logged, and is
shown by `schedule list` with its time; the scheduler carries on.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from campaigns import lifecycle
from campaigns.planning import campaign_config, load_options, plan_run
from campaigns.schedules import (
    check_cron,
    check_name,
    check_results_template,
    check_zone,
    fill_results,
    latest_due,
    next_occurrence,
    occurrence_id,
)
from dialer.errors import DialerError
from dialer.private import private_dir
from dialer.run_options import RunOptions
from dialer.settings import Settings
from dialer.store import BEAT_LEASE, JobRun, RunStatus, Store
from workers.queues import START_SCHEDULED_TASK

if TYPE_CHECKING:
    from celery import Celery

log = logging.getLogger("dialer.schedule")
BEAT_LEASE_S = 30.0  # at least; three passes when the pass interval is longer

Fire = Callable[[str, str], None]


class Schedule(BaseModel):
    """A scheduled job as stored: when, which file, and the options of its runs.

    `changed` is when it was added or last replaced, on Redis's clock; a job stored before
    that field existed has None until the scheduler first sees it and stamps it then.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    cron: str
    tz: str
    contacts: str
    results: str
    run: dict[str, object]
    changed: datetime | None = None

    def zone(self) -> ZoneInfo:
        """The zone its cron is read in."""
        return check_zone(self.tz)

    def options(self) -> RunOptions:
        """The options of its runs."""
        return RunOptions.model_validate(self.run)

    def results_path(self, occurrence: str, at: datetime) -> str:
        """The results file of one occurrence ({name}, {date}, {time}, {campaign} filled in)."""
        local = at.astimezone(self.zone())
        return fill_results(self.results, name=self.name, campaign=occurrence, local=local)


def clock(store: Store) -> datetime:
    """Now on Redis's clock, which every scheduler, worker and `schedule add` share."""
    return datetime.fromtimestamp(store.server_ms() / 1000, UTC)


def load(store: Store) -> dict[str, Schedule]:
    """Every stored job."""
    return {name: Schedule.model_validate_json(spec) for name, spec in store.schedules().items()}


def check_run(opts: RunOptions, settings: Settings, *, campaign: str, source: Path) -> None:
    """Every run option checked as a run checks it (rate, window, days, deadline, retries,
    agent and number, do-not-call file), without reading the contacts file."""
    load_options(opts)
    campaign_config(opts, settings, campaign, columns=(), variable_columns=(), source=source)


def check_job(job: Schedule, settings: Settings, now: datetime) -> None:
    """Everything a firing of `job` relies on, checked now: ConfigError naming what is wrong."""
    check_name(job.name)
    check_cron(job.cron)
    check_results_template(job.results)
    campaign = occurrence_id(job.name, now, job.zone()) + "-now"  # the longest it names
    check_run(job.options(), settings, campaign=campaign, source=Path(job.contacts))


def describe(exc: Exception) -> str:
    """An error as `schedule list` shows it: our own messages as they are, others typed."""
    if isinstance(exc, DialerError | OSError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def send_start(app: Celery, name: str, payload: str) -> None:
    """Ask a worker of `app` to start one occurrence (`payload`: JSON [occurrence id, time])."""
    app.send_task(START_SCHEDULED_TASK, args=(name, payload))


def due(
    store: Store, job: Schedule, since: datetime, now: datetime, lateness: timedelta
) -> tuple[str, datetime] | None:
    """The job's occurrence to fire now, claimed for the caller; None when none is due."""
    at = latest_due(job.cron, job.zone(), since, now, lateness)
    if at is None:
        return None
    occurrence = occurrence_id(job.name, at, job.zone())
    return (occurrence, at) if store.claim_occurrence(occurrence) else None


def fire_job(
    store: Store, fire: Fire, name: str, spec: str, now: datetime, lateness: timedelta
) -> bool:
    """Fire the job's due occurrence, if it has one; True when it fired."""
    job = Schedule.model_validate_json(spec)
    if job.changed is None:  # stored by an older version: due from now on, never a burst
        stamped = job.model_copy(update={"changed": now})
        store.replace_schedule(name, spec, stamped.model_dump_json())
        return False
    found = due(store, job, job.changed, now, lateness)
    if found is None:
        return False
    occurrence, at = found
    try:
        fire(name, json.dumps([occurrence, at.isoformat()]))
    except Exception:
        store.release_occurrence(occurrence)  # the next pass tries again while not too late
        raise
    store.note_run(name, JobRun(occurrence, RunStatus.FIRED, at=now.isoformat()))
    log.info("schedule fired", extra={"schedule": name, "campaign": occurrence})
    return True


def beat_once(store: Store, fire: Fire, now: datetime, lateness: timedelta) -> int:
    """One scheduler pass: fire each job's due occurrence; returns how many fired."""
    fired = 0
    for name, spec in store.schedules().items():
        try:
            fired += fire_job(store, fire, name, spec, now, lateness)
        except Exception as exc:  # one bad job must not stop the others
            log.exception("schedule %s could not fire", name)
            store.note_run(name, JobRun("", RunStatus.FAILED, describe(exc), now.isoformat()))
    store.note_beat(now.isoformat())
    return fired


def next_run(job: Schedule, now: datetime) -> datetime | None:
    """When the job fires next."""
    return next_occurrence(job.cron, job.zone(), max(now, job.changed or now))


def run_beat(
    store: Store, fire: Fire, stop: threading.Event, *, every_s: float, lateness: timedelta
) -> None:
    """The scheduler loop: a pass every `every_s` while holding the lease; until `stop`."""
    owner = uuid.uuid4().hex
    lease_ms = int(max(BEAT_LEASE_S, 3 * every_s) * 1000)
    while not stop.is_set():
        try:
            if store.try_tick_lease(owner, lease_ms, key=BEAT_LEASE):
                beat_once(store, fire, clock(store), lateness)
        except Exception:  # a Redis restart must not stop the scheduler
            log.exception("scheduler pass failed; trying again")
        stop.wait(every_s)


def _start(store: Store, settings: Settings, job: Schedule, occurrence: str, at: datetime) -> None:
    check_results_template(job.results)
    results = Path(job.results_path(occurrence, at))
    private_dir(results.parent)
    chosen = plan_run(
        settings,
        Path(job.contacts),
        job.options(),
        campaign=occurrence,
        results=results,
        rejects=results.with_name(results.name.replace(".csv", "") + ".rejects.csv"),
    )
    lifecycle.load(store, chosen, [])
    lifecycle.start(store, occurrence)


def start_occurrence(
    store: Store, settings: Settings, name: str, occurrence: str, at: datetime
) -> JobRun:
    """Read the job's contacts file now and start its campaign (once, whatever the retries).

    Any error fails this occurrence only; the outcome is noted for `schedule list` and returned.
    """
    spec = store.schedules().get(name)
    if spec is None:
        log.error("schedule %s no longer exists; occurrence %s skipped", name, occurrence)
        return JobRun(occurrence, RunStatus.FAILED, f"no schedule named {name!r}")
    try:
        _start(store, settings, Schedule.model_validate_json(spec), occurrence, at)
    except Exception as exc:  # a bug too must reach `schedule list`, not only a log
        ours = isinstance(exc, DialerError | OSError)
        log.error("scheduled run %s failed: %s", occurrence, describe(exc), exc_info=not ours)
        run = JobRun(occurrence, RunStatus.FAILED, describe(exc), clock(store).isoformat())
    else:
        log.info("scheduled run started", extra={"schedule": name, "campaign": occurrence})
        run = JobRun(occurrence, RunStatus.STARTED, at=clock(store).isoformat())
    store.note_run(name, run)
    return run
