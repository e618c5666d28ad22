"""Every error as JSON a person can act on: `{"error": message, "field": name or null}`.

Bad input (an option value, a file that is not a contact list) is a 422 naming the field; a
campaign that does not exist is a 404; a request that does not fit the campaign's state (delete
a running one) is a 409; OneInbox failing is a 502. Nothing a user sends becomes a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from dialer.errors import DialerError, ProviderError
from workers.server.wording import for_http

log = logging.getLogger("dialer.serve")


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
    """The JSON of every error answer (its message worded for HTTP)."""
    return {"error": for_http(message), "field": field}


def from_dialer_error(exc: DialerError) -> ApiError:
    """The API's answer to one of the dialer's own errors: the status and field it carries."""
    message = f"OneInbox: {exc}" if isinstance(exc, ProviderError) else str(exc)
    return ApiError(exc.http_status, message, field=exc.field)


def from_validation(errors: Iterable[Any]) -> ApiError:
    """The first of pydantic's or FastAPI's validation errors, as one message naming its field."""
    first: Mapping[str, Any] = next(iter(errors), {})
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    field = loc[-1] if loc else None
    text = str(first.get("msg", "invalid value"))
    if first.get("type") == "missing":
        text = "is required"
    return ApiError(422, f"{field}: {text}" if field else text, field=field)


def install(app: FastAPI) -> None:
    """Answer every error as JSON."""

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
        return await http_error(request, from_dialer_error(exc))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(body("internal error; the server log has the details"), 500)
