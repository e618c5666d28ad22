"""Cancelling a big campaign: every waiting contact is canceled, in batches, with one log line
(it was one script call and one line per contact: a million lines for a million contacts)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
import redis

from campaigns import lifecycle
from campaigns.model import Contact
from campaigns.results import result_columns, result_row
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


def _waiting_campaign(url: str, cid: str, rows: range) -> Store:
    """A campaign whose contacts wait for its start, tomorrow."""
    store = Store(redis.Redis.from_url(url, decode_responses=True))
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat(timespec="minutes")
    config = CampaignConfig(
        campaign_id=cid, agent_id="a", from_number="+14155550100", columns=("phone",),
        start_at=tomorrow,
    )  # fmt: skip
    people = [Contact(i, f"+1415555{i:04d}", {"phone": f"+1415555{i:04d}"}) for i in rows]
    lifecycle.submit(store, config, [people])
    return store


def _results_waiting(store: Store, cid: str) -> list[tuple[str, str]]:
    """(status, waiting) of each line of the campaign's results file."""
    header = result_columns(["phone"])
    lines = [result_row(["phone"], contact) for contact in store.iter_contacts(cid)]
    status, waiting = header.index("status"), header.index("waiting")
    return [(line[status], line[waiting]) for line in lines]


def test_a_canceled_contact_no_longer_says_it_waits(redis_url: str) -> None:
    store = _waiting_campaign(redis_url, "later", range(1, 3))
    assert all(waiting for _, waiting in _results_waiting(store, "later")), "they wait first"
    assert lifecycle.cancel(store, "later") == 2
    assert _results_waiting(store, "later") == [("canceled", ""), ("canceled", "")]


def test_a_contact_that_left_the_list_no_longer_says_it_waits(redis_url: str) -> None:
    store = _waiting_campaign(redis_url, "edited", range(1, 3))
    config = store.campaign("edited")
    again = lifecycle.submit(store, config, [[Contact(1, "+14155550001", {"phone": "x"})]])
    assert again.loaded.removed == 1
    dropped = store.contact("edited", 2)
    assert dropped is not None and dropped.state is ContactState.CANCELED
    assert dropped.waiting == ""
