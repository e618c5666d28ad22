"""What every page module shares: the templates, the session dependencies, errors in words."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from dialer.errors import DialerError
from workers.server import errors, wording
from workers.server.context import Server
from workers.server.web import details
from workers.server.web.login import Session, require_form_session, require_session

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
TEMPLATES.env.globals.update(
    state_words=details.state_words,
    percent=details.percent,
    eta=details.eta,
    ago=details.ago,
    ahead=details.ahead,
)
TEMPLATES.env.filters["for_http"] = wording.for_http


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A rendered template; the session's CSRF token is in every page."""
    session = context.pop("session", None)
    context["csrf"] = session.csrf if isinstance(session, Session) else ""
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status)


def viewer(server: Server) -> Callable[[Request], Session]:
    """A dependency: the logged-in session (pages redirect to the login without one)."""

    def viewing(request: Request) -> Session:
        return require_session(server.sessions, request)

    return viewing


def sender(server: Server) -> Callable[[Request], Coroutine[Any, Any, Session]]:
    """A dependency for forms: the session, with its CSRF token checked."""

    async def sending(request: Request) -> Session:
        return await require_form_session(server.sessions, request)

    return sending


def message(exc: Exception) -> str:
    """What went wrong, in the words the API would answer with."""
    if isinstance(exc, DialerError):
        exc = errors.from_dialer_error(exc)
    if isinstance(exc, ValidationError):
        exc = errors.from_validation(exc.errors())
    if isinstance(exc, HTTPException):
        return wording.for_http(str(exc.detail))
    raise exc


PAGE_ERRORS = (DialerError, ValidationError, HTTPException)
