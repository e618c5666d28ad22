"""The pages' session: a login turns the server's token into an HttpOnly, SameSite=Strict cookie,
and every form carries a CSRF token derived from that session.

Nothing is stored: the cookie is `nonce.signature` (an HMAC of the nonce with the server's
token), and the session's CSRF token is another HMAC of the same nonce, so changing the token
(restarting with another) ends every session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

COOKIE = "dialer_session"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
MAX_AGE_S = 12 * 3600


class LoginRequired(Exception):
    """No valid session: the page sends the browser to the login form."""


class CrossSite(Exception):
    """A form sent without this session's CSRF token, or from another site."""


@dataclass(frozen=True)
class Session:
    """A logged-in browser: the CSRF token its forms must send back."""

    csrf: str


def _sign(token: str, purpose: str, nonce: str) -> str:
    return hmac.new(token.encode(), f"{purpose}:{nonce}".encode(), hashlib.sha256).hexdigest()


def token_ok(token: str, given: str) -> bool:
    """True when `given` is the server's token."""
    return secrets.compare_digest(given.strip().encode(), token.encode())


def login(token: str, request: Request, to: str = "/") -> Response:
    """Redirect to `to` (a clean URL, without the token) with a new session cookie."""
    nonce = secrets.token_urlsafe(18)
    answer = RedirectResponse(to, status_code=303)
    answer.set_cookie(
        COOKIE,
        f"{nonce}.{_sign(token, 'session', nonce)}",
        max_age=MAX_AGE_S,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return answer


def session_of(token: str, request: Request) -> Session | None:
    """The request's session, or None when it has no valid cookie."""
    nonce, _, signature = request.cookies.get(COOKIE, "").partition(".")
    if not nonce or not secrets.compare_digest(signature, _sign(token, "session", nonce)):
        return None
    return Session(csrf=_sign(token, "csrf", nonce)[:40])


def require_session(token: str, request: Request) -> Session:
    """The request's session; LoginRequired without one."""
    found = session_of(token, request)
    if found is None:
        raise LoginRequired
    return found


async def require_form_session(token: str, request: Request) -> Session:
    """The session of a form sent by this site's pages: same origin, the session's CSRF token
    (in the form, or in the header htmx sends)."""
    found = require_session(token, request)
    if not same_origin(request):
        raise CrossSite
    given = request.headers.get(CSRF_HEADER) or str((await request.form()).get(CSRF_FIELD, ""))
    if not secrets.compare_digest(given.encode(), found.csrf.encode()):
        raise CrossSite
    return found


def same_origin(request: Request) -> bool:
    """False when the browser says the request comes from another site (Origin header)."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


def logout() -> Response:
    """Back to the login form, the session cookie removed."""
    answer = RedirectResponse("/login", status_code=303)
    answer.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return answer
