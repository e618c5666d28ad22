"""Binding a server's port before saying where it serves: a busy port is one line, not a banner
followed by a traceback.

Every connection such a socket accepts has `TCP_NODELAY`. asyncio sets it on accepted sockets
only when their protocol number says TCP, and `socket.create_server` leaves it 0: without the
option set here, a response written in two pieces waited for the client's delayed ACK (about
40 ms a request). Linux hands the listening socket's option down to every accepted one.
"""

from __future__ import annotations

import socket

from dialer.errors import ConfigError


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on `host:port` whose connections send at once (`TCP_NODELAY`), or a
    `ConfigError` saying why it cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host, port), family=family)
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; "
            "is another server using it? Choose another with --port",
            field="port",
        ) from None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock
