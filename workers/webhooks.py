"""The webhook receiver: OneInbox's events make the dialer look sooner, never decide anything.

Webhooks are unsigned (the API documents no signature), so an event is only a hint: it brings
the call's next poll forward, and the poll, with our API key, reads the truth. Duplicates,
reordering and forgeries therefore cost at most one extra read.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request, Response

from dialer.store import Store

log = logging.getLogger("dialer.webhooks")
MAX_BODY_BYTES = 1 << 20


def create_app(store: Store) -> FastAPI:
    """The receiver, answering 204 at once to every well-formed event."""
    app = FastAPI(title="dialer webhook receiver", docs_url=None, redoc_url=None)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        store.ping()
        return {"status": "ok"}

    @app.post("/webhooks/oneinbox", status_code=204)
    async def receive(request: Request) -> Response:
        body = await request.body()
        event = _parse(body)
        if event is None:
            return Response(status_code=400)
        call_id, kind = str(event.get("call_id", "")), str(event.get("event", ""))
        if call_id:
            nudged = store.nudge(call_id)
            log.info("webhook", extra={"event": kind, "call_id": call_id, "nudged": nudged})
        return Response(status_code=204)

    return app


def _parse(body: bytes) -> dict[str, Any] | None:
    if len(body) > MAX_BODY_BYTES:
        return None
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return event if isinstance(event, dict) else None
