"""/api/schedules: scheduled batch jobs (list, add with its next runs, remove, run now).

A job's list is uploaded with it and kept like any uploaded list (`uploads/<file name>`); it is
read again each time the job fires, so uploading a new version under the same name updates it.
"""

# Annotations stay evaluated (no __future__ import): FastAPI reads them, and they name
# dependencies local to the router functions.

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Response, UploadFile
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from campaigns.schedules import (
    check_name,
    check_zone,
    next_occurrence,
    occurrence_id,
    parse_cron,
)
from workers.planning import calling_times
from workers.scheduler import Schedule, load
from workers.server import forms, uploads
from workers.server.context import Server
from workers.server.errors import ApiError

NEXT_RUNS = 5


class ScheduleView(BaseModel):
    """A job: when it fires, which list, its next runs and how the last one went."""

    name: str
    cron: str
    tz: str
    list_name: str
    next_runs: list[datetime]
    last_run: str
    last_error: str
    options: dict[str, object]


class Started(BaseModel):
    """A run started by hand: its campaign id."""

    campaign: str


def next_runs(job: Schedule, now: datetime, count: int = NEXT_RUNS) -> list[datetime]:
    """The job's next `count` occurrences."""
    cron, zone = parse_cron(job.cron), check_zone(job.tz)
    found: list[datetime] = []
    while len(found) < count and (at := next_occurrence(cron, zone, now)) is not None:
        found.append(at)
        now = at
    return found


def view(job: Schedule, last: tuple[str, str], now: datetime) -> ScheduleView:
    """What the API shows of a job."""
    options = {k: v for k, v in job.run.items() if k != "webhook_url"}
    return ScheduleView(
        name=job.name, cron=job.cron, tz=job.tz, list_name=job.contacts.rsplit("/", 1)[-1],
        next_runs=next_runs(job, now), last_run=last[0], last_error=last[1], options=options,
    )  # fmt: skip


def router(server: Server) -> APIRouter:
    """The schedule routes, bound to `server`."""
    api = APIRouter(prefix="/api/schedules", tags=["schedules"])
    store = server.store
    run_form = forms.run_options_form(exclude=frozenset({"tz"}))

    @api.get("")
    def list_schedules() -> list[ScheduleView]:
        """Every job, with its next runs."""
        last, now = store.last_occurrences(), datetime.now(UTC)
        return [
            view(job, last.get(name, ("", "")), now) for name, job in sorted(load(store).items())
        ]

    @api.post("", status_code=201)
    async def add(
        name: Annotated[str, Form(description="The job's name; its campaigns are NAME-DATE-TIME.")],
        cron: Annotated[str, Form(description='When, as cron: "0 10 * * mon-fri".')],
        file: UploadFile,
        options: Annotated[dict[str, Any], Depends(run_form)],
        tz: Annotated[str, Form(description="Time zone of the cron.")] = "UTC",
    ) -> ScheduleView:
        """Add (or replace) a job dialling the uploaded list on a schedule."""
        check_name(name)
        parse_cron(cron)
        check_zone(tz)
        opts = forms.build({**options, "tz": tz}, webhook_url=server.webhook_url)
        await run_in_threadpool(calling_times, opts)
        part = await uploads.receive(file, server.uploads, server.max_upload_bytes)
        target = uploads.keep(part, server.uploads, file.filename)
        results = str(server.state_dir / "files" / "{campaign}" / "results.csv")
        job = Schedule(name=name, cron=cron, tz=tz, contacts=str(target), results=results,
                       run=opts.model_dump(exclude_none=True))  # fmt: skip
        store.save_schedule(name, job.model_dump_json())
        return view(job, ("", ""), datetime.now(UTC))

    @api.delete("/{name}", status_code=204)
    def remove(name: str) -> Response:
        """Delete a job (campaigns it started go on)."""
        if not store.remove_schedule(name):
            raise ApiError(404, f"no schedule named {name!r}")
        return Response(status_code=204)

    @api.post("/{name}/run", status_code=202)
    def run_now(name: str) -> Started:
        """Start one run of the job now, as if it had fired."""
        job = load(store).get(name)
        if job is None:
            raise ApiError(404, f"no schedule named {name!r}")
        now = datetime.now(UTC)
        occurrence = occurrence_id(name, now, check_zone(job.tz)) + "-now"
        if not store.claim_occurrence(occurrence):
            raise ApiError(409, f"{occurrence} was started already; try again in a minute")
        server.fire(name, json.dumps([occurrence, now.isoformat()]))
        return Started(campaign=occurrence)

    return api
