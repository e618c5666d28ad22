"""The webhook receiver: an event brings the call's next read forward, and does nothing else."""

from __future__ import annotations

import httpx
import redis

from campaigns.model import Contact
from dialer.campaign import CampaignConfig, CampaignState, State
from dialer.store import Store, campaign_key
from tests.support import serve_in_thread
from workers.webhooks import create_app


def _placed_store(url: str) -> Store:
    store = Store(redis.Redis.from_url(url, decode_responses=True))
    store.create_campaign(
        CampaignConfig(
            campaign_id="w", agent_id="agent", from_number="+14155550100", columns=("phone",)
        )
    )
    store.add_contacts("w", [Contact(1, "+14155550123", {"phone": "+14155550123"})], ("phone",))
    store.set_campaign_state("w", CampaignState.RUNNING)
    store.claim("w", 1, max_concurrent=5, interval_us=1, lease_ms=60_000, stuck_ms=60_000)
    store.transition("w", 1, State.PLACED, lease_ms=60_000, watch_in_ms=600_000)
    store.index_call("call-1", "w", 1)
    return store


def test_an_event_makes_the_call_due_now(redis_url: str) -> None:
    store = _placed_store(redis_url)
    before = store.redis.zscore(campaign_key("w", "watch"), "1")
    with serve_in_thread(create_app(store)) as url, httpx.Client(base_url=url) as client:
        answer = client.post(
            "/webhooks/oneinbox", json={"event": "call.ended", "call_id": "call-1"}
        )
    assert answer.status_code == 204
    after = store.redis.zscore(campaign_key("w", "watch"), "1")
    assert after is not None and before is not None and after < before
    assert store.contact("w", 1)["state"] == "placed"  # the event itself decides nothing


def test_unknown_calls_and_junk_change_nothing(redis_url: str) -> None:
    store = _placed_store(redis_url)
    before = store.redis.zscore(campaign_key("w", "watch"), "1")
    with serve_in_thread(create_app(store)) as url, httpx.Client(base_url=url) as client:
        assert (
            client.post(
                "/webhooks/oneinbox", json={"event": "call.ended", "call_id": "nope"}
            ).status_code
            == 204
        )
        assert client.post("/webhooks/oneinbox", content=b"not json").status_code == 400
        assert client.post("/webhooks/oneinbox", json=[1, 2]).status_code == 400
    assert store.redis.zscore(campaign_key("w", "watch"), "1") == before


def test_an_event_for_a_finished_contact_does_not_resurrect_it(redis_url: str) -> None:
    store = _placed_store(redis_url)
    store.transition("w", 1, State.COMPLETED)
    with serve_in_thread(create_app(store)) as url, httpx.Client(base_url=url) as client:
        client.post("/webhooks/oneinbox", json={"event": "call.ended", "call_id": "call-1"})
    assert store.redis.zscore(campaign_key("w", "watch"), "1") is None
