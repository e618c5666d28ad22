"""Scheduled batch jobs: the scheduler loop that `dialer beat` runs, and the start of one
occurrence, which a worker runs when the scheduler fires it.

One scheduler is active at a time (a lease in Redis; others wait as standbys). An occurrence is
claimed once in Redis and names its campaign, so two schedulers, a failover or a manual re-fire
still start one campaign per occurrence. The contacts file is read when the job fires; a missing
or invalid file fails that occurrence, with the error logged and shown by `schedule list`, and
the scheduler carries on.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from campaigns.schedules import (
    MAX_LATENESS,
    check_zone,
    next_occurrence,
    occurrence_id,
    occurrences,
    parse_cron,
)
from dialer.errors import DialerError
from dialer.private import open_private, private_dir
from dialer.run_options import RunOptions
from dialer.settings import Settings
from dialer.store import BEAT_LEASE, Store
from workers import session
from workers.planning import plan_run, stream
from workers.queues import START_SCHEDULED_TASK

if TYPE_CHECKING:
    from celery import Celery

log = logging.getLogger("dialer.schedule")
BEAT_EVERY_S = 5.0
BEAT_LEASE_MS = 30_000

Fire = Callable[[str, str], None]


class Schedule(BaseModel):
    """A scheduled job as stored: when, which file, and the options of its runs."""

    model_config = ConfigDict(frozen=True)

    name: str
    cron: str
    tz: str
    contacts: str
    results: str
    run: dict[str, object]

    def results_path(self, occurrence: str, at: datetime) -> str:
        """The results file of one occurrence ({name}, {date}, {time}, {campaign} filled in)."""
        local = at.astimezone(check_zone(self.tz))
        return self.results.format(
            name=self.name, date=f"{local:%Y-%m-%d}", time=f"{local:%H%M}", campaign=occurrence
        )


def load(store: Store) -> dict[str, Schedule]:
    """Every stored job."""
    return {name: Schedule.model_validate_json(spec) for name, spec in store.schedules().items()}


def send_start(app: Celery, name: str, payload: str) -> None:
    """Ask a worker of `app` to start one occurrence (`payload`: JSON [occurrence id, time])."""
    app.send_task(START_SCHEDULED_TASK, args=(name, payload))


def due(store: Store, now: datetime) -> list[tuple[Schedule, str, datetime]]:
    """Occurrences of the last few minutes not started yet, each claimed for the caller."""
    found = []
    for job in load(store).values():
        zone = check_zone(job.tz)
        for at in occurrences(parse_cron(job.cron), zone, now - MAX_LATENESS, now):
            occurrence = occurrence_id(job.name, at, zone)
            if store.claim_occurrence(occurrence):
                found.append((job, occurrence, at))
    return found


def beat_once(store: Store, fire: Fire, now: datetime) -> int:
    """Fire every due occurrence once; returns how many were fired."""
    fired = due(store, now)
    for job, occurrence, at in fired:
        log.info("schedule fired", extra={"schedule": job.name, "campaign": occurrence})
        fire(job.name, json.dumps([occurrence, at.isoformat()]))
    return len(fired)


def next_run(job: Schedule, now: datetime) -> datetime | None:
    """When the job fires next."""
    return next_occurrence(parse_cron(job.cron), check_zone(job.tz), now)


def run_beat(store: Store, fire: Fire, stop: threading.Event) -> None:
    """The scheduler loop: fire what is due while holding the lease; until `stop` is set."""
    owner = uuid.uuid4().hex
    while not stop.is_set():
        try:
            if store.try_tick_lease(owner, BEAT_LEASE_MS, key=BEAT_LEASE):
                beat_once(store, fire, datetime.now(UTC))
        except Exception:  # a Redis restart or one bad job must not stop the scheduler
            log.exception("scheduler pass failed; trying again")
        stop.wait(BEAT_EVERY_S)


def start_occurrence(
    store: Store, settings: Settings, name: str, occurrence: str, at: datetime
) -> None:
    """Read the job's contacts file now and start its campaign (once, whatever the retries)."""
    job = load(store).get(name)
    if job is None:
        log.error("schedule %s no longer exists; occurrence %s skipped", name, occurrence)
        return
    try:
        results = Path(job.results_path(occurrence, at))
        private_dir(results.parent)
        chosen = plan_run(
            settings,
            Path(job.contacts),
            RunOptions.model_validate(job.run),
            campaign=occurrence,
            results=results,
            rejects=results.with_name(results.name.replace(".csv", "") + ".rejects.csv"),
        )
        config = chosen.config.model_copy(update={"results_path": str(results)})
        out = open_private(chosen.rejects_path, "w", encoding="utf-8", newline="")
        session.submit(store, config, stream(chosen.contact_file, out, []))
        session.start(store, occurrence)
    except (DialerError, OSError) as exc:
        store.note_occurrence(name, occurrence, str(exc))
        log.error("scheduled run %s failed: %s", occurrence, exc)
        return
    store.note_occurrence(name, occurrence)
    log.info("scheduled run started", extra={"schedule": name, "campaign": occurrence})
