"""Webhook delivery: a background task that posts each call's due events to its `webhook_url`.

Events of one call are delivered in order (a retry of `call.ended` holds back `transcript.final`);
different calls are delivered concurrently. A non-2xx answer or a transport error is retried after
each of `config.webhook_retry_delays`. The `duplicate` and `drop` faults apply per event.

Signing is a simulator convention, not OneInbox's (its scheme is undocumented): when
`config.webhook_secret` is set, `X-OneInbox-Signature: sha256=<hex HMAC-SHA256(secret, body)>`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
from typing import Any

import httpx

from dialer.simulator.calls import CallRecord, events, payload
from dialer.simulator.config import Endpoint, FaultKind
from dialer.simulator.store import SimState

SIGNATURE_HEADER = "X-OneInbox-Signature"


class WebhookSender:
    """Finds due webhook events on every tick and delivers them without blocking requests."""

    def __init__(self, sim: SimState, client: httpx.AsyncClient) -> None:
        self.sim = sim
        self.client = client
        self._busy: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Scan for due events forever (cancel the task to stop)."""
        try:
            while True:
                self.scan()
                await asyncio.sleep(self.sim.config.tick)
        finally:
            for task in list(self._tasks):
                task.cancel()
            for task in list(self._tasks):
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def scan(self) -> None:
        """Start delivering every due, unsent event of every call not already being served."""
        now = self.sim.clock()
        analyzed = self.sim.config.emit_call_analyzed
        with self.sim.lock:
            records = list(self.sim.with_webhooks.values())
        for rec in records:
            if rec.id in self._busy:
                continue
            due = [e for t, e in events(rec, analyzed) if t <= now and e not in rec.sent_events]
            if due:
                rec.sent_events.update(due)
                self._busy.add(rec.id)
                task = asyncio.create_task(self._deliver_all(rec, due))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _deliver_all(self, rec: CallRecord, due: list[str]) -> None:
        try:
            for event in due:
                await self._deliver(rec, event)
        finally:
            self._busy.discard(rec.id)

    async def _deliver(self, rec: CallRecord, event: str) -> None:
        faults = self.sim.faults
        if faults.take(Endpoint.WEBHOOK, [FaultKind.DROP]) is not None:
            self._log(rec, event, 0, None, "dropped by fault")
            return
        copies = 2 if faults.take(Endpoint.WEBHOOK, [FaultKind.DUPLICATE]) else 1
        body = json.dumps(payload(rec, event, self.sim.clock())).encode()
        for _ in range(copies):
            await self._send(rec, event, body)

    def _headers(self, body: bytes) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "User-Agent": "oneinbox-simulator"}
        secret = self.sim.config.webhook_secret
        if secret:
            digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            headers[SIGNATURE_HEADER] = f"sha256={digest}"
        return headers

    async def _send(self, rec: CallRecord, event: str, body: bytes) -> None:
        url = rec.webhook_url or ""
        delays = [0.0, *self.sim.config.webhook_retry_delays]
        for attempt, delay in enumerate(delays, start=1):
            await asyncio.sleep(delay)
            try:
                resp = await self.client.post(
                    url,
                    content=body,
                    headers=self._headers(body),
                    timeout=self.sim.config.webhook_timeout,
                )
            except httpx.HTTPError as exc:
                self._log(rec, event, attempt, None, f"{type(exc).__name__}: {exc}")
                continue
            self._log(rec, event, attempt, resp.status_code, None)
            if resp.is_success:
                return

    def _log(
        self, rec: CallRecord, event: str, attempt: int, status: int | None, error: str | None
    ) -> None:
        entry: dict[str, Any] = {
            "call_id": rec.id,
            "event": event,
            "url": rec.webhook_url,
            "attempt": attempt,
            "response_status": status,
            "error": error,
            "t": self.sim.clock(),
        }
        with self.sim.lock:
            self.sim.deliveries.append(entry)
