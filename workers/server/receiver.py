"""The webhook receiver: OneInbox's events make the dialer look sooner, never decide anything.

Webhooks are unsigned (the API documents no signature), so an event is only a hint: it brings
the call's next poll forward, and the poll, with our API key, reads the truth. Duplicates,
reordering and forgeries therefore cost at most one extra read.

Still, this is the one service meant to face the internet, so it gives away as little as it
can: each campaign's webhook URL ends in a random secret (`/webhooks/oneinbox/<secret>`) and any
other path is 404; a body is refused (413) from its Content-Length or as soon as it grows past
MAX_BODY_BYTES while streaming, before it is held in memory; a body that trickles in is cut off
(408); at most `max_requests` are handled at once (503 beyond); a call id must look like one
of OneInbox's (a UUID or `call_...`). A client that goes away mid-body is dropped without a
traceback (its path holds the secret), and an event's name is logged cut to 64 characters.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from dialer.store import Store

log = logging.getLogger("dialer.webhooks")
MAX_BODY_BYTES = 1 << 20  # events are a few KB; a long call's transcript event is the largest
MAX_REQUESTS = 32
BODY_TIMEOUT_S = 10.0
MAX_LOGGED = 64  # characters of an event's name in the log (the rest of it is anyone's)
PATH = "/webhooks/oneinbox"
CLOSE = {"Connection": "close"}  # a refused request's connection is closed, its body unread
_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
_CALL_ID = re.compile(
    r"^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|call_[A-Za-z0-9]{1,64})$"
)


class TooLarge(Exception):
    """The body is over the limit (said so by its Content-Length, or found while reading)."""


def create_app(
    store: Store,
    *,
    max_requests: int = MAX_REQUESTS,
    max_body: int = MAX_BODY_BYTES,
    body_timeout_s: float = BODY_TIMEOUT_S,
) -> FastAPI:
    """The receiver, answering 204 at once to every well-formed event with a campaign's secret."""
    app = FastAPI(title="dialer webhook receiver", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(RequestLimit, limit=max_requests)

    @app.exception_handler(StarletteHTTPException)
    async def refuse(request: Request, exc: StarletteHTTPException) -> Response:
        return Response(status_code=exc.status_code, headers=CLOSE)  # and read no more of it

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        store.ping()
        return {"status": "ok"}

    @app.post(PATH + "/{secret}", status_code=204)
    async def receive(secret: str, request: Request) -> Response:
        cid = await run_in_threadpool(_campaign_of, store, secret)
        if cid is None:
            return Response(status_code=404, headers=CLOSE)
        try:
            body = await asyncio.wait_for(read_body(request, max_body), body_timeout_s)
        except TooLarge:
            return Response(status_code=413, headers=CLOSE)
        except TimeoutError:
            return Response(status_code=408, headers=CLOSE)
        except ClientDisconnect:  # nobody to answer, nothing to log (the path holds the secret)
            return Response(status_code=400, headers=CLOSE)
        event = _parse(body)
        if event is None or not _CALL_ID.match(str(event.get("call_id", ""))):
            return Response(status_code=400)
        call_id, kind = str(event["call_id"]), str(event.get("event", ""))[:MAX_LOGGED]
        nudged = await run_in_threadpool(store.nudge, call_id, cid)
        log.info(
            "webhook", extra={"campaign": cid, "event": kind, "call_id": call_id, "nudged": nudged}
        )
        return Response(status_code=204)

    return app


class RequestLimit:
    """ASGI middleware: at most `limit` requests in the app at once; the next get 503 at once."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit, self.busy = app, limit, 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or refuse it when `limit` are already being handled."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.busy >= self.limit:
            busy = Response(status_code=503, headers={"Retry-After": "1", **CLOSE})
            await busy(scope, receive, send)
            return
        self.busy += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.busy -= 1


def _campaign_of(store: Store, secret: str) -> str | None:
    return store.hook_campaign(secret) if _SECRET.match(secret) else None


async def read_body(request: Request, limit: int) -> bytes:
    """The body, or TooLarge as soon as it is known to be over `limit` bytes (never buffered)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge
    return bytes(body)


def _parse(body: bytes) -> dict[str, Any] | None:
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return event if isinstance(event, dict) else None
