"""The server's one access token: `Authorization: Bearer <token>` on every /api route."""

# Annotations stay evaluated (no __future__ import): FastAPI reads them, and they name
# dependencies local to the router functions.

import secrets
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from workers.server.errors import ApiError

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def new_token() -> str:
    """A token for a server started without DIALER_WEB_TOKEN."""
    return secrets.token_urlsafe(32)


def is_loopback(host: str) -> bool:
    """True when `host` is reachable from this machine only."""
    return host in LOOPBACK or host.startswith("127.")


def require_token(token: str) -> Callable[..., None]:
    """A dependency refusing (401) any request without the right bearer token."""
    scheme = HTTPBearer(
        auto_error=False,
        description="The token `dialer serve` printed at start, or DIALER_WEB_TOKEN.",
    )
    expected = token.encode()

    def check(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(scheme)],
    ) -> None:
        given = credentials.credentials.encode() if credentials else b""
        if not secrets.compare_digest(given, expected):
            raise ApiError(
                401,
                "missing or wrong token: send `Authorization: Bearer <token>` with the token "
                "`dialer serve` printed at start (or DIALER_WEB_TOKEN)",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return check
