"""Binding a server's port before saying where it serves: a busy port is one line, not a banner
followed by a traceback."""

from __future__ import annotations

import socket

from dialer.errors import ConfigError


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on `host:port`, or a `ConfigError` saying why it cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; "
            "is another server using it? Choose another with --port",
            field="port",
        ) from None
