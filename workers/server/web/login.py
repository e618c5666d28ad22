"""The pages' session: a login (a POST of the server's token: never in a URL) starts a session
held by this server, sent as an HttpOnly, SameSite=Strict cookie; every form carries a CSRF
token derived from that session.

The cookie is `nonce.signature` (an HMAC of the nonce with the server's token); the session is
live only while the server holds its nonce: a logout ends it for good (the cookie no longer works,
even replayed), and so do 12 hours, a restart, or a new token. The cookie is `Secure` when the
request came over https or the server's public URL is https.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

COOKIE = "dialer_session"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
MAX_AGE_S = 12 * 3600
MAX_SESSIONS = 1000  # live at once; the oldest ends first


class LoginRequired(Exception):
    """No valid session: the page sends the browser to the login form."""


class CrossSite(Exception):
    """A form sent without this session's CSRF token, or from another site."""


@dataclass(frozen=True)
class Session:
    """A logged-in browser: the CSRF token its forms must send back."""

    csrf: str
    nonce: str = ""


class Sessions:
    """The server's live sessions, in memory: a login starts one, a logout ends it."""

    def __init__(
        self,
        token: str,
        *,
        secure: bool = False,
        max_age_s: float = MAX_AGE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token, self.secure, self.max_age_s, self.clock = token, secure, max_age_s, clock
        self._live: OrderedDict[str, float] = OrderedDict()  # nonce -> when it ends

    def start(self) -> str:
        """A new session's cookie value."""
        nonce = secrets.token_urlsafe(18)
        self._live[nonce] = self.clock() + self.max_age_s
        while len(self._live) > MAX_SESSIONS:
            self._live.popitem(last=False)
        return f"{nonce}.{_sign(self.token, 'session', nonce)}"

    def find(self, cookies: Mapping[str, str]) -> Session | None:
        """The session a request's cookies carry, or None when it is not a live one."""
        nonce, _, signature = cookies.get(COOKIE, "").partition(".")
        expected = _sign(self.token, "session", nonce)
        if not nonce or not secrets.compare_digest(signature.encode(), expected.encode()):
            return None
        ends = self._live.get(nonce)
        if ends is None or ends <= self.clock():
            self._live.pop(nonce, None)
            return None
        return Session(csrf=_sign(self.token, "csrf", nonce)[:40], nonce=nonce)

    def end(self, session: Session) -> None:
        """End a session: its cookie no longer works."""
        self._live.pop(session.nonce, None)


def _sign(token: str, purpose: str, nonce: str) -> str:
    return hmac.new(token.encode(), f"{purpose}:{nonce}".encode(), hashlib.sha256).hexdigest()


def token_ok(token: str, given: str) -> bool:
    """True when `given` is the server's token."""
    return secrets.compare_digest(given.strip().encode(), token.encode())


def login(sessions: Sessions, request: Request, to: str = "/") -> Response:
    """Redirect to `to` with a new session cookie."""
    answer = RedirectResponse(to, status_code=303)
    answer.set_cookie(
        COOKIE,
        sessions.start(),
        max_age=MAX_AGE_S,
        httponly=True,
        samesite="strict",
        secure=sessions.secure or request.url.scheme == "https",
        path="/",
    )
    return answer


def session_of(sessions: Sessions, request: Request) -> Session | None:
    """The request's session, or None when it has no live one."""
    return sessions.find(request.cookies)


def require_session(sessions: Sessions, request: Request) -> Session:
    """The request's session; LoginRequired without one."""
    found = session_of(sessions, request)
    if found is None:
        raise LoginRequired
    return found


async def require_form_session(sessions: Sessions, request: Request) -> Session:
    """The session of a form sent by this site's pages: same origin, the session's CSRF token
    (in the form, or in the header htmx sends)."""
    found = require_session(sessions, request)
    if not same_origin(request):
        raise CrossSite
    given = request.headers.get(CSRF_HEADER) or str((await request.form()).get(CSRF_FIELD, ""))
    if not secrets.compare_digest(given.encode(), found.csrf.encode()):
        raise CrossSite
    return found


def same_origin(request: Request) -> bool:
    """False when the browser says the request comes from another site: its Sec-Fetch-Site
    header, or else its Origin (which the pages' no-referrer policy turns into `null`)."""
    fetched_from = request.headers.get("sec-fetch-site")
    if fetched_from is not None:
        return fetched_from in ("same-origin", "none")
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


def logout(sessions: Sessions, session: Session) -> Response:
    """End the session here (its cookie stops working) and go back to the login form."""
    sessions.end(session)
    answer = RedirectResponse("/login", status_code=303)
    answer.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return answer
