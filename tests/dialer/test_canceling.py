"""Cancelling a big campaign: every waiting contact is canceled, in batches, with one log line
(it was one script call and one line per contact: a million lines for a million contacts)."""

from __future__ import annotations

import logging

import pytest
import redis

from campaigns import lifecycle
from campaigns.model import Contact
from dialer.campaign import CampaignConfig, CampaignState
from dialer.store import ContactState, Store

pytestmark = pytest.mark.timeout(180)
CONTACTS = 50_000


def _campaign(url: str, cid: str, size: int) -> Store:
    store = Store(redis.Redis.from_url(url, decode_responses=True))
    store.create_campaign(
        CampaignConfig(
            campaign_id=cid, agent_id="a", from_number="+14155550100", columns=("phone",)
        )
    )
    people = (Contact(i, f"+1415{i:07d}", {"phone": f"+1415{i:07d}"}) for i in range(1, size + 1))
    store.add_contacts(cid, people, ("phone",))
    store.set_campaign_state(cid, CampaignState.RUNNING)
    return store


def test_cancelling_a_big_campaign_is_batched_and_logs_one_line(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = _campaign(redis_url, "big", CONTACTS)
    with caplog.at_level(logging.DEBUG, logger="dialer"):
        assert lifecycle.cancel(store, "big") == CONTACTS
    lines = [r for r in caplog.records if r.name.startswith("dialer")]
    assert [r.getMessage() for r in lines] == ["canceled"], f"{len(lines)} log lines"
    assert store.pending_rows("big") == []
    assert store.campaign_state("big") is CampaignState.CANCELED
    states = {c.state for c in store.iter_contacts("big")}
    assert states == {ContactState.CANCELED}


def test_a_contact_already_dialled_is_not_canceled(redis_url: str) -> None:
    store = _campaign(redis_url, "mixed", 3)
    store.transition("mixed", 2, ContactState.EXPIRED)
    assert lifecycle.cancel(store, "mixed") == 2
    assert [c.state for c in store.iter_contacts("mixed")] == [
        ContactState.CANCELED,
        ContactState.EXPIRED,
        ContactState.CANCELED,
    ]
