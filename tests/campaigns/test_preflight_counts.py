"""The preflight keeps counts, not contacts: a list fed to it batch by batch, in any split,
gives the very checks and estimate the whole list gives at once, and a long list leaves it
no bigger than a short one."""

from __future__ import annotations

import itertools
import pickle
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns import checks, lifecycle
from campaigns.estimate import estimate, zones_of
from campaigns.model import Contact, Reject, RejectReason
from campaigns.preflight import Checking, Infra
from dialer.account import AccountLimits, NumberRules
from dialer.campaign import CampaignConfig
from dialer.client import OneInboxClient
from dialer.http import make_http_client
from dialer.models import Usage
from dialer.pace import Pace
from dialer.simulator.config import DEFAULT_AGENT_ID, DEFAULT_API_KEY, DEFAULT_FROM_NUMBER
from dialer.simulator.server import RunningSimulator
from dialer.store import Store

pytestmark = pytest.mark.timeout(120)

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
UNKNOWN_AGENT = "11111111-2222-4333-8444-555555555555"
CALLED_ELSEWHERE = "+12125550101"  # another campaign of the account called it just now
LISTED = ("+12125550199", "+442079469999")  # on the account's do-not-call list
USAGE = Usage(calls_remaining_today=10, max_calls_per_day=100)
# Numbers in New York, Los Angeles, London and Tokyo; some rows name their own time zone.
PHONES = [
    *(f"+1212555{100 + i:04d}" for i in range(1, 9)),
    *(f"+1213555{100 + i:04d}" for i in range(1, 6)),
    *(f"+44207946{i:04d}" for i in range(1, 6)),
    *(f"+8135550{i:04d}" for i in range(1, 4)),
]


def _config(**kw: object) -> CampaignConfig:
    return CampaignConfig.model_validate(
        {
            "campaign_id": "counted",
            "agent_id": DEFAULT_AGENT_ID,
            "from_number": DEFAULT_FROM_NUMBER,
            "account": "acme",
            "window": "08:00-21:00",
            "rules": "us-states",
            **kw,
        }
    )


def _list() -> list[Contact]:
    """The list's valid contacts: a few name an agent the account lacks, a few a time zone."""
    contacts = []
    for row, phone in enumerate(PHONES, 2):
        agent = UNKNOWN_AGENT if row % 7 == 0 else None
        zone = "Asia/Tokyo" if row % 5 == 0 else None
        contacts.append(Contact(row, phone, {}, agent_id=agent, timezone=zone))
    return contacts


@pytest.fixture
def store(redis_url: str) -> Iterator[Store]:
    opened = Store.from_url(redis_url)
    other = _config(campaign_id="other")
    lifecycle.submit(opened, other, [[Contact(1, CALLED_ELSEWHERE, {})]])
    lifecycle.start(opened, "other")
    opened.claim(
        "other", 1, pace=Pace(interval_s=1e-6), max_concurrent=5, lease_s=60, stuck_s=30,
        number=CALLED_ELSEWHERE, rules=NumberRules(min_gap_s=1800),
    )  # fmt: skip
    opened.dnc_add("acme", list(LISTED))
    yield opened
    opened.redis.close()


@pytest.fixture
def client(simulator: RunningSimulator) -> Iterator[OneInboxClient]:
    http = make_http_client(simulator.url, DEFAULT_API_KEY, connect_timeout=5, read_timeout=5)
    with http:
        yield OneInboxClient(http)


def _fed(checking: Checking, batches: Sequence[Sequence[Contact]]) -> list[Reject]:
    """Feed the batches as a load does: each valid row to `refuse`, each batch kept to
    `stored`; the rejects it made."""
    return [reject for batch in batches for reject in checking.screen(batch)]


def _split(contacts: list[Contact], cuts: list[int]) -> list[list[Contact]]:
    edges = [0, *sorted({c % (len(contacts) + 1) for c in cuts}), len(contacts)]
    return [contacts[a:b] for a, b in itertools.pairwise(edges)]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cuts=st.lists(st.integers(0, 100), max_size=6))
def test_a_list_fed_in_batches_is_checked_as_the_whole_list_at_once(
    store: Store, client: OneInboxClient, cuts: list[int]
) -> None:
    config = _config()
    checking = Checking(config, [], client, USAGE, Infra(store=store), now=NOW)
    contacts = _list()
    refused = _fed(checking, _split(contacts, cuts))
    listed = [Reject(99, phone, RejectReason.DNC, "on the list") for phone in LISTED]
    result = checking.finish(refused + listed)

    phones = [c.phone_e164 for c in contacts]
    dialled = [c for c in contacts if c.agent_id is None]
    limits = AccountLimits()
    assert result.checks == [
        checks.check_quota(USAGE, config, len(contacts)),
        *checks.check_rows(checking.unknown()),
        checks.check_countries(config.from_number, checks.regions_of(phones)),
        *checks.check_account_rules(store, config, phones + list(LISTED), limits),
    ]
    rows = [{"phone": c.phone_e164, "timezone": c.timezone or ""} for c in dialled]
    assert result.estimate == estimate(config, zones_of(config, rows), NOW)
    assert result.contacts == len(contacts) and result.rejects["unknown_agent"] == len(refused)


def test_the_counts_say_what_the_list_holds(store: Store, client: OneInboxClient) -> None:
    """The messages a person reads, from a list fed in uneven batches."""
    checking = Checking(_config(), [], client, USAGE, Infra(store=store), now=NOW)
    contacts = _list()
    refused = _fed(checking, [contacts[:3], [], contacts[3:10], contacts[10:]])
    listed = [Reject(99, LISTED[1], RejectReason.DNC, "on the list")]
    said = {c.name: c.detail for c in checking.finish(refused + listed).checks}
    assert said["quota"].startswith("10 calls left today (cap 100) for 21 contacts")
    assert said["rows' agents"].startswith(f"no agent {UNKNOWN_AGENT}")
    assert said["countries"].startswith("8 contacts outside US (GB 5, JP 3)")
    assert said["do-not-call"].startswith("2 numbers on the list; 1 of these contacts are on it")
    assert said["gap"].startswith("--min-gap 30 min: 1 contacts called by another campaign")


def _many(start: int, count: int) -> list[Contact]:
    zones = ("America/New_York", "Europe/London", "Asia/Tokyo")
    return [
        Contact(row, f"+1415{row:07d}", {}, timezone=zones[row % 3])
        for row in range(start, start + count)
    ]


def test_a_long_lists_preflight_holds_nothing_per_contact() -> None:
    checking = Checking(_config(rules=""), [], now=NOW)
    _fed(checking, [_many(2, 1000)])
    short = len(pickle.dumps(checking))
    for start in range(1002, 41002, 10_000):
        _fed(checking, [_many(start, 10_000)])
    assert checking.finish([]).contacts == 41_000
    assert len(pickle.dumps(checking)) <= short + 64  # a few counts grew a byte or two
