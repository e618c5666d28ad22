"""Simulator webhooks, delivered over real HTTP to a small receiver run by the test."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from dialer.simulator import (
    DEFAULT_AGENT_ID,
    DEFAULT_API_KEY,
    DEFAULT_FROM_NUMBER,
    SimulatorConfig,
    start_in_thread,
)

AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
TO = "+14155550001"


class Receiver:
    """Records every POST; answers with the next scripted status for that event (else 200)."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, Any], dict[str, str], bytes]] = []
        self.fail: dict[str, list[int]] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                event = json.loads(raw)
                receiver.received.append((event, dict(self.headers), raw))
                codes = receiver.fail.get(event["event"], [])
                self.send_response(codes.pop(0) if codes else 200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def events(self, call_id: str | None = None) -> list[str]:
        return [e["event"] for e, _, _ in self.received if call_id in (None, e["call_id"])]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    yield rec
    rec.close()


@pytest.fixture
def sim() -> Iterator[Callable[..., httpx.Client]]:
    clients: list[httpx.Client] = []
    sims: list[Any] = []

    def _start(**fields: Any) -> httpx.Client:
        fields = {"speed": 200.0, "webhook_retry_delays": [0.05, 0.05], **fields}
        sims.append(start_in_thread(SimulatorConfig(**fields)))
        clients.append(httpx.Client(base_url=sims[-1].url, headers=AUTH, timeout=5))
        return clients[-1]

    yield _start
    for client in clients:
        client.close()
    for running in sims:
        running.stop()


def create(client: httpx.Client, url: str, to: str = TO) -> str:
    payload = {
        "agent_id": DEFAULT_AGENT_ID,
        "to_number": to,
        "from_number": DEFAULT_FROM_NUMBER,
        "webhook_url": url,
        "metadata": {"attempt": "a1"},
    }
    call_id: str = client.post("/v1/calls", json=payload).json()["id"]
    return call_id


def wait_until(check: Callable[[], bool], timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_events_arrive_in_order_with_flat_payloads(sim: Any, receiver: Receiver) -> None:
    client = sim(scripted={TO: ["completed"], "+14155550002": ["failed"]})
    ok = create(client, receiver.url)
    failed = create(client, receiver.url, "+14155550002")
    wait_until(lambda: len(receiver.events(ok)) == 3 and len(receiver.events(failed)) == 1)
    assert receiver.events(ok) == ["call.started", "call.ended", "transcript.final"]
    assert receiver.events(failed) == ["call.failed"]
    by_event = {e["event"]: e for e, _, _ in receiver.received if e["call_id"] == ok}
    ended = by_event["call.ended"]
    assert (ended["status"], ended["agent_id"], ended["to_number"]) == (
        "completed",
        DEFAULT_AGENT_ID,
        TO,
    )
    assert ended["metadata"] == {"attempt": "a1"} and ended["duration_seconds"] > 0
    final = by_event["transcript.final"]
    assert final["messages"] and final["outcome"] == "Interested"
    assert client.get(f"/v1/calls/{ok}").json()["outcome"] == "Interested"
    time.sleep(0.1)  # nothing more comes for the failed call
    assert receiver.events(failed) == ["call.failed"]


def test_non_2xx_is_retried_and_holds_back_later_events(sim: Any, receiver: Receiver) -> None:
    receiver.fail["call.ended"] = [500, 503]
    client = sim(scripted={TO: ["voicemail"]})
    call_id = create(client, receiver.url)
    wait_until(lambda: "transcript.final" in receiver.events(call_id))
    assert receiver.events(call_id) == [
        "call.started",
        "call.ended",
        "call.ended",
        "call.ended",
        "transcript.final",
    ]
    log = [d for d in client.get("/_sim/deliveries").json() if d["event"] == "call.ended"]
    assert [(d["attempt"], d["response_status"]) for d in log] == [(1, 500), (2, 503), (3, 200)]


def test_unreachable_receiver_is_retried_then_given_up(sim: Any) -> None:
    client = sim(scripted={TO: ["failed"]})
    create(client, "http://127.0.0.1:9/hook")
    wait_until(lambda: len(client.get("/_sim/deliveries").json()) == 3)
    log = client.get("/_sim/deliveries").json()
    assert all(d["error"] and d["response_status"] is None for d in log)


def test_duplicate_and_drop_faults(sim: Any, receiver: Receiver) -> None:
    client = sim(scripted={TO: ["completed"]})
    client.post("/_sim/faults", json={"kind": "duplicate", "endpoint": "webhook", "count": 1})
    client.post("/_sim/faults", json={"kind": "drop", "endpoint": "webhook", "count": 1})
    call_id = create(client, receiver.url)
    wait_until(lambda: "transcript.final" in receiver.events(call_id))
    # call.started was dropped (drop is checked first); call.ended is the first duplicated.
    assert receiver.events(call_id) == ["call.ended", "call.ended", "transcript.final"]
    log = client.get("/_sim/deliveries").json()
    assert log[0]["event"] == "call.started" and log[0]["error"] == "dropped by fault"


def test_signature_when_a_secret_is_configured(sim: Any, receiver: Receiver) -> None:
    client = sim(scripted={TO: ["failed"]}, webhook_secret="whsec_test")
    create(client, receiver.url)
    wait_until(lambda: bool(receiver.received))
    _, headers, raw = receiver.received[0]
    expected = hmac.new(b"whsec_test", raw, hashlib.sha256).hexdigest()
    assert headers["X-OneInbox-Signature"] == f"sha256={expected}"


def test_a_slow_receiver_does_not_block_the_api(sim: Any) -> None:
    gate = threading.Event()

    class Slow(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            gate.wait(2)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        client = sim(scripted={TO: ["failed"]})
        create(client, f"http://127.0.0.1:{server.server_address[1]}/")
        time.sleep(0.1)  # the failure event is now being delivered, and stuck
        began = time.monotonic()
        assert client.get("/v1/usage").status_code == 200
        assert time.monotonic() - began < 0.5
    finally:
        gate.set()
        server.shutdown()
        server.server_close()
