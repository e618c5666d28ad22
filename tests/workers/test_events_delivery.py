"""Acceptance: every event of a campaign reaches a receiver that verifies each signature, though
the receiver is down while the campaign runs, Redis restarts, and the worker delivering is
SIGKILLed mid-request. Real worker processes, redis-server, simulator and HTTP."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from campaigns import lifecycle
from campaigns.model import Contact
from dialer.campaign import CampaignConfig, CampaignState
from dialer.simulator.config import DEFAULT_AGENT_ID, DEFAULT_FROM_NUMBER
from dialer.store.outbox import Outbox
from tests.events_receiver import Received, receiving
from tests.support import RedisServer, Stack, wait_until
from workers.processes import free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

EVENTS_TIMING = "every_s=0.1,timeout_s=1,retry_s=0.2,retry_max_s=0.5"


def _submit(stack: Stack, url: str, n: int) -> None:
    config = CampaignConfig(
        campaign_id="ev",
        agent_id=DEFAULT_AGENT_ID,
        from_number=DEFAULT_FROM_NUMBER,
        rate_per_s=50,
        max_concurrent=20,
        columns=("phone", "name"),
        window="always",
        events_url=url,
    )
    rows = [
        Contact(r, f"+1415555{r + 2000:04d}", {"phone": "x", "name": f"N{r}"})
        for r in range(1, n + 1)
    ]
    lifecycle.submit(stack.store, config, [rows])
    lifecycle.start(stack.store, "ev")


def test_every_event_arrives_through_a_receiver_outage_a_redis_restart_and_a_kill(
    stack: Stack, redis_srv: RedisServer
) -> None:
    stack.env["DIALER_EVENTS_TIMING"] = EVENTS_TIMING
    port, n = free_port(), 8
    url = f"http://127.0.0.1:{port}/events"
    outbox = Outbox(stack.store.redis)
    received = Received(secret=outbox.secret())
    first = stack.worker()
    _submit(stack, url, n)

    # The receiver is down: dialling goes on, and the events wait in the outbox.
    wait_until(
        lambda: stack.store.campaign_state("ev") is CampaignState.DONE,
        60,
        "the campaign to finish while its receiver is down",
        every=0.2,
    )
    wait_until(lambda: outbox.due_count() == n + 2, 20, "every event recorded", every=0.1)
    assert any(e.attempts for e in outbox.recent(100)), "deliveries were tried and failed"

    redis_srv.stop()
    redis_srv.start()
    assert outbox.due_count() == n + 2, "the outbox survives a Redis restart"

    # The receiver comes back and holds the first request: the worker posting it is killed.
    received.hold = threading.Event()
    with receiving(received, port):
        wait_until(received.held.is_set, 30, "a delivery in progress", every=0.02)
        first.kill()
        held_id = received.ids()[0]
        received.hold.set()
        received.hold = None
        stack.worker()
        wait_until(lambda: outbox.due_count() == 0, 60, "every event delivered", every=0.2)

    assert received.forged == 0, "every signature verifies"
    ids = received.ids()
    assert len(set(ids)) == n + 2
    assert Counter(ids)[held_id] >= 2, "the event cut short is sent again under its own id"
    bodies: dict[str, object] = {}
    for event_id, body in received.events:
        assert bodies.setdefault(event_id, body) == body, "a duplicate is the same event"
    kinds = Counter(str(b["type"]) for b in bodies.values())  # type: ignore[index]
    assert kinds == {"contact.finished": n, "campaign.started": 1, "campaign.finished": 1}
    by_row = {
        b["data"]["contact"]: b["data"]["status"]  # type: ignore[index]
        for b in bodies.values()
        if b["type"] == "contact.finished"  # type: ignore[index]
    }
    assert by_row == {c.member: c.state.value for c in stack.store.iter_contacts("ev")}
