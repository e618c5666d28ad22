"""The server's FastAPI app, built by `build_app` from a `Server` (nothing happens at import).

/api/...            the REST API, every route behind the bearer token
/webhooks/oneinbox  OneInbox's webhooks, handled by `workers.server.receiver` (outside the token)
/metrics            Prometheus metrics (`workers.server.api.metrics`), behind the token
/docs               the OpenAPI document, rendered here as plain HTML (no script, nothing
                    fetched from elsewhere); /openapi.json is the document itself
/, /login, ...      the web app's pages (`workers.server.web.pages`), behind a session cookie

Before any route, `workers.server.guard` refuses what lacks the token or a session from its
headers alone, bounds bodies and parallel uploads, and adds the security headers.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workers.server import apidocs, errors, guard, receiver, uploads
from workers.server.api import campaigns as api_campaigns
from workers.server.api import events
from workers.server.api import metrics as api_metrics
from workers.server.api import schedules as api_schedules
from workers.server.auth import require_token
from workers.server.context import WEBHOOK_PATH, Server
from workers.server.web import pages

DESCRIPTION = """Start and watch outbound campaigns over HTTP, with the guarantees of
`dialer run`: nobody is dialled twice, calls happen inside each recipient's window, and every
contact ends with a status. Every /api route takes `Authorization: Bearer <token>`."""


def build_app(server: Server) -> FastAPI:
    """The whole server: API, webhook route, docs, pages."""
    app = FastAPI(
        title="dialer", description=DESCRIPTION, version="1", docs_url=None, redoc_url=None
    )
    apidocs.install(app)
    errors.install(app)
    guarded = [Depends(require_token(server.token))]
    app.include_router(api_campaigns.router(server), dependencies=guarded)
    app.include_router(events.router(server), dependencies=guarded)
    app.include_router(api_schedules.router(server), dependencies=guarded)
    app.include_router(api_metrics.router(server), dependencies=guarded)
    pages.install(app, server)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        server.store.ping()
        return {"status": "ok"}

    app.add_middleware(UploadLimit, limit=server.max_upload_bytes)
    app.add_middleware(guard.Bounded)
    app.add_middleware(guard.Authenticated, token=server.token, sessions=server.sessions)
    app.add_middleware(guard.Headers)
    app.add_middleware(WebhookRoute, receiver=receiver.create_app(server.store))
    return app


class WebhookRoute:
    """ASGI middleware: requests under /webhooks/oneinbox go to the webhook receiver as it is
    (its own limits and answers), the rest to the API."""

    def __init__(self, app: ASGIApp, receiver: ASGIApp) -> None:
        self.app, self.receiver = app, receiver

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route one request or lifespan event."""
        if scope["type"] == "http" and str(scope["path"]).startswith(WEBHOOK_PATH):
            await self.receiver(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class UploadLimit:
    """ASGI middleware: a request body larger than the upload limit (and room for the form) is
    refused with 413: at once when its Content-Length says so, else as soon as that many bytes
    have streamed in, before the rest is read or spooled anywhere."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse an oversized request, or pass it on with its body counted."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if not uploads.content_length_ok(length.decode() if length else None, self.limit):
            answer = JSONResponse(errors.body(self._message(), "file"), 413)
            await answer(scope, receive, send)
            return
        await self.app(scope, self._counted(receive), send)

    def _message(self) -> str:
        return f"the request is larger than the upload limit of {self.limit / (1 << 20):g} MB"

    def _counted(self, receive: Receive) -> Receive:
        allowed, seen = self.limit + uploads.FORM_ROOM, 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > allowed:  # FastAPI passes an HTTPException raised here through as it is
                raise errors.ApiError(413, self._message(), field="file")
            return message

        return counted
