"""A CRM's receiver for the tests: verifies every event's signature with `standardwebhooks`,
keeps what arrived, and can be told to answer with an error or to hold a request."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import uvicorn
from fastapi import FastAPI, Request, Response
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.support import wait_until


@dataclass
class Received:
    """What the receiver saw. `events` are the verified ones: (webhook-id, parsed body)."""

    secret: str
    events: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    forged: int = 0  # requests whose signature did not verify
    status: int = 200  # what to answer
    hold: threading.Event | None = None  # when set: each request waits for it first
    held: threading.Event = field(default_factory=threading.Event)

    def ids(self) -> list[str]:
        """The webhook-id of each verified request, in arrival order."""
        return [event_id for event_id, _ in self.events]


def receiver_app(received: Received) -> FastAPI:
    """The receiver: POST /events."""
    app = FastAPI()

    @app.post("/events")
    async def receive(request: Request) -> Response:
        body = await request.body()
        try:
            Webhook(received.secret).verify(body, dict(request.headers))
        except WebhookVerificationError:
            received.forged += 1
            return Response(status_code=400)
        received.events.append((request.headers["webhook-id"], json.loads(body)))
        if received.hold is not None:
            received.held.set()
            await _wait(received.hold)
        return Response(status_code=received.status)

    return app


async def _wait(event: threading.Event) -> None:
    import anyio.to_thread

    await anyio.to_thread.run_sync(event.wait, 30)


@contextlib.contextmanager
def receiving(received: Received, port: int) -> Iterator[str]:
    """The receiver on 127.0.0.1:`port` for the duration; yields its events URL."""
    config = uvicorn.Config(receiver_app(received), host="127.0.0.1", port=port, log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 10, "the events receiver to start", every=0.01)
    try:
        yield f"http://127.0.0.1:{port}/events"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
