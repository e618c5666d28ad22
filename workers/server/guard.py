"""What every request to `dialer serve` passes before the app reads a byte of its body.

`Authenticated`: an /api request without the bearer token, or a page form without a session, is
answered (401, or the login) from its headers alone, its body never read; the login form itself
may send only a few KiB. `Bounded`: a body that stalls is cut off (408), and at most
`max_loads` uploads (inspect, load, schedule) are handled at once (503 beyond). `Headers`: every
answer forbids framing and sniffing, sends no referrer, and is never cached (but static files).
"""

from __future__ import annotations

import asyncio
import secrets

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workers.server import errors
from workers.server.web.login import Sessions

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
NO_STORE = (b"cache-control", b"no-store")
LOGIN_BODY_BYTES = 8 * 1024  # the login form: one token
BODY_IDLE_S = 30.0  # the longest wait for the next piece of a body
MAX_LOADS = 4  # uploads read and parsed at once
UPLOADS = frozenset({"/api/campaigns", "/api/contacts/inspect", "/api/schedules", "/schedules"})
PUBLIC = ("/login", "/static/", "/healthz", "/docs", "/openapi.json")
UNAUTHORISED = (
    "missing or wrong token: send `Authorization: Bearer <token>` with the token "
    "`dialer serve` printed at start (or DIALER_WEB_TOKEN)"
)


def bearer_ok(token: str, header: str | None) -> bool:
    """True when an Authorization header carries the server's bearer token."""
    scheme, _, given = (header or "").partition(" ")
    expected = token.encode()
    return scheme.lower() == "bearer" and secrets.compare_digest(given.strip().encode(), expected)


class Authenticated:
    """ASGI middleware: refuse from the headers, before any body is read, what needs the token
    (/api) or a session (every other form a page sends) and has neither."""

    def __init__(self, app: ASGIApp, token: str, sessions: Sessions) -> None:
        self.app, self.token, self.sessions = app, token, sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse, or pass the request on (the login form's body capped)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(HTTPConnection(scope))
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        if scope["path"] == "/login" and scope["method"] == "POST":
            receive = capped(receive, LOGIN_BODY_BYTES)
        await self.app(scope, receive, send)

    def _refusal(self, request: HTTPConnection) -> Response | None:
        path, method = request.url.path, request.scope["method"]
        if path == "/api" or path.startswith("/api/"):
            if bearer_ok(self.token, request.headers.get("authorization")):
                return None
            headers = {"WWW-Authenticate": "Bearer", "Connection": "close"}
            return JSONResponse(errors.body(UNAUTHORISED), 401, headers=headers)
        if method in ("GET", "HEAD") or path.startswith(PUBLIC):
            return None
        if self.sessions.find(request.cookies) is not None:
            return None
        if request.headers.get("hx-request"):
            return Response(status_code=200, headers={"HX-Redirect": "/login", **CLOSE})
        return RedirectResponse("/login", status_code=303, headers=CLOSE)


CLOSE = {"Connection": "close"}


def capped(receive: Receive, limit: int) -> Receive:
    """`receive`, refusing (413) a body past `limit` bytes."""
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > limit:
            raise errors.ApiError(413, f"the request is larger than {limit} bytes")
        return message

    return counted


def is_upload(path: str) -> bool:
    """True for the routes that take a list to read (inspect, load, schedule)."""
    return path in UPLOADS or path.startswith("/campaigns/new/")


class Bounded:
    """ASGI middleware: a body idle for `idle_s` is cut off (408); at most `max_loads` uploads
    at once, the next answered 503 at once (try again shortly)."""

    def __init__(self, app: ASGIApp, max_loads: int = MAX_LOADS, idle_s: float = BODY_IDLE_S):
        self.app, self.max_loads, self.idle_s, self.loading = app, max_loads, idle_s, 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with its body timed, or refuse a load beyond the cap."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        timed = self._timed(receive)
        if not (scope["method"] == "POST" and is_upload(str(scope["path"]))):
            await self.app(scope, timed, send)
            return
        if self.loading >= self.max_loads:
            text = f"{self.max_loads} lists are being read already; try again in a moment"
            busy = JSONResponse(errors.body(text), 503, headers={"Retry-After": "2", **CLOSE})
            await busy(scope, receive, send)
            return
        self.loading += 1
        try:
            await self.app(scope, timed, send)
        finally:
            self.loading -= 1

    def _timed(self, receive: Receive) -> Receive:
        async def timed() -> Message:
            try:
                return await asyncio.wait_for(receive(), self.idle_s)
            except TimeoutError:
                text = f"the request body stalled for {self.idle_s:g} s"
                raise errors.ApiError(408, text, headers=CLOSE) from None

        return timed


def _merged(
    headers: list[tuple[bytes, bytes]], extra: list[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    """`headers` with each of `extra` they lack (a route's own stricter CSP stays); Cache-Control
    from `extra` replaces the route's."""
    present = {name.lower() for name, _ in headers}
    if NO_STORE in extra:
        headers = [(n, v) for n, v in headers if n.lower() != NO_STORE[0]]
        present.discard(NO_STORE[0])
    return headers + [(n, v) for n, v in extra if n not in present]


class Headers:
    """ASGI middleware: the security headers on every answer; `no-store` but on static files."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, adding the headers to its answer."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(SECURITY_HEADERS)
        if not str(scope["path"]).startswith("/static/"):
            extra.append(NO_STORE)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": _merged(message.get("headers", []), extra)}
            await send(message)

        await self.app(scope, receive, with_headers)
