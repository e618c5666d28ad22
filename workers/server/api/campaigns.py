"""/api/contacts/inspect and /api/campaigns: lists in, campaigns out, steered and deleted."""

# Annotations stay evaluated (no __future__ import): FastAPI reads them, and they name
# dependencies local to the router functions.

from typing import Annotated

from fastapi import APIRouter, Form, Response, UploadFile
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from campaigns.contacts import LoadOptions
from campaigns.rejects import REJECT_COLUMNS
from campaigns.renames import parse_renames
from campaigns.report_html import CSP
from workers.server import actions, files, forms, uploads, views
from workers.server.checks import CheckView
from workers.server.context import Server
from workers.server.inspection import Inspection, RejectSample, inspect_list

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Created(views.CampaignDetail):
    """A campaign just submitted: `resumed` when the same list had been started before, the
    preflight's checks (warnings worth reading), and how many rows of the list were rejected
    (GET `rejects` lists them)."""

    resumed: bool
    preflight: list[CheckView]
    rejected: int
    rejects: str


class CampaignForm(forms.RunOptionsForm):
    """POST /api/campaigns: the list, any of `dialer run`'s options, the campaign's id."""

    file: UploadFile
    campaign: Annotated[str | None, Field(description="Campaign id (default: name+hash).")] = None
    preflight: Annotated[
        bool, Field(description="Check key, agent, numbers and quota before dialling.")
    ] = True


class Canceled(BaseModel):
    """What a cancel did."""

    id: str
    canceled_contacts: int


def router(server: Server) -> APIRouter:
    """The campaign routes, bound to `server`."""
    api = APIRouter(prefix="/api", tags=["campaigns"])
    _intake(api, server)
    _steering(api, server)
    _files(api, server)
    return api


def _intake(api: APIRouter, server: Server) -> None:
    store = server.store

    @api.post("/contacts/inspect")
    async def inspect(
        file: UploadFile,
        phone_column: Annotated[str | None, Form()] = None,
        default_region: Annotated[str, Form()] = "US",
        sheet: Annotated[str | None, Form(description="The .xlsx sheet to read.")] = None,
        rename: Annotated[
            list[str] | None, Form(description="COLUMN=NAME: a variable's name for the agent.")
        ] = None,
    ) -> Inspection:
        """Read a list as a campaign would, dial nobody: columns, counts, rejects, samples."""
        options = LoadOptions(phone_column=phone_column, default_region=default_region,
                              sheet=sheet, renames=parse_renames(rename))  # fmt: skip
        part = await uploads.receive(file, server.uploads, server.max_upload_bytes)
        with uploads.discarded(part):
            name = uploads.list_name(file.filename)
            return await run_in_threadpool(inspect_list, part, name, options)

    @api.post("/campaigns", status_code=201)
    async def create(
        response: Response, form: Annotated[CampaignForm, Form(media_type=forms.MULTIPART)]
    ) -> Created:
        """Start a campaign from an uploaded list, with any of `dialer run`'s options.

        Answers the campaign, the preflight's checks, `rejected` (how many rows of the list
        will not be dialled) and `rejects` (the route that lists them, and why).
        """
        file, options = form.file, forms.given(form)
        part = await uploads.receive(file, server.uploads, server.max_upload_bytes)
        with uploads.discarded(part):
            asked = actions.Request(part, file.filename, options, form.campaign, form.preflight)
            done = await run_in_threadpool(actions.create, server, asked)
        if done.resumed:
            response.status_code = 200
        shown = await run_in_threadpool(views.detail, store, done.cid)
        return Created(
            **shown.model_dump(),
            resumed=done.resumed,
            preflight=done.preflight,
            rejected=done.rejected,
            rejects=f"/api/campaigns/{done.cid}/rejects",
        )


