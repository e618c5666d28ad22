"""/api/schedules: scheduled batch jobs (list, add with its next runs, remove, run now), as
`dialer schedule` does them.

A job's list is uploaded with it and kept like any uploaded list (`uploads/<file name>`); it is
read again each time the job fires, so uploading a new version under the same name updates it.
"""

# Annotations stay evaluated (no __future__ import): FastAPI reads them, and they name
# dependencies local to the router functions.

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Response, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from campaigns.schedules import check_cron, check_name, check_zone, next_occurrence, occurrence_id
from dialer.store import JobRun
from workers.scheduler import Schedule, check_job, clock, load, start_occurrence
from workers.server import forms, uploads
from workers.server.context import Server
from workers.server.errors import ApiError

NEXT_RUNS = 5


class ScheduleView(BaseModel):
    """A job: when it fires, which list, its next runs, its last run and last error."""

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
    """The job's next `count` occurrences (none before it was added or last changed)."""
    found: list[datetime] = []
    after = max(now, job.changed or now)
    while len(found) < count and (at := next_occurrence(job.cron, job.zone(), after)):
        found.append(at)
        after = at
    return found


def view(job: Schedule, last: JobRun | None, error: JobRun | None, now: datetime) -> ScheduleView:
    """What the API shows of a job."""
    return ScheduleView(
        name=job.name, cron=job.cron, tz=job.tz, list_name=job.contacts.rsplit("/", 1)[-1],
        next_runs=next_runs(job, now),
        last_run=f"{last.occurrence} {last.status} {last.at}".strip() if last else "",
        last_error=f"{error.at} {error.occurrence}: {error.error}".strip() if error else "",
        options={k: v for k, v in job.run.items() if k != "webhook_url"},
    )  # fmt: skip


def listing(server: Server) -> list[ScheduleView]:
    """Every job, with its next runs and how the last one went."""
    store = server.store
    runs, errors, now = store.last_runs(), store.last_errors(), clock(store)
    return [
        view(job, runs.get(name), errors.get(name), now)
        for name, job in sorted(load(store).items())
    ]


def check_fields(name: str, cron: str, tz: str) -> None:
    """The job's name, cron and zone checked before its list is received."""
    check_name(name)
    check_cron(cron)
    check_zone(tz)


def save(
    server: Server, name: str, cron: str, tz: str, contacts: str, run: dict[str, Any]
) -> ScheduleView:
    """Add (or replace) the job, its every option checked now as a run would check it."""
    store = server.store
    now = clock(store)
    results = str(server.state_dir / "files" / "{campaign}" / "results.csv")
    job = Schedule(name=name, cron=cron, tz=tz, contacts=contacts, results=results, run=run,
                   changed=now)  # fmt: skip
    check_job(job, server.settings, now)
    store.save_schedule(name, job.model_dump_json())
    return view(job, None, None, now)


def remove(server: Server, name: str) -> None:
    """Delete a job (campaigns it started go on)."""
    if not server.store.remove_schedule(name):
        raise ApiError(404, f"no schedule named {name!r}")
    server.store.forget_schedule(name)


def run_now(server: Server, name: str) -> str:
    """Start one run of the job now, as if it had fired; its campaign id (409 saying why not)."""
    store = server.store
    job = load(store).get(name)
    if job is None:
        raise ApiError(404, f"no schedule named {name!r}")
    now = clock(store)
    occurrence = occurrence_id(name, now, job.zone()) + "-now"
    if not store.claim_occurrence(occurrence):
        raise ApiError(409, f"{occurrence} was started already; try again in a minute")
    run = start_occurrence(store, server.settings, name, occurrence, now)
    if run.error:
        store.release_occurrence(occurrence)
        raise ApiError(409, f"{occurrence} did not start: {run.error}")
    return occurrence


class ScheduleForm(forms.RunOptionsForm):
    """POST /api/schedules: the job's name and times, its list, any of `dialer run`'s options."""

    name: Annotated[str, Field(description="The job's name; its campaigns are NAME-DATE-TIME.")]
    cron: Annotated[str, Field(description='When, as cron: "0 10 * * mon-fri".')]
    file: UploadFile
    tz: Annotated[str, Field(description="Time zone of the cron.")] = "UTC"


def router(server: Server) -> APIRouter:
    """The schedule routes, bound to `server`."""
    api = APIRouter(prefix="/api/schedules", tags=["schedules"])

    @api.get("")
    def list_schedules() -> list[ScheduleView]:
        """Every job, with its next runs and how the last one went."""
        return listing(server)

    @api.post("", status_code=201)
    async def add(form: Annotated[ScheduleForm, Form(media_type=forms.MULTIPART)]) -> ScheduleView:
        """Add (or replace) a job dialling the uploaded list on a schedule; every option is
        checked now, as a run would check it."""
        name, cron, tz, file, options = form.name, form.cron, form.tz, form.file, forms.given(form)
        check_fields(name, cron, tz)
        opts = forms.build({**options, "tz": tz}, webhook_url=server.webhook_url)
        part = await uploads.receive(file, server.uploads, server.max_upload_bytes)
        with uploads.discarded(part):
            target = uploads.keep(part, server.uploads, file.filename)
        return await run_in_threadpool(
            save, server, name, cron, tz, str(target), opts.model_dump(exclude_none=True)
        )

    @api.delete("/{name}", status_code=204)
    def delete(name: str) -> Response:
        """Delete a job (campaigns it started go on)."""
        remove(server, name)
        return Response(status_code=204)

    @api.post("/{name}/run", status_code=201)
    def start_now(name: str) -> Started:
        """Start one run of the job now, as if it had fired; 409 saying why when it cannot."""
        return Started(campaign=run_now(server, name))

    return api
