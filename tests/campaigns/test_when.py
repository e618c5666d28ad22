"""Calling times (campaigns.when): the decisions of `CallingPolicy` at fixed instants, then with
real workers: contacts wait for their window and are dialled when it opens, a deadline expires
the rest, and an unanswered call is retried into a completed one."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from campaigns import lifecycle, watch
from campaigns.model import Contact
from campaigns.when import CallingPolicy, Reachable, Recipient, add_schedule
from dialer.campaign import CampaignConfig, CampaignState
from dialer.simulator.config import DEFAULT_AGENT_ID, DEFAULT_FROM_NUMBER
from dialer.simulator.server import RunningSimulator
from dialer.store import ContactRecord, ContactState
from tests.support import Stack, sim_get, wait_until


def _contacts(n: int, timezone: str | None = None) -> list[Contact]:
    return [
        Contact(
            r, f"+1415555{3000 + r:04d}", {"phone": f"+1415555{3000 + r:04d}"}, timezone=timezone
        )
        for r in range(1, n + 1)
    ]


def _config(**kw: object) -> CampaignConfig:
    return CampaignConfig.model_validate(
        {
            "campaign_id": "w",
            "agent_id": DEFAULT_AGENT_ID,
            "from_number": DEFAULT_FROM_NUMBER,
            "columns": ("phone",),
            "max_concurrent": 50,
            **kw,
        }
    )


def _creates(sim: RunningSimulator) -> list[dict[str, object]]:
    return [c for c in sim_get(sim.url, "creates") if c["call_id"]]  # type: ignore[union-attr]


# -- CallingPolicy at fixed instants (no workers) --------------------------------------------

MON = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday in winter: Los Angeles is UTC-8
IN_UTC = Recipient("+14155550100", "UTC")
BY_NUMBER = Recipient("+14155550100")  # no timezone: the number's (America/Los_Angeles)
policy = CallingPolicy()


def _office(**kw: object) -> CampaignConfig:
    return _config(window="09:00-17:00", days="mon-fri", **kw)


def _at(hours: float, days: int = 0) -> datetime:
    return MON + timedelta(days=days, hours=hours)


def _dial_at(config: CampaignConfig, contact: Reachable, now: datetime) -> datetime | None:
    return policy.dial_at(config, contact, now)[0]


def test_inside_the_window_a_contact_is_due_now() -> None:
    assert policy.dial_at(_office(), IN_UTC, _at(10)) == (_at(10), "")
    assert _dial_at(_office(), IN_UTC, _at(16.99)) == _at(16.99)


def test_before_the_window_a_contact_waits_for_it_to_open_and_says_why() -> None:
    at, why = policy.dial_at(_office(), IN_UTC, _at(7))
    assert at == _at(9)
    assert why.startswith("waiting:") and "09:00-17:00" in why and "opens Mon 09:00" in why


def test_the_window_closes_at_its_end_and_reopens_on_the_next_allowed_day() -> None:
    assert _dial_at(_office(), IN_UTC, _at(17)) == _at(9, days=1)
    assert _dial_at(_office(), IN_UTC, _at(17.5, days=4)) == _at(9, days=7)  # Fri -> Mon
    assert policy.window_close(_office(), IN_UTC, _at(10)) == _at(17)
    assert policy.window_close(_office(), IN_UTC, _at(8)) is None
    assert policy.window_close(_office(), IN_UTC, _at(17)) is None


def test_the_window_is_the_recipients_time_from_the_number() -> None:
    assert _dial_at(_office(), BY_NUMBER, _at(20)) == _at(20)  # 12:00 in Los Angeles
    assert _dial_at(_office(), BY_NUMBER, _at(2, days=1)) == _at(17, days=1)  # 18:00 there


def test_a_deadline_expires_the_contact_once_passed_or_before_its_next_window() -> None:
    config = _office(deadline=_at(12).isoformat())
    assert _dial_at(config, IN_UTC, _at(7)) == _at(9)
    at, why = policy.dial_at(config, IN_UTC, _at(12))
    assert at is None and why.startswith("expired: the deadline 2026-01-05 12:00")
    late = _config(window="13:00-17:00", deadline=_at(12).isoformat())
    at, why = policy.dial_at(late, IN_UTC, _at(7))
    assert at is None and why.startswith("expired: no calling time before the deadline")


def test_a_start_time_holds_every_contact_until_then() -> None:
    at, why = policy.dial_at(_office(start_at=_at(11).isoformat()), IN_UTC, _at(10))
    assert (at, why) == (_at(11), "waiting: the campaign starts 2026-01-05 11:00 UTC")


def test_always_means_now() -> None:
    assert policy.dial_at(_config(window="always"), IN_UTC, _at(3)) == (_at(3), "")


def test_a_retry_comes_after_its_delay_inside_the_window_within_the_attempts() -> None:
    config = _office(max_attempts=3, retry_on="no_answer", retry_delays="30m")
    first = ContactRecord(1, ContactState.PLACED, IN_UTC.phone, timezone="UTC", attempt=1)
    at, why = policy.retry_at(config, first, ContactState.NO_ANSWER, _at(10))
    assert (at, why) == (_at(10.5), "attempt 2 due 2026-01-05 10:30 UTC (after no_answer)")
    assert policy.retry_at(config, first, ContactState.NO_ANSWER, _at(16.75))[0] == _at(9, days=1)
    assert policy.retry_at(config, first, ContactState.COMPLETED, _at(10)) == (None, "")
    assert policy.retry_at(config, replace(first, attempt=3), ContactState.NO_ANSWER, _at(10)) == (
        None,
        "",
    )
    ends = _office(max_attempts=3, retry_on="no_answer", deadline=_at(10.25).isoformat())
    assert policy.retry_at(ends, first, ContactState.NO_ANSWER, _at(10)) == (None, "")


def test_contacts_are_scheduled_at_load_only_when_they_must_wait() -> None:
    assert add_schedule(_config(window="always"), _at(7)) is None
    schedule = add_schedule(_office(), _at(7))
    assert schedule is not None
    due_ms, why = schedule(_contacts(1, timezone="UTC")[0])
    assert due_ms == round(_at(9).timestamp() * 1000) and "opens Mon 09:00" in why
    inside = add_schedule(_office(), _at(10))
    assert inside is not None and inside(_contacts(1, timezone="UTC")[0]) == (0, "")


@pytest.mark.integration
@pytest.mark.timeout(150)
def test_contacts_wait_for_their_window_and_the_deadline_expires_the_rest(
    stack: Stack, sim: RunningSimulator, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    opens = (now + timedelta(minutes=1)).replace(second=0, microsecond=0)
    if (opens - now).total_seconds() < 3:  # too close to the minute to see anyone wait
        opens += timedelta(minutes=1)
    window = f"{opens:%H:%M}-{opens + timedelta(hours=1):%H:%M}"
    deadline = opens + timedelta(seconds=2.5)
    config = _config(window=window, rate_per_s=1.0, deadline=deadline.isoformat())
    lifecycle.submit(stack.store, config, [_contacts(6, timezone="UTC")])
    lifecycle.start(stack.store, "w")
    stack.worker()

    # Before the window opens: nobody is dialled, and the results say why and until when.
    watch.export(stack.store, "w", tmp_path / "early.csv")
    with (tmp_path / "early.csv").open(encoding="utf-8-sig") as handle:
        early = list(csv.DictReader(handle))
    assert _creates(sim) == []
    assert all(r["status"] == "pending" for r in early)
    assert all("waiting" in r["waiting"] and f"{opens:%H:%M}" in r["waiting"] for r in early)
    due_ms, reasons = stack.store.waiting("w")  # what `dialer status` shows
    assert due_ms == round(opens.timestamp() * 1000)
    assert sum(count for count, _ in reasons.values()) == 6

    wait_until(lambda: stack.store.campaign_state("w") is CampaignState.DONE, 100, "the end")
    creates = _creates(sim)
    assert all(float(c["t"]) >= opens.timestamp() for c in creates)  # type: ignore[arg-type]
    assert 2 <= len(creates) <= 4  # 1/s from the opening until the deadline 2.5 s later
    counts = stack.store.counts("w")
    assert counts.get("expired") == 6 - len(creates)


@pytest.mark.integration
@pytest.mark.timeout(150)
def test_a_no_answer_is_retried_and_ends_completed_after_two_creates(
    stack: Stack, sim: RunningSimulator, tmp_path: Path
) -> None:
    [contact] = _contacts(1)
    httpx.patch(
        f"{sim.url}/_sim/config",
        json={"scripted": {contact.phone_e164: ["no_answer", "completed"]}},
    )
    config = _config(window="always", max_attempts=3, retry_delays="1s", rate_per_s=50)
    lifecycle.submit(stack.store, config, [[contact]])
    lifecycle.start(stack.store, "w")
    stack.worker()
    wait_until(lambda: stack.store.campaign_state("w") is CampaignState.DONE, 60, "the end")

    assert len(_creates(sim)) == 2
    assert [c["metadata"]["dialer_attempt_id"] for c in _creates(sim)] == ["w:1:1", "w:1:2"]  # type: ignore[index]
    watch.export(stack.store, "w", tmp_path / "r.csv")
    with (tmp_path / "r.csv").open(encoding="utf-8-sig") as handle:
        [row] = list(csv.DictReader(handle))
    assert (row["status"], row["attempts"]) == ("completed", "2")
    watch.export(stack.store, "w", tmp_path / "a.csv", attempts=True)
    with (tmp_path / "a.csv").open(encoding="utf-8-sig") as handle:
        attempts = list(csv.DictReader(handle))
    assert [(a["attempts"], a["status"]) for a in attempts] == [
        ("1", "no_answer"),
        ("2", "completed"),
    ]
