"""Test calls pass the same claim as a campaign's calls (issue 21): a real redis-server and the
simulator over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from campaigns.model import Contact
from dialer.account import AccountLimits, NumberRules
from dialer.campaign import CampaignConfig, CampaignState
from dialer.client import OneInboxClient
from dialer.errors import InputError
from dialer.http import make_http_client
from dialer.models import CallRequest
from dialer.pace import Pace
from dialer.simulator.config import DEFAULT_AGENT_ID, DEFAULT_API_KEY, DEFAULT_FROM_NUMBER
from dialer.simulator.server import RunningSimulator
from dialer.store import Store
from dialer.store.keys import ledger_key
from dialer.testcall import place_test_call
from tests.support import creates_to

MINE = "+14155550177"
GAP = NumberRules(min_gap_s=1800)


@pytest.fixture
def store(redis_url: str) -> Store:
    return Store.from_url(redis_url)


@pytest.fixture
def client(simulator: RunningSimulator) -> Iterator[OneInboxClient]:
    with make_http_client(
        simulator.url, DEFAULT_API_KEY, connect_timeout=2, read_timeout=5
    ) as http:
        yield OneInboxClient(http)


def _request(number: str = MINE) -> CallRequest:
    return CallRequest(
        agent_id=DEFAULT_AGENT_ID,
        to_number=number,
        from_number=DEFAULT_FROM_NUMBER,
        metadata={"dialer_test_call": "1"},
    )


def test_a_test_call_is_placed_and_noted_in_the_ledger(
    store: Store, client: OneInboxClient, simulator: RunningSimulator
) -> None:
    call = place_test_call(store, client, "default", _request(), rules=GAP)
    assert call.id and creates_to(simulator.url) == [MINE]
    assert store.redis.zrange(ledger_key("default", MINE), 0, -1)[0].startswith("test-call|")
    place_test_call(store, client, "default", _request(), rules=GAP)  # its own: no gap


def test_a_test_call_to_a_listed_number_is_refused_and_not_placed(
    store: Store, client: OneInboxClient, simulator: RunningSimulator
) -> None:
    store.dnc_add("default", [MINE], reason="asked")
    for _ in range(5):
        with pytest.raises(InputError, match="do-not-call list"):
            place_test_call(store, client, "default", _request(), rules=GAP)
    assert creates_to(simulator.url) == []
    assert store.redis.exists(ledger_key("default", MINE)) == 0


def test_a_test_call_within_the_gap_of_a_campaigns_call_says_who_and_until_when(
    store: Store, client: OneInboxClient, simulator: RunningSimulator
) -> None:
    config = CampaignConfig(campaign_id="c", agent_id="a", from_number=DEFAULT_FROM_NUMBER)
    store.create_campaign(config)
    store.add_contacts("c", [Contact(1, MINE, {"phone": MINE}, {})], ("phone",))
    store.set_campaign_state("c", CampaignState.RUNNING)
    won = store.claim(
        "c", 1, pace=Pace(interval_s=1e-6), max_concurrent=5, lease_s=60, stuck_s=30,
        number=MINE, rules=GAP,
    )  # fmt: skip
    assert won.won
    with pytest.raises(InputError, match="held by the re-call gap: called by campaign c at"):
        place_test_call(store, client, "default", _request(), rules=GAP)
    assert creates_to(simulator.url) == []


def test_a_test_call_waits_for_the_accounts_rate(
    store: Store, client: OneInboxClient, simulator: RunningSimulator
) -> None:
    store.set_limits("default", AccountLimits(rate_per_s=1 / 3600))  # 1/h
    place_test_call(store, client, "default", _request(), rules=GAP)
    with pytest.raises(InputError, match="account's rate"):
        place_test_call(store, client, "default", _request("+14155550178"), rules=GAP)
    assert creates_to(simulator.url) == [MINE]
