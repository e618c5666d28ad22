"""The webhook receiver: an event brings the call's next read forward, and does nothing else."""

from __future__ import annotations

import httpx
import pytest
import redis

from campaigns.model import Contact
from dialer.campaign import CampaignConfig, CampaignState, State
from dialer.pace import Pace
from dialer.store import Store
from dialer.store.keys import watch_key
from tests.support import WORKER_TIMING, Stack, serve_in_thread, sim_get, wait_until
from workers import session
from workers.simulator.config import DEFAULT_AGENT_ID, DEFAULT_FROM_NUMBER
from workers.simulator.server import RunningSimulator
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
    store.claim("w", 1, pace=Pace(interval_s=1e-6), max_concurrent=5, lease_s=60, stuck_s=60)
    store.transition("w", 1, State.PLACED, lease_ms=60_000, watch_in_ms=600_000)
    store.index_call("call-1", "w", 1)
    return store


def test_an_event_makes_the_call_due_now(redis_url: str) -> None:
    store = _placed_store(redis_url)
    before = store.redis.zscore(watch_key("w"), "1")
    with serve_in_thread(create_app(store)) as url, httpx.Client(base_url=url) as client:
        answer = client.post(
            "/webhooks/oneinbox", json={"event": "call.ended", "call_id": "call-1"}
        )
    assert answer.status_code == 204
    after = store.redis.zscore(watch_key("w"), "1")
    assert after is not None and before is not None and after < before
    assert store.contact("w", 1)["state"] == "placed"  # the event itself decides nothing


def test_unknown_calls_and_junk_change_nothing(redis_url: str) -> None:
    store = _placed_store(redis_url)
    before = store.redis.zscore(watch_key("w"), "1")
    with serve_in_thread(create_app(store)) as url, httpx.Client(base_url=url) as client:
        assert (
            client.post(
                "/webhooks/oneinbox", json={"event": "call.ended", "call_id": "nope"}
            ).status_code
            == 204
        )
        assert client.post("/webhooks/oneinbox", content=b"not json").status_code == 400
        assert client.post("/webhooks/oneinbox", json=[1, 2]).status_code == 400
    assert store.redis.zscore(watch_key("w"), "1") == before


def test_an_event_for_a_finished_contact_does_not_resurrect_it(redis_url: str) -> None:
    store = _placed_store(redis_url)
    store.transition("w", 1, State.COMPLETED)
    with serve_in_thread(create_app(store)) as url, httpx.Client(base_url=url) as client:
        client.post("/webhooks/oneinbox", json={"event": "call.ended", "call_id": "call-1"})
    assert store.redis.zscore(watch_key("w"), "1") is None


@pytest.mark.integration
@pytest.mark.timeout(90)
def test_webhooks_bring_the_final_read_forward_in_a_real_campaign(
    stack: Stack, sim: RunningSimulator
) -> None:
    # Polls are slowed to 20 s and more: finishing in seconds means the events were used.
    stack.env["DIALER_TIMING"] = WORKER_TIMING.replace("poll_scale=0.1", "poll_scale=20")
    with serve_in_thread(create_app(stack.store)) as receiver:
        config = CampaignConfig(
            campaign_id="h",
            agent_id=DEFAULT_AGENT_ID,
            from_number=DEFAULT_FROM_NUMBER,
            columns=("phone",),
            window="always",
            rate_per_s=20,
            webhook_url=f"{receiver}/webhooks/oneinbox",
        )
        contacts = [Contact(r, f"+1415555{5000 + r:04d}", {"phone": ""}) for r in range(1, 4)]
        session.submit(stack.store, config, [contacts])
        session.start(stack.store, "h")
        stack.worker()
        wait_until(
            lambda: stack.store.campaign_state("h") is CampaignState.DONE,
            12,  # the slow schedule alone would need 20 s or more
            "webhooks to bring the calls' final reads forward",
        )
    delivered = sim_get(sim.url, "deliveries")
    assert any(d["response_status"] == 204 for d in delivered)  # type: ignore[union-attr]
    for _, contact in stack.store.iter_contacts("h"):
        assert contact["state"] in {"completed", "voicemail", "no_answer", "failed"}
        assert int(contact["polls"]) < 4  # a few reads, not the slow schedule
