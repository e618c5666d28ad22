"""Events derived by the sweep: each campaign change and each finished contact recorded once,
with what a CRM needs; a campaign without an events URL costs nothing. Real redis-server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns import lifecycle
from campaigns.events import CAMPAIGN_KINDS, campaign_kinds, sweep
from campaigns.model import Contact
from campaigns.planning import campaign_config
from dialer.campaign import CampaignConfig, CampaignState
from dialer.errors import ConfigError, InputError
from dialer.run_options import RunOptions
from dialer.settings import Settings
from dialer.store import ContactState, Store
from dialer.store.outbox import Outbox

URL = "http://127.0.0.1:9/events"
RUNNING, PAUSED, DONE, CANCELED = (
    CampaignState.RUNNING,
    CampaignState.PAUSED,
    CampaignState.DONE,
    CampaignState.CANCELED,
)


@pytest.mark.parametrize(
    ("last", "state", "reason", "ran", "kinds"),
    [
        ("", PAUSED, "", False, []),  # created, not started yet
        ("", RUNNING, "", False, ["started"]),
        ("started", RUNNING, "", True, []),
        ("started", PAUSED, "", True, ["paused"]),
        ("paused", RUNNING, "", True, ["resumed"]),
        ("resumed", PAUSED, "OneInbox refused the API key", True, ["auto_paused"]),
        ("auto_paused", DONE, "", True, ["finished"]),
        ("", DONE, "", True, ["started", "finished"]),  # ran between two sweeps
        ("finished", RUNNING, "", True, ["resumed"]),  # its list dialled again
    ],
)
def test_campaign_events_lead_from_the_last_reported_to_the_state_now(
    last: str, state: CampaignState, reason: str, ran: bool, kinds: list[str]
) -> None:
    assert campaign_kinds(last, state, reason=reason, active=True, ran=ran) == kinds


@given(
    last=st.sampled_from(["", *CAMPAIGN_KINDS]),
    state=st.sampled_from(list(CampaignState)),
    reason=st.sampled_from(["", "why"]),
    active=st.booleans(),
    ran=st.booleans(),
)
def test_reporting_where_a_campaign_is_twice_reports_nothing_new(
    last: str, state: CampaignState, reason: str, active: bool, ran: bool
) -> None:
    kinds = campaign_kinds(last, state, reason=reason, active=active, ran=ran)
    assert set(kinds) <= set(CAMPAIGN_KINDS)
    if kinds:
        after = campaign_kinds(kinds[-1], state, reason=reason, active=active, ran=ran)
        assert after == []


def _campaign(store: Store, cid: str = "c", events_url: str | None = URL, n: int = 3) -> None:
    config = CampaignConfig(
        campaign_id=cid,
        agent_id="agent",
        from_number="+14155550100",
        columns=("phone", "name"),
        window="always",
        events_url=events_url,
    )
    rows = [
        Contact(r, f"+1415555{r + 1000:04d}", {"phone": "x", "name": f"N{r}"})
        for r in range(1, n + 1)
    ]
    lifecycle.submit(store, config, [rows])


def _bodies(outbox: Outbox) -> list[dict[str, object]]:
    return [json.loads(e.body) for e in reversed(outbox.recent(100))]


def test_each_finished_contact_and_campaign_change_is_recorded_once(redis_url: str) -> None:
    store = Store.from_url(redis_url)
    outbox = Outbox(store.redis)
    _campaign(store)
    assert sweep(store, outbox, None) == 0, "created, not started: nothing to say"
    lifecycle.start(store, "c")
    analysis = '{"outcome": "Interested", "extracted": {"budget": "5k"}}'
    called = {"outcome": "Interested", "cost_cents": "120", "analysis": analysis}
    store.transition("c", 2, ContactState.CANCELED, fields=called)
    assert sweep(store, outbox, None) == 2
    assert sweep(store, outbox, None) == 0, "a second sweep finds nothing new"
    contact, started = _bodies(outbox)
    assert started["type"] == "campaign.started"
    assert contact["type"] == "contact.finished"
    data = contact["data"]
    assert isinstance(data, dict)
    assert (data["contact"], data["status"], data["outcome"]) == (2, "canceled", "Interested")
    assert data["columns"] == {"phone": "x", "name": "N2"}, "the row's own columns"
    assert data["phone"] == "+14155551002"
    assert data["cost_cents"] == 120 and data["recording_url"] is None
    assert data["analysis"] == {"outcome": "Interested", "extracted": {"budget": "5k"}}

    store.set_campaign_state("c", CampaignState.PAUSED)
    for row in (1, 3):
        store.transition("c", row, ContactState.CANCELED)
    store.set_campaign_state("c", CampaignState.DONE)
    assert sweep(store, outbox, None) == 3
    kinds = [b["type"] for b in _bodies(outbox)]
    assert kinds[-1] == "campaign.finished", "contacts first, then the campaign's end"
    assert sorted(kinds) == sorted(
        ["campaign.started", "campaign.finished"] + ["contact.finished"] * 3
    )
    assert outbox.open_campaigns() == set(), "a finished campaign is no longer swept"


def test_a_campaign_without_an_events_url_records_nothing(redis_url: str) -> None:
    store = Store.from_url(redis_url)
    outbox = Outbox(store.redis)
    _campaign(store, events_url=None)
    lifecycle.start(store, "c")
    store.transition("c", 1, ContactState.CANCELED)
    assert sweep(store, outbox, None) == 0
    assert sweep(store, outbox, URL) == 2, "the deployment's default URL applies"
    assert {e.url for e in outbox.recent(10)} == {URL}


def test_a_sweep_cut_short_loses_nothing_and_records_nothing_twice(redis_url: str) -> None:
    store = Store.from_url(redis_url)
    outbox = Outbox(store.redis)
    _campaign(store, n=4)
    lifecycle.start(store, "c")
    for row in (1, 2, 3):
        store.transition("c", row, ContactState.CANCELED)
    # A sweep that recorded one contact and died before noting how many were final:
    [first] = [c for c in store.iter_contacts("c") if c.member == 1]
    sweep(store, outbox, None)
    store.redis.hdel("dialer:events:camp:c", "finals")
    assert sweep(store, outbox, None) == 0
    ids = [e.id for e in outbox.recent(100)]
    assert len(ids) == len(set(ids)) == 4
    assert first.state is ContactState.CANCELED


def test_the_events_url_must_be_https_or_loopback(tmp_path: Path) -> None:
    settings = Settings(agent_id="a", from_number="+14155550100", state_dir=tmp_path)

    def config(url: str) -> CampaignConfig:
        opts = RunOptions(events_url=url)
        return campaign_config(
            opts, settings, "c", columns=(), variable_columns=(), source=tmp_path / "x.csv"
        )

    assert config("https://crm.example/hooks").events_url == "https://crm.example/hooks"
    assert config("http://127.0.0.1:8080/e").events_url == "http://127.0.0.1:8080/e"
    with pytest.raises(InputError, match=r"^--events-url: .*https"):
        config("http://crm.example/hooks")
    with pytest.raises(ConfigError, match="DIALER_EVENTS_URL"):
        Settings(events_url="http://crm.example/hooks")
