"""Every error as JSON a person can act on: `{"error": message, "field": name or null}`.

Bad input (an option value, a file that is not a contact list) is a 422 naming the field; a
campaign that does not exist is a 404; a request that does not fit the campaign's state (delete
a running one) is a 409; OneInbox failing is a 502. Nothing a user sends becomes a 500.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from dialer.errors import ConfigError, DialerError, InputError, ProviderError, StateError

log = logging.getLogger("dialer.serve")
_OPTION = re.compile(r"--([a-z][a-z-]*)")


class ApiError(HTTPException):
    """An error answered as it is, naming the field it is about when there is one."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status, message, headers=dict(headers) if headers else None)
        self.field = field


def body(message: str, field: str | None = None) -> dict[str, Any]:
    """The JSON of every error answer."""
    return {"error": message, "field": field}


def field_of(message: str, known: Iterable[str]) -> str | None:
    """The form field an error message is about: its `--option`, or a field named first."""
    found = _OPTION.search(message)
    if found:
        return found.group(1).replace("-", "_")
    first = message.split(" ", 1)[0].strip(":'\"").replace("-", "_")
    return first if first in set(known) else None


def from_dialer_error(exc: DialerError, known: Iterable[str] = ()) -> ApiError:
    """The API's answer to one of the dialer's own errors."""
    message = str(exc)
    if isinstance(exc, StateError):
        return ApiError(404 if message.startswith("no campaign") else 409, message)
    if isinstance(exc, ProviderError):
        return ApiError(502, f"OneInbox: {message}")
    if isinstance(exc, InputError) and exc.where:
        return ApiError(422, message, field=field_of(message, known) or "file")
    if isinstance(exc, InputError | ConfigError):
        return ApiError(422, message, field=field_of(message, known))
    return ApiError(400, message)


def from_validation(errors: Iterable[Any]) -> ApiError:
    """The first of pydantic's or FastAPI's validation errors, as one message naming its field."""
    first: Mapping[str, Any] = next(iter(errors), {})
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    field = loc[-1] if loc else None
    text = str(first.get("msg", "invalid value"))
    if first.get("type") == "missing":
        text = "is required"
    return ApiError(422, f"{field}: {text}" if field else text, field=field)


def install(app: FastAPI, known: Iterable[str]) -> None:
    """Answer every error as JSON; `known` are the form fields an error may name."""
    names = frozenset(known)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        field = exc.field if isinstance(exc, ApiError) else None
        return JSONResponse(body(str(exc.detail), field), exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return await http_error(request, from_validation(exc.errors()))

    @app.exception_handler(ValidationError)
    async def invalid_model(request: Request, exc: ValidationError) -> JSONResponse:
        return await http_error(request, from_validation(exc.errors()))

    @app.exception_handler(DialerError)
    async def dialer_error(request: Request, exc: DialerError) -> JSONResponse:
        return await http_error(request, from_dialer_error(exc, names))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(body("internal error; the server log has the details"), 500)
