"""The default transport over real sockets: answers as sent, connections kept and dropped as
they should be, and every failure in the class that tells a POST's fate (sent or maybe sent)."""

from __future__ import annotations

import gzip
import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest

from dialer.client import OneInboxClient
from dialer.errors import Ambiguous, Retryable
from dialer.http import make_http_client
from dialer.models import CallRequest
from dialer.transport import StdlibTransport

KEY = "oi_sk_transport_test"
CALL = {"id": "call_1", "status": "queued", "agent_id": "agt_1", "to_number": "+14155550100"}
Handler = Callable[[socket.socket, int], None]  # one accepted connection, its index


class Server:
    """A loopback TCP server running `handler` for each connection, counting what it saw."""

    def __init__(self, handler: Handler) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.handler = handler
        self.connections = 0
        self.requests: list[bytes] = []
        self.clients: list[httpx.Client] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(
                target=self.handler, args=(conn, self.connections), daemon=True
            ).start()

    def close(self) -> None:
        for http in self.clients:
            http.close()
        self.sock.close()


@contextmanager
def serving(handler: Handler) -> Iterator[Server]:
    server = Server(handler)
    try:
        yield server
    finally:
        server.close()


def read_request(conn: socket.socket, server: Server) -> bytes | None:
    """One whole request (head and Content-Length body), or None when the client closed."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        body += conn.recv(65536)
    server.requests.append(head + b"\r\n\r\n" + body)
    return body


def reply(status: int, body: bytes, *, close: bool = False, extra: str = "") -> bytes:
    connection = "close" if close else "keep-alive"
    return (
        f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
        f"\r\nConnection: {connection}\r\n{extra}\r\n"
    ).encode() + body


def client(server: Server, *, read_timeout: float = 2.0) -> OneInboxClient:
    http = make_http_client(
        f"http://127.0.0.1:{server.port}", KEY, connect_timeout=1.0, read_timeout=read_timeout
    )
    server.clients.append(http)
    return OneInboxClient(http)


def create(c: OneInboxClient) -> object:
    return c.create_call(
        CallRequest(agent_id="agt_1", to_number="+14155550100", from_number="+14155550199")
    )


def test_answers_arrive_whole_and_one_connection_carries_many_requests() -> None:
    def handler(conn: socket.socket, _: int) -> None:
        with conn:
            while (body := read_request(conn, server)) is not None:
                sent = json.loads(body) if body else {}
                answer = {**CALL, "to_number": sent.get("to_number", CALL["to_number"])}
                conn.sendall(reply(201, json.dumps(answer).encode()))

    with serving(handler) as server:
        c = client(server)
        calls = [create(c) for _ in range(5)]
        assert [call.id for call in calls] == ["call_1"] * 5
        assert server.connections == 1
        head = server.requests[0].split(b"\r\n\r\n")[0].lower()
        assert f"authorization: bearer {KEY}".lower().encode() in head
        assert b"user-agent: dialer/" in head
        assert json.loads(server.requests[0].split(b"\r\n\r\n", 1)[1])["to_number"] == (
            "+14155550100"
        )


def test_a_compressed_answer_is_decoded() -> None:
    def handler(conn: socket.socket, _: int) -> None:
        with conn:
            read_request(conn, server)
            body = gzip.compress(json.dumps(CALL).encode())
            conn.sendall(reply(200, body, extra="Content-Encoding: gzip\r\n"))

    with serving(handler) as server:
        assert client(server).get_call("call_1").id == "call_1"


def test_a_connection_the_server_closed_while_idle_is_not_reused() -> None:
    """The server closes after each answer without saying so: the next create goes on a new
    connection and succeeds (reusing the dead one would make it ambiguous)."""

    def handler(conn: socket.socket, _: int) -> None:
        with conn:
            read_request(conn, server)
            conn.sendall(reply(201, json.dumps(CALL).encode()))
            conn.shutdown(socket.SHUT_RDWR)

    with serving(handler) as server:
        c = client(server)
        create(c)
        threading.Event().wait(0.1)  # the close reaches the client
        create(c)
        assert server.connections == 2
        assert len(server.requests) == 2


def test_nothing_listening_means_not_sent() -> None:
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    http = make_http_client(f"http://127.0.0.1:{port}", KEY, connect_timeout=1, read_timeout=1)
    with http, pytest.raises(Retryable, match="was not sent"):
        create(OneInboxClient(http))


def test_a_connection_dropped_after_the_request_is_ambiguous_and_not_sent_again() -> None:
    def handler(conn: socket.socket, _: int) -> None:
        with conn:
            read_request(conn, server)

    with serving(handler) as server:
        with pytest.raises(Ambiguous, match="may have been processed"):
            create(client(server))
        assert len(server.requests) == 1  # sent once: no retry
        with pytest.raises(Retryable):  # a GET may be sent again: retryable, not ambiguous
            client(server).get_call("call_1")


def test_no_answer_in_time_is_ambiguous() -> None:
    done = threading.Event()

    def handler(conn: socket.socket, _: int) -> None:
        with conn:
            read_request(conn, server)
            done.wait(5)

    with serving(handler) as server:
        try:
            with pytest.raises(Ambiguous):
                create(client(server, read_timeout=0.3))
        finally:
            done.set()


def test_a_garbled_answer_is_ambiguous() -> None:
    def handler(conn: socket.socket, _: int) -> None:
        with conn:
            read_request(conn, server)
            conn.sendall(b"NOT HTTP AT ALL\r\n\r\n")

    with serving(handler) as server, pytest.raises(Ambiguous):
        create(client(server))


def test_the_transport_raises_httpx_errors_as_httpcore_does() -> None:
    """Below the client: the same exception classes `dialer.http` sorts."""
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    transport = StdlibTransport()
    request = httpx.Request("GET", f"http://127.0.0.1:{port}/v1/usage")
    with pytest.raises(httpx.ConnectError):
        transport.handle_request(request)
    with pytest.raises(httpx.UnsupportedProtocol):
        transport.handle_request(httpx.Request("GET", "ftp://127.0.0.1/x"))
    transport.close()
