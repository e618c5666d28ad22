"""The sockets our servers listen on (`dialer simulator`, `webhooks`, `serve`): every accepted
connection sends at once (`TCP_NODELAY`), where it once waited ~40 ms a response for the
client's delayed ACK (issue 22)."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest
import uvicorn

from dialer.simulator.app import create_app
from workers.cli.listening import listen

pytestmark = pytest.mark.timeout(30)


def _nodelay(sock: socket.socket) -> bool:
    return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))


def test_a_connection_accepted_by_listen_has_nodelay() -> None:
    with listen("127.0.0.1", 0) as server, socket.create_connection(server.getsockname()):
        accepted, _ = server.accept()
        with accepted:
            assert _nodelay(accepted)


def test_a_connection_uvicorn_accepts_on_our_socket_has_nodelay() -> None:
    sock = listen("127.0.0.1", 0)
    host, port = sock.getsockname()
    config = uvicorn.Config(create_app(), host=host, port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        with httpx.Client(base_url=f"http://{host}:{port}") as client:
            client.get("/healthz")  # the connection stays open (keep-alive) while we look
            connections = list(server.server_state.connections)
            assert connections
            for protocol in connections:
                accepted = protocol.transport.get_extra_info("socket")
                assert _nodelay(accepted)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
