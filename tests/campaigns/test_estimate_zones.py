"""The preflight's estimate from contacts counted by time zone (`Zones`) answers as the walk of
every contact one by one did, its plain model here: a list of any size is a few groups."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.estimate import Estimate, Zones, effective_pace, estimate, zones_of
from campaigns.when import CallingPolicy, Recipient
from dialer.campaign import CampaignConfig

# New York, Los Angeles, Chicago, Florida (a state rule), London, Tokyo, a toll-free number.
NUMBERS = [
    "+12125550101",
    "+12135550102",
    "+13125550103",
    "+13055550104",
    "+442079460105",
    "+81355500106",
    "+18005550107",
]
ZONES = ["", "", "", "America/New_York", "Asia/Tokyo", "Europe/London"]
START = datetime(2026, 12, 1, tzinfo=UTC)


def one_by_one(
    config: CampaignConfig, contacts: Sequence[Mapping[str, str]], now: datetime
) -> Estimate:
    """The estimate as it was: every contact walked through its windows at the pace."""
    policy = CallingPolicy()
    pace, limit = effective_pace(config)
    gap = timedelta(seconds=1 / pace)
    due: list[tuple[datetime, Recipient]] = []
    never = 0
    for row in contacts:
        contact = Recipient(row["phone"], row.get("timezone", ""))
        at, _ = policy.dial_at(config, contact, now, why=False)
        if at is None:
            never += 1
        else:
            due.append((at, contact))
    due.sort(key=lambda item: item[0])
    clock: datetime | None = None
    first: datetime | None = None
    rolled = 0
    for at, contact in due:
        slot = at if clock is None else max(at, clock + gap)
        allowed = policy.allowed_from(config, contact, slot)
        if allowed is None:
            never += 1
            continue
        closes = policy.window_close(config, contact, at)
        rolled += closes is not None and allowed >= closes
        clock = allowed
        first = first or allowed
    return Estimate(pace, limit, first, clock, rolled, never)


def _grouped(config: CampaignConfig, rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The rows reordered group by group, in the order groups are first seen: the order in
    which the counted walk takes contacts due at the same instant."""
    zones = Zones(config)
    order: dict[tuple[str, ...], list[dict[str, str]]] = {}
    for row in rows:
        order.setdefault(zones.key(row["phone"], row["timezone"]), []).append(row)
    return [row for group in order.values() for row in group]


configs = st.builds(
    lambda window, days, rules, rate, slots, deadline_h: CampaignConfig(
        campaign_id="z",
        agent_id="a",
        from_number="+14155550100",
        window=window,
        days=days,
        rules=rules,
        rate_per_s=rate,
        max_concurrent=slots,
        deadline=(START + timedelta(hours=deadline_h)).isoformat() if deadline_h else "",
    ),
    window=st.sampled_from(["always", "08:00-21:00", "09:00-17:00", "22:00-02:00"]),
    days=st.sampled_from(["all", "mon-fri"]),
    rules=st.sampled_from(["", "us-states"]),
    rate=st.sampled_from([0.002, 0.01, 0.5, 2.0]),
    slots=st.sampled_from([1, 10, 100]),
    deadline_h=st.sampled_from([0, 20, 60]),
)
rows = st.lists(
    st.builds(
        lambda phone, zone: {"phone": phone, "timezone": zone},
        st.sampled_from(NUMBERS),
        st.sampled_from(ZONES),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(
    config=configs,
    contacts=rows,
    hours=st.integers(0, 24 * 7),
    minutes=st.sampled_from([0, 17, 59]),  # on the hour: slots land on a window's edges
)
def test_the_counted_estimate_answers_as_the_contact_by_contact_walk(
    config: CampaignConfig, contacts: list[dict[str, str]], hours: int, minutes: int
) -> None:
    now = START + timedelta(hours=hours, minutes=minutes)
    expected = one_by_one(config, _grouped(config, contacts), now)
    assert estimate(config, zones_of(config, contacts), now) == expected


def test_a_list_of_one_zone_is_one_group_and_the_same_answer() -> None:
    config = CampaignConfig(campaign_id="z", agent_id="a", from_number="+14155550100")
    contacts = [{"phone": f"+1212555{1000 + i}", "timezone": ""} for i in range(3000)]
    counted = zones_of(config, contacts)
    assert len(counted.groups) == 1
    now = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 20:00 in New York: one hour left
    assert estimate(config, counted, now) == one_by_one(config, contacts, now)


def test_a_large_list_over_several_days_gets_the_same_answer_a_run_at_a_time() -> None:
    config = CampaignConfig(
        campaign_id="z",
        agent_id="a",
        from_number="+14155550100",
        window="09:00-17:00",
        days="mon-fri",
        rules="us-states",
        rate_per_s=0.5,
        max_concurrent=100,
    )
    contacts = [{"phone": NUMBERS[i % 4], "timezone": ZONES[i % len(ZONES)]} for i in range(20_000)]
    now = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)  # a Friday, 15:00 in New York
    counted = estimate(config, zones_of(config, contacts), now)
    assert counted == one_by_one(config, _grouped(config, contacts), now)
    assert counted.rolled_over > 0 and counted.last_dial is not None
    assert counted.last_dial - now > timedelta(days=3)  # over the weekend
