"""HTTP/1.1 for the httpx client over the standard library's `http.client`: the same requests,
answers and errors as `httpx.HTTPTransport(retries=0)`, at a third of its cost.

A worker sends two requests a contact (the create and a poll); httpcore's connection pool (a
lock scanned by every thread, a readability check, an event machine per request) cost about
650 us of CPU per request here, `http.client` about 250 us. Everything above the transport (the
httpx `Client`: base URL, headers, timeouts, the error tree in `dialer.http`) is unchanged.

Errors are httpx's, raised as httpcore's would be, because `dialer.http` decides from them
whether a POST may have reached OneInbox:
- `ConnectError`, `ConnectTimeout`, `PoolTimeout` (never raised here): nothing was sent;
- `WriteError`, `WriteTimeout`, `ReadError`, `ReadTimeout`, `RemoteProtocolError`: the request
  may have been (partly) sent, so a POST is ambiguous.

A connection is kept for reuse after a complete answer that does not close it, for at most
`KEEPALIVE_S` (under uvicorn's and most servers' 5 s idle timeout), and is dropped instead of
reused when the server has closed it (its socket reads as ready) — as httpcore does. Proxies:
like `httpx.Client` given a transport, none (the client never took them from the environment).
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

KEEPALIVE_S = 4.0  # an idle connection is closed after this, before the server's 5 s
MAX_IDLE = 64  # idle connections kept per origin (the worker's threads, and more)

_Origin = tuple[str, str, int]


class StdlibTransport(httpx.BaseTransport):
    """A pool of keep-alive `http.client` connections per origin, safe across threads."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self._ssl = ssl_context
        self._idle: dict[_Origin, list[tuple[float, http.client.HTTPConnection]]] = {}
        self._lock = threading.Lock()
        self._closed = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"Request URL has an unsupported protocol '{url}'")
        origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        conn = self._take(origin)
        if conn is None:
            conn = self._connect(request, origin, timeouts.get("connect"))
        try:
            status, headers, body, reason, keep = _exchange(conn, request, timeouts)
        except BaseException:
            conn.close()
            raise
        if keep:
            self._give_back(origin, conn)
        else:
            conn.close()
        return httpx.Response(
            status,
            headers=headers,
            content=body,
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason},
        )

    def _connect(
        self, request: httpx.Request, origin: _Origin, timeout: float | None
    ) -> http.client.HTTPConnection:
        scheme, host, port = origin
        conn: http.client.HTTPConnection
        if scheme == "https":
            context = self._ssl or httpx.create_ssl_context()
            conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
        else:
            conn = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            conn.connect()
        except TimeoutError as exc:
            conn.close()
            raise httpx.ConnectTimeout(str(exc) or "timed out", request=request) from exc
        except (OSError, ssl.SSLError) as exc:
            conn.close()
            raise httpx.ConnectError(str(exc), request=request) from exc
        assert conn.sock is not None
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def _take(self, origin: _Origin) -> http.client.HTTPConnection | None:
        """An idle connection the server has not closed, or None."""
        now = time.monotonic()
        while True:
            with self._lock:
                idle = self._idle.get(origin)
                if not idle:
                    return None
                since, conn = idle.pop()
            if now - since < KEEPALIVE_S and not _closed_by_peer(conn):
                return conn
            conn.close()

    def _give_back(self, origin: _Origin, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if self._closed or len(idle) >= MAX_IDLE:
                conn.close()
            else:
                idle.append((time.monotonic(), conn))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for _, conn in conns:
                conn.close()


def _closed_by_peer(conn: http.client.HTTPConnection) -> bool:
    """Whether an idle connection's socket reads as ready: the server closed it (or sent what
    no request asked for); either way it must not carry a request."""
    sock = conn.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _exchange(
    conn: http.client.HTTPConnection, request: httpx.Request, timeouts: dict[str, float | None]
) -> tuple[int, list[tuple[bytes, bytes]], bytes, bytes, bool]:
    """Send the request and read the whole answer: status, raw headers, body, reason phrase,
    keep-alive."""
    body = request.read()
    target = request.url.raw_path.decode("ascii")
    with _mapped(request, httpx.WriteTimeout, httpx.WriteError):
        _settimeout(conn, timeouts.get("write"))
        conn.putrequest(request.method, target, skip_host=True, skip_accept_encoding=True)
        for name, value in request.headers.raw:
            conn.putheader(name, value)
        conn.endheaders(body or None)
    with _mapped(request, httpx.ReadTimeout, httpx.ReadError):
        _settimeout(conn, timeouts.get("read"))
        response = conn.getresponse()
        content = response.read()
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.getheaders()]
    reason = response.reason.encode("latin-1", "replace")
    return response.status, headers, content, reason, not response.will_close


def _settimeout(conn: http.client.HTTPConnection, timeout: float | None) -> None:
    if conn.sock is not None:
        conn.sock.settimeout(timeout)


@contextmanager
def _mapped(
    request: httpx.Request, timeout: type[httpx.TransportError], error: type[httpx.TransportError]
) -> Iterator[None]:
    """The standard library's failures as the httpx errors httpcore raises for them."""
    try:
        yield
    except TimeoutError as exc:
        raise timeout(str(exc) or "timed out", request=request) from exc
    except (http.client.RemoteDisconnected, http.client.BadStatusLine) as exc:
        raise httpx.RemoteProtocolError(str(exc) or type(exc).__name__, request=request) from exc
    except (http.client.HTTPException, OSError) as exc:
        raise error(str(exc) or type(exc).__name__, request=request) from exc
