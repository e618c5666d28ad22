"""Loading a list into its campaign (campaigns.lifecycle) on a real Redis: a campaign the load
created is not read back at its end; a resumed one has the rows its list dropped settled."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from campaigns import lifecycle
from campaigns.model import Contact
from dialer.campaign import CampaignConfig
from dialer.store import ContactState, Store

COLUMNS = ("phone",)


@pytest.fixture
def store(redis_url: str) -> Iterator[Store]:
    opened = Store.from_url(redis_url)
    yield opened
    opened.redis.close()


def _config() -> CampaignConfig:
    return CampaignConfig(
        campaign_id="load", agent_id="a", from_number="+14155550100", columns=COLUMNS
    )


def _contacts(rows: range) -> list[Contact]:
    return [Contact(r, f"+1415555{r:04d}", {"phone": f"+1415555{r:04d}"}) for r in rows]


def _hmgets(store: Store) -> int:
    stats = store.redis.info("commandstats")
    return int(stats.get("cmdstat_hmget", {}).get("calls", 0))


def test_a_new_campaigns_load_does_not_read_its_contacts_back(store: Store) -> None:
    contacts = _contacts(range(1, 3001))
    store.redis.config_resetstat()
    submitted = lifecycle.submit(
        store, _config(), [contacts[i : i + 1000] for i in (0, 1000, 2000)]
    )
    assert submitted.loaded.added == 3000 and submitted.loaded.removed == 0
    assert _hmgets(store) < 100  # a few look-ups per batch; none per contact (3,000)


def test_a_resumed_campaigns_load_cancels_the_rows_its_list_dropped(store: Store) -> None:
    lifecycle.submit(store, _config(), [_contacts(range(1, 4))])
    again = lifecycle.submit(store, _config(), [_contacts(range(1, 3))])
    assert again.resumed and again.loaded.removed == 1
    dropped = store.contact("load", 3)
    assert dropped is not None and dropped.state is ContactState.CANCELED
