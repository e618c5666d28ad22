"""How `dialer serve` and `dialer webhooks` hold connections: a slow client cannot starve others.

uvicorn counts every open connection against `limit_concurrency`, including one that has not
finished sending its request's headers, and waits for those headers without end. So a few dozen
connections that trickle their headers in would make every genuine request a 503. Here a
connection that has not sent a whole request head within `HEADER_TIMEOUT_S` is closed, and the
connection cap is set well above the number of requests handled at once (which the apps cap
themselves), so genuine requests still get a slot while slow ones wait to be dropped.
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT_S = 10.0
MAX_CONNECTIONS = 512  # open at once, idle ones included; above it uvicorn answers 503
KEEP_ALIVE_S = 5


class HeaderTimeout(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing a connection whose first request head is late."""

    header_timeout_s = HEADER_TIMEOUT_S

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the connection's clock for its request head."""
        super().connection_made(transport)
        self._head_timer = self.loop.call_later(self.header_timeout_s, self._head_late)

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the clock with the connection."""
        self._head_timer.cancel()
        super().connection_lost(exc)

    def _head_late(self) -> None:
        if self.cycle is None and not self.transport.is_closing():
            self.transport.close()


def with_timeout(seconds: float) -> type[HeaderTimeout]:
    """The protocol class with another head timeout (tests shrink it)."""
    return type("HeaderTimeout", (HeaderTimeout,), {"header_timeout_s": seconds})


def config(app: Any, host: str, port: int, **options: Any) -> uvicorn.Config:
    """A uvicorn config for a server facing clients it does not trust."""
    options.setdefault("http", HeaderTimeout)
    options.setdefault("limit_concurrency", MAX_CONNECTIONS)
    options.setdefault("timeout_keep_alive", KEEP_ALIVE_S)
    return uvicorn.Config(app, host=host, port=port, server_header=False, **options)
