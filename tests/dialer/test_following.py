"""Reconciling an uncertain create (dialer.following) with the default limits and an injected
clock: the simulator over real HTTP, a real Redis, no Celery. A provider may make a call up to
2 minutes after it was sent; until then the contact is not dialled again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from campaigns.model import Contact
from dialer.calls import Dispatcher, place
from dialer.campaign import CampaignConfig, CampaignState
from dialer.client import OneInboxClient
from dialer.following import follow_up, search_from
from dialer.http import make_http_client
from dialer.policy import Timing
from dialer.simulator.config import DEFAULT_AGENT_ID, DEFAULT_API_KEY, DEFAULT_FROM_NUMBER
from dialer.simulator.server import RunningSimulator
from dialer.store import ContactRecord, ContactState, Store
from dialer.store.contact import LIVE_STATES
from tests.support import sim_get, wait_until

PHONE = "+14155550777"


class Clock:
    """The dispatcher's `now`, moved by the test."""

    def __init__(self) -> None:
        self.at = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def dispatcher(redis_url: str, simulator: RunningSimulator, clock: Clock) -> Iterator[Dispatcher]:
    http = make_http_client(simulator.url, DEFAULT_API_KEY, connect_timeout=2, read_timeout=1)
    d = Dispatcher(Store.from_url(redis_url), OneInboxClient(http), Timing(), now=clock)
    yield d
    http.close()
    d.store.redis.close()


def _uncertain_create(d: Dispatcher, sim: RunningSimulator) -> str:
    """Start a one-contact campaign whose create is answered 502 with nothing made."""
    config = CampaignConfig(
        campaign_id="f",
        agent_id=DEFAULT_AGENT_ID,
        from_number=DEFAULT_FROM_NUMBER,
        columns=("phone",),
        rate_per_s=100,
    )
    d.store.create_campaign(config)
    d.store.add_contacts("f", [Contact(1, PHONE, {"phone": PHONE})], ("phone",))
    d.store.set_campaign_state("f", CampaignState.RUNNING)
    fault = {"kind": "error", "count": 1, "status": 502}
    httpx.post(f"{sim.url}/_sim/faults", json=fault, timeout=5).raise_for_status()
    place(d, "f", 1)
    assert d.store.contact("f", 1).state is ContactState.RECONCILING
    return "f"


def _made_late(sim: RunningSimulator, attempt: str) -> str:
    """The provider makes the create it was sent, late (the metadata as sent)."""
    body = {
        "agent_id": DEFAULT_AGENT_ID,
        "to_number": PHONE,
        "from_number": DEFAULT_FROM_NUMBER,
        "metadata": {"dialer_attempt_id": attempt},
    }
    headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
    answer = httpx.post(f"{sim.url}/v1/calls", json=body, headers=headers, timeout=5)
    answer.raise_for_status()
    call_id: str = answer.json()["id"]
    return call_id


def _creates(sim: RunningSimulator) -> list[dict[str, Any]]:
    return [c for c in sim_get(sim.url, "creates") if c["call_id"]]  # type: ignore[union-attr]


def test_a_call_made_two_minutes_after_its_create_is_found_and_followed(
    dispatcher: Dispatcher, simulator: RunningSimulator, clock: Clock
) -> None:
    cid = _uncertain_create(dispatcher, simulator)
    clock.advance(119)
    follow_up(dispatcher, cid, 1)
    assert dispatcher.store.contact(cid, 1).state is ContactState.RECONCILING
    call_id = _made_late(simulator, "f:1:1")
    clock.advance(6)
    follow_up(dispatcher, cid, 1)
    contact = dispatcher.store.contact(cid, 1)
    assert (contact.state, contact.call_id) == (ContactState.PLACED, call_id)
    assert len(_creates(simulator)) == 1


def test_a_create_not_listed_after_the_grace_is_dialled_again(
    dispatcher: Dispatcher, simulator: RunningSimulator, clock: Clock
) -> None:
    cid = _uncertain_create(dispatcher, simulator)
    clock.advance(149)
    follow_up(dispatcher, cid, 1)
    assert dispatcher.store.contact(cid, 1).state is ContactState.RECONCILING
    clock.advance(2)
    follow_up(dispatcher, cid, 1)
    assert dispatcher.store.contact(cid, 1).state is ContactState.PENDING


def test_a_call_made_after_the_contact_was_dialled_again_is_named_in_its_results(
    dispatcher: Dispatcher, simulator: RunningSimulator, clock: Clock
) -> None:
    cid = _uncertain_create(dispatcher, simulator)
    clock.advance(151)
    follow_up(dispatcher, cid, 1)  # not listed after the grace: dialled again
    place(dispatcher, cid, 1)
    second = dispatcher.store.contact(cid, 1).call_id
    first = _made_late(simulator, "f:1:1")  # ...and the provider makes the first one after all

    def ended() -> bool:
        follow_up(dispatcher, cid, 1)
        return dispatcher.store.contact(cid, 1).state not in LIVE_STATES

    wait_until(ended, 20, "the second call to end")
    contact = dispatcher.store.contact(cid, 1)
    assert contact.call_id == second
    assert first in contact.error and "dialled twice" in contact.error


def test_the_search_goes_back_to_the_claim_not_to_when_the_create_was_found_stuck() -> None:
    timing = Timing(reconcile_margin_s=5)
    claimed = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    found_stuck = claimed + timedelta(minutes=30)  # after a long outage
    contact = ContactRecord(
        member=1,
        state=ContactState.RECONCILING,
        phone=PHONE,
        claimed_at_ms=round(claimed.timestamp() * 1000),
    )
    assert search_from(contact, found_stuck, timing) == claimed - timedelta(seconds=5)
