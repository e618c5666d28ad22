"""The schedules page: the jobs with their next runs in words; add, remove, run now. Each does
what the /api/schedules route of the same name does (`api_schedules`)."""

# Annotations stay evaluated (no __future__ import): FastAPI reads them, and they name
# dependencies local to the router functions.

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from workers.server import forms, uploads
from workers.server.api import schedules as api_schedules
from workers.server.context import Server
from workers.server.web.common import PAGE_ERRORS, message, page, sender, viewer
from workers.server.web.login import Session
from workers.server.web.new_campaign import defaults


def router(server: Server) -> APIRouter:
    """The schedules page and its forms."""
    pages = APIRouter(include_in_schema=False)
    seeing, sending = Depends(viewer(server)), Depends(sender(server))

    def shown(
        request: Request,
        session: Session,
        error: str = "",
        status: int = 200,
        given: dict[str, Any] | None = None,
    ) -> Response:
        """The page; after a refused form, with the form's fields as they were sent."""
        jobs = api_schedules.listing(server)
        return page(request, "schedules.html", status, jobs=jobs, defaults=defaults(server),
                    error=error, given=given or {}, session=session)  # fmt: skip

    @pages.get("/schedules")
    def schedules(request: Request, session: Annotated[Session, seeing]) -> Response:
        return shown(request, session)

    @pages.post("/schedules")
    async def add(
        request: Request,
        session: Annotated[Session, sending],
        file: UploadFile,
        options: Annotated[dict[str, Any], Depends(forms.run_options_given)],
        name: Annotated[str, Form()] = "",
        cron: Annotated[str, Form()] = "",
        tz: Annotated[str, Form()] = "UTC",
    ) -> Response:
        try:
            api_schedules.check_fields(name, cron, tz)
            opts = forms.build({**options, "tz": tz}, webhook_url=server.webhook_url)
            part = await uploads.receive(file, server.uploads, server.max_upload_bytes)
            run = opts.model_dump(exclude_none=True)
            with uploads.discarded(part):
                await run_in_threadpool(
                    api_schedules.save_upload, server, name, cron, tz, part, file.filename, run
                )
        except PAGE_ERRORS as exc:
            sent = {**options, "name": name, "cron": cron, "tz": tz}
            return shown(request, session, message(exc), 422, sent)
        return RedirectResponse("/schedules", status_code=303)

    @pages.post("/schedules/{name}/{action}")
    def act(
        request: Request, name: str, action: str, session: Annotated[Session, sending]
    ) -> Response:
        try:
            if action == "remove":
                api_schedules.remove(server, name)
            elif action == "run":
                return RedirectResponse(
                    f"/campaigns/{api_schedules.run_now(server, name)}", status_code=303
                )
        except PAGE_ERRORS as exc:
            return shown(request, session, message(exc), 409)
        return RedirectResponse("/schedules", status_code=303)

    return pages