def _steering(api: APIRouter, server: Server) -> None:
    store = server.store

    @api.get("/campaigns")
    def list_campaigns() -> list[views.CampaignSummary]:
        """Every campaign, newest id last."""
        return views.listing(store)

    @api.get("/campaigns/{cid}")
    def show(cid: str) -> views.CampaignDetail:
        """One campaign: state in words, counts, pace, ETA and why contacts wait."""
        return views.detail(store, cid)

    @api.post("/campaigns/{cid}/pause")
    def pause(cid: str) -> views.CampaignDetail:
        """Dial nobody new; calls in progress finish."""
        actions.pause(server, cid)
        return views.detail(store, cid)

    @api.post("/campaigns/{cid}/resume")
    def resume(cid: str) -> views.CampaignDetail:
        """Dial again after a pause."""
        actions.resume(server, cid)
        return views.detail(store, cid)

    @api.post("/campaigns/{cid}/cancel")
    def cancel(cid: str) -> Canceled:
        """Stop for good: contacts not yet dialled become canceled."""
        return Canceled(id=cid, canceled_contacts=actions.cancel(server, cid))

    @api.post("/campaigns/{cid}/retry", status_code=201)
    def retry(
        cid: str,
        statuses: Annotated[str, Form(description="Statuses to dial again, comma separated.")] = (
            "failed,no_answer"
        ),
    ) -> views.CampaignDetail:
        """A new campaign of the contacts that ended with the given statuses."""
        chosen = [s.strip() for s in statuses.split(",") if s.strip()]
        return views.detail(store, actions.retry(server, cid, chosen))

    @api.delete("/campaigns/{cid}", status_code=204)
    def delete(cid: str) -> Response:
        """Remove a campaign that is not running, with its files and uploaded list."""
        actions.delete(server, cid)
        return Response(status_code=204)


def _files(api: APIRouter, server: Server) -> None:
    @api.get("/campaigns/{cid}/results.csv", response_class=FileResponse)
    def results_csv(cid: str) -> FileResponse:
        """The results file, as `dialer run` writes it, complete or not."""
        return results_csv_file(server, cid)

    @api.get("/campaigns/{cid}/results.xlsx", response_class=FileResponse)
    def results_xlsx(cid: str) -> FileResponse:
        """The results as a workbook, every cell text."""
        return results_xlsx_file(server, cid)

    @api.get("/campaigns/{cid}/rejects")
    def rejects(cid: str) -> list[RejectSample]:
        """The rows of the campaign's list that will not be dialled, and why."""
        views.summary(server.store, cid)
        return files.rejects(server, cid)

    @api.get("/campaigns/{cid}/rejects.csv", response_class=FileResponse)
    def rejects_csv(cid: str) -> Response:
        """The same rows as the rejects file `dialer run` writes (`source_row`, `phone`,
        `reason`, `detail`)."""
        views.summary(server.store, cid)
        path = files.rejects_csv(server, cid)
        if path is None:
            return Response(",".join(REJECT_COLUMNS) + "\r\n", media_type="text/csv")
        return FileResponse(path, media_type="text/csv", filename=f"{cid}.rejects.csv")

    @api.get("/campaigns/{cid}/report.html", response_class=HTMLResponse)
    def report(cid: str) -> HTMLResponse:
        """The self-contained HTML report of the results so far."""
        return report_page(server, cid)


def results_csv_file(server: Server, cid: str) -> FileResponse:
    """The campaign's results.csv, written now (404 for no such campaign)."""
    views.summary(server.store, cid)
    return FileResponse(files.results_csv(server, cid), media_type="text/csv",
                        filename=f"{cid}.results.csv")  # fmt: skip


def results_xlsx_file(server: Server, cid: str) -> FileResponse:
    """The campaign's results as a workbook (404 for no such campaign)."""
    views.summary(server.store, cid)
    return FileResponse(files.results_xlsx(server, cid), media_type=XLSX,
                        filename=f"{cid}.results.xlsx")  # fmt: skip


def report_page(server: Server, cid: str) -> HTMLResponse:
    """The campaign's HTML report, under the report's content security policy."""
    views.summary(server.store, cid)
    return HTMLResponse(files.report_html(server, cid), headers={"Content-Security-Policy": CSP})
