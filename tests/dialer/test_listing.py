"""The list of campaigns: every campaign is in it, those created before the index existed too,
with what `dialer status` shows of each (contacts left, last activity)."""

from __future__ import annotations

import redis

from campaigns.model import Contact
from dialer.campaign import CampaignConfig, CampaignState
from dialer.store import ContactState, Store
from dialer.store.keys import CAMPAIGNS, CAMPAIGNS_INDEXED

COLUMNS = ("phone",)


def _campaign(store: Store, cid: str, contacts: int = 2) -> None:
    config = CampaignConfig(
        campaign_id=cid, agent_id="agent", from_number="+14155550100", columns=COLUMNS
    )
    store.create_campaign(config)
    phones = [f"+1415555{row:04d}" for row in range(1, contacts + 1)]
    store.add_contacts(cid, [Contact(i, p, {"phone": p}) for i, p in enumerate(phones, 1)], COLUMNS)


def test_campaigns_made_before_the_index_are_found_once_and_indexed(redis_url: str) -> None:
    store = Store(redis.Redis.from_url(redis_url, decode_responses=True))
    _campaign(store, "old-1")
    _campaign(store, "old-2")
    store.redis.delete(CAMPAIGNS, CAMPAIGNS_INDEXED)  # as a Redis written before the index
    _campaign(store, "new")  # ... then used by this version

    assert store.campaign_ids() == ["new", "old-1", "old-2"]
    assert store.redis.smembers(CAMPAIGNS) == {"new", "old-1", "old-2"}
    assert store.index_old_campaigns() == 0  # nothing more to find


def test_an_overview_counts_contacts_left_and_the_last_activity(redis_url: str) -> None:
    store = Store(redis.Redis.from_url(redis_url, decode_responses=True))
    _campaign(store, "c1", contacts=3)
    store.set_campaign_state("c1", CampaignState.RUNNING)
    store.transition("c1", 1, ContactState.CANCELED)
    [seen] = store.overviews(["c1"])
    assert (seen.total, seen.live, seen.state) == (3, 2, CampaignState.RUNNING)
    assert seen.last_activity_ms > 0
