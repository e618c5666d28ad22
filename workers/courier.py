"""The courier: a thread of every worker that derives events and posts them, signed.

Each worker runs one, beside the tick and away from the dial path: a slow or absent receiver
holds up only the courier. Every `every_s` the courier holding the sweep lease records new
events (`campaigns.events.sweep`); then any courier takes due events one at a time, each under a
lease, and posts it with the Standard Webhooks headers (`webhook-id`, `webhook-timestamp`,
`webhook-signature`). A 2xx is delivery; anything else is tried again after a backoff that
doubles up to `retry_max_s`, and given up after `give_up` attempts (0: never).
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

import httpx
from celery import bootsteps
from standardwebhooks.webhooks import Webhook

from campaigns.events import sweep
from dialer.endpoint import check_callback_url
from dialer.errors import ConfigError, DialerError
from dialer.settings import Settings, load_settings
from dialer.store import Store
from dialer.store.outbox import Event, Outbox
from workers import stack

log = logging.getLogger("dialer.events")


@dataclass(frozen=True)
class EventTiming:
    """Event delivery's time limits, in seconds (DIALER_EVENTS_TIMING). Tests shrink them."""

    every_s: float = 0.5  # between two passes of the courier
    timeout_s: float = 10.0  # one POST, connecting included
    retry_s: float = 2.0  # the first retry's delay; each next one doubles it
    retry_max_s: float = 600.0  # the longest delay between two attempts
    give_up: float = 0.0  # attempts after which an event is no longer tried (0: never)

    @classmethod
    def parse(cls, text: str) -> EventTiming:
        """Defaults, with the overrides of 'name=seconds,...'; a ConfigError naming a bad one."""
        names = {f.name for f in fields(cls)}
        values: dict[str, float] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            name, _, number = (p.strip() for p in item.partition("="))
            if name not in names:
                raise ConfigError(f"DIALER_EVENTS_TIMING: unknown setting {name!r}")
            try:
                values[name] = float(number)
            except ValueError as exc:
                raise ConfigError(f"DIALER_EVENTS_TIMING: {item!r} needs a number") from exc
        return cls(**values)

    @property
    def lease_ms(self) -> int:
        """How long an event being posted is held from other couriers."""
        return round((self.timeout_s * 2 + 5) * 1000)


def backoff_ms(attempts: int, timing: EventTiming) -> int | None:
    """The delay before attempt `attempts + 1`, after `attempts` failed; None: give up."""
    if timing.give_up and attempts >= timing.give_up:
        return None
    delay = timing.retry_s * 2.0 ** min(attempts - 1, 30)
    return round(min(delay, timing.retry_max_s) * 1000)


def signed_headers(signer: Webhook, event: Event, now: datetime) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt to deliver `event`."""
    return {
        "content-type": "application/json",
        "webhook-id": event.id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signer.sign(event.id, now, event.body),
    }


def deliver(outbox: Outbox, http: httpx.Client, signer: Webhook, timing: EventTiming) -> int:
    """Post due events until none is due (at most 100 this pass); returns how many arrived."""
    arrived = 0
    for _ in range(100):
        taken = outbox.take(timing.lease_ms, 1)
        if not taken:
            break
        arrived += deliver_one(outbox, http, signer, taken[0], timing)
    return arrived


def deliver_one(
    outbox: Outbox, http: httpx.Client, signer: Webhook, event: Event, timing: EventTiming
) -> bool:
    """One attempt to post `event`; True when the receiver took it (a 2xx)."""
    error = ""
    try:
        url = check_callback_url(event.url)
        headers = signed_headers(signer, event, datetime.now(UTC))
        response = http.post(url, content=event.body.encode(), headers=headers)
        if not response.is_success:
            error = f"HTTP {response.status_code} from {url}"
    except (httpx.HTTPError, DialerError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    if not error:
        outbox.delivered(event.id)
        return True
    outbox.retry_later(event.id, error, backoff_ms(event.attempts + 1, timing))
    log.info("event not delivered", extra={"event": event.id, "error": error})
    return False


class Courier:
    """The loop: sweep (while holding the lease), deliver, wait; until stopped."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.outbox = Outbox(store.redis)
        self.default_url = settings.events_url
        self.only = settings.serve_only
        self.timing = EventTiming.parse(settings.events_timing)
        self.http = httpx.Client(timeout=self.timing.timeout_s, follow_redirects=False)
        self.owner = uuid.uuid4().hex
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, name="dialer-events", daemon=True)

    def once(self) -> None:
        """One pass: record new events (one process at a time), then post the due ones."""
        lease_ms = round(max(self.timing.every_s * 4, 5.0) * 1000)
        if self.outbox.try_sweep_lease(self.owner, lease_ms):
            sweep(self.store, self.outbox, self.default_url, self.only)
        if self.outbox.due_count():
            deliver(self.outbox, self.http, Webhook(self.outbox.secret()), self.timing)

    def run(self) -> None:
        """Pass every `every_s` until stopped; a failure (Redis restarting) is logged."""
        while not self.stopped.wait(self.timing.every_s):
            try:
                self.once()
            except Exception:  # the courier must outlive a Redis restart or a bad event
                log.exception("events pass failed; trying again")


class CourierStep(bootsteps.StartStopStep):  # type: ignore[misc]
    """Starts the courier with the worker and stops it on shutdown."""

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.courier: Courier | None = None

    def start(self, parent: Any) -> None:
        settings = load_settings()
        if not settings.redis_url:
            return
        self.courier = Courier(stack.connect(settings.redis_url, ping=False), settings)
        self.courier.thread.start()

    def stop(self, parent: Any) -> None:
        if self.courier is not None:
            self.courier.stopped.set()
