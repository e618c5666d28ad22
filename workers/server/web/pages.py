"""The web app's pages: log in, the campaigns, one campaign (live), its controls.

Every page shows what the API shows (`views`, `campaigns`, `files`), through the same functions
the /api routes call; the pages only render it. Forms post with the session's CSRF token; a
request without a session is sent to /login.

/login, /logout            the session (the token typed or pasted into the form)
/                          the campaigns
/campaigns/new             upload, check, test call, start (pages_new)
/campaigns/{id}            one campaign; /campaigns/{id}/live its server-sent updates
/schedules                 scheduled jobs (pages_schedules)
/static/...                htmx, its SSE extension, the style sheet
/favicon.ico               the icon browsers ask for (public, as the static files)
"""

# Annotations stay evaluated (no __future__ import): FastAPI reads them, and they name
# dependencies local to the router functions.

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from campaigns import report_html
from campaigns.progress import Progress, progress
from campaigns.reselect import RETRYABLE
from workers.server import actions, files, views
from workers.server.api import campaigns as api_campaigns
from workers.server.api import events
from workers.server.context import Server
from workers.server.web import details, new_campaign, schedules
from workers.server.web.common import HERE, PAGE_ERRORS, TEMPLATES, message, page, sender, viewer
from workers.server.web.login import (
    CrossSite,
    LoginRequired,
    Session,
    login,
    logout,
    same_origin,
    token_ok,
)


def install(app: FastAPI, server: Server) -> None:
    """Add the pages, their static files and their redirects to `app`."""
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(HERE / "static" / "favicon.ico", media_type="image/x-icon")

    app.include_router(_session_routes(server))
    app.include_router(new_campaign.router(server))  # before /campaigns/{cid}: "new" is no id
    app.include_router(_campaign_routes(server))
    app.include_router(_file_routes(server))
    app.include_router(schedules.router(server))

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired) -> Response:
        if request.headers.get("hx-request"):
            return Response(status_code=200, headers={"HX-Redirect": "/login"})
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(CrossSite)
    async def cross_site(request: Request, exc: CrossSite) -> Response:
        text = "This form was not sent by this site's pages (or the session changed): reload."
        return HTMLResponse(text, status_code=403)


def _session_routes(server: Server) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    @pages.get("/login")
    def login_form(request: Request) -> Response:
        return page(request, "login.html")

    @pages.post("/login")
    def login_post(request: Request, token: Annotated[str, Form()] = "") -> Response:
        if same_origin(request) and token_ok(server.token, token):
            return login(server.sessions, request)
        return page(request, "login.html", 401, error="That token is not this server's.")

    @pages.post("/logout")
    def logout_post(session: Annotated[Session, Depends(sender(server))]) -> Response:
        return logout(server.sessions, session)

    return pages


def _campaign_routes(server: Server) -> APIRouter:
    pages = APIRouter(include_in_schema=False)
    store = server.store
    seeing, sending = Depends(viewer(server)), Depends(sender(server))

    @pages.get("/")
    def home(request: Request, session: Annotated[Session, seeing]) -> Response:
        shown = [
            (views.detail(store, s.id), details.started(store, s.id)) for s in views.listing(store)
        ]
        return page(request, "campaigns.html", campaigns=shown, session=session)

    @pages.get("/campaigns/{cid}")
    def campaign(request: Request, cid: str, session: Annotated[Session, seeing]) -> Response:
        return _campaign_page(request, server, cid, session)

    @pages.get("/campaigns/{cid}/live")
    def live(cid: str, session: Annotated[Session, seeing]) -> StreamingResponse:
        views.summary(store, cid)
        return StreamingResponse(
            _live(server, cid, session),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @pages.post("/campaigns/{cid}/{action}")
    def act(
        request: Request,
        cid: str,
        action: str,
        session: Annotated[Session, sending],
        statuses: Annotated[list[str] | None, Form()] = None,
    ) -> Response:
        try:
            to = _act(server, cid, action, statuses or [])
        except PAGE_ERRORS as exc:
            return _campaign_page(request, server, cid, session, error=message(exc))
        return RedirectResponse(to, status_code=303)

    return pages


def _file_routes(server: Server) -> APIRouter:
    """The campaign's files, as the API serves them, for a logged-in browser."""
    pages = APIRouter(include_in_schema=False)
    seeing = Depends(viewer(server))

    @pages.get("/campaigns/{cid}/results.csv")
    def results_csv(cid: str, session: Annotated[Session, seeing]) -> Response:
        return api_campaigns.results_csv_file(server, cid)

    @pages.get("/campaigns/{cid}/results.xlsx")
    def results_xlsx(cid: str, session: Annotated[Session, seeing]) -> Response:
        return api_campaigns.results_xlsx_file(server, cid)

    @pages.get("/campaigns/{cid}/report.html")
    def report(cid: str, session: Annotated[Session, seeing]) -> Response:
        return api_campaigns.report_page(server, cid)

    return pages


def _act(server: Server, cid: str, action: str, statuses: list[str]) -> str:
    """Do one of the campaign page's buttons; where to go next."""
    if action == "pause":
        actions.pause(server, cid)
    elif action == "resume":
        actions.resume(server, cid)
    elif action == "cancel":
        actions.cancel(server, cid)
    elif action == "retry":
        return f"/campaigns/{actions.retry(server, cid, statuses)}"
    elif action == "delete":
        actions.delete(server, cid)
        return "/"
    else:
        return f"/campaigns/{cid}"
    return f"/campaigns/{cid}"


def _campaign_page(
    request: Request, server: Server, cid: str, session: Session, error: str = ""
) -> Response:
    try:
        detail = views.detail(server.store, cid)
    except PAGE_ERRORS as exc:
        return page(request, "missing.html", 404, error=message(exc), session=session)
    return page(
        request,
        "campaign.html",
        409 if error else 200,
        c=detail,
        live=details.activity(server.store, cid, detail.dialled),
        charts=report_html.charts(files.report(server, cid)) if detail.dialled else "",
        retry_choices=RETRYABLE,
        error=error,
        session=session,
    )


async def _live(server: Server, cid: str, session: Session) -> AsyncIterator[str]:
    """The campaign's live part, rendered, until nothing more will happen to it."""
    fragment = TEMPLATES.get_template("_live.html")
    while True:
        detail, now, activity = await run_in_threadpool(_read, server, cid)
        html = fragment.render(c=detail, live=activity, csrf=session.csrf, **TEMPLATES.env.globals)
        finished = events.ended(now)
        data = "".join(f"data: {line}\n" for line in html.splitlines())
        yield f"event: {'done' if finished else 'progress'}\n{data}\n"
        if finished:
            return
        await asyncio.sleep(server.events_every_s)


def _read(server: Server, cid: str) -> tuple[views.CampaignDetail, Progress, details.Activity]:
    store = server.store
    detail = views.detail(store, cid)
    return detail, progress(store, cid), details.activity(store, cid, detail.dialled)
