"""Thin Celery tasks: ids in, one plain function called, nothing returned.

Shared tasks: they register on the app a worker runs (`make_app` includes this module). A task
may run twice or never; the store's compare-and-set transitions make a second run a no-op and
the tick re-enqueues work whose message was lost.
"""

from __future__ import annotations

import json
from datetime import datetime

from celery import shared_task

from dialer import calls, following
from dialer.settings import load_settings
from workers.queues import DIAL_TASK, FOLLOW_TASK, START_SCHEDULED_TASK
from workers.resources import dispatcher, serves
from workers.scheduler import start_occurrence


def _rows(rows: int | list[int]) -> list[int]:
    return [rows] if isinstance(rows, int) else list(rows)


@shared_task(name=DIAL_TASK)  # type: ignore[untyped-decorator]
def dial(cid: str, rows: int | list[int]) -> None:
    """Place the calls of these pending contacts, one after the other."""
    if not serves(cid):
        return
    calls.place_many(dispatcher(), cid, _rows(rows))


@shared_task(name=FOLLOW_TASK)  # type: ignore[untyped-decorator]
def follow(cid: str, rows: int | list[int]) -> None:
    """Do these contacts' due follow-ups: poll their calls, or reconcile uncertain creates."""
    if not serves(cid):
        return
    d = dispatcher()
    for row in _rows(rows):
        following.follow_up(d, cid, row)


@shared_task(name=START_SCHEDULED_TASK)  # type: ignore[untyped-decorator]
def start_scheduled(name: str, occurrence: str) -> None:
    """Start one occurrence of a scheduled job: read its file now, submit its campaign."""
    occurrence_id, at = json.loads(occurrence)
    d = dispatcher()
    start_occurrence(d.store, load_settings(), name, occurrence_id, datetime.fromisoformat(at))
