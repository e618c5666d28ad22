"""Calling times with real workers: contacts wait for their window and are dialled when it
opens, a deadline expires the rest, and an unanswered call is retried into a completed one."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from campaigns.model import Contact
from dialer.campaign import CampaignConfig, CampaignState
from tests.support import Stack, sim_get, wait_until
from workers import session
from workers.simulator.config import DEFAULT_AGENT_ID, DEFAULT_FROM_NUMBER
from workers.simulator.server import RunningSimulator

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]


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
    session.submit(stack.store, config, [_contacts(6, timezone="UTC")])
    session.start(stack.store, "w")
    stack.worker()

    # Before the window opens: nobody is dialled, and the results say why and until when.
    session.export(stack.store, "w", tmp_path / "early.csv")
    with (tmp_path / "early.csv").open(encoding="utf-8") as handle:
        early = list(csv.DictReader(handle))
    assert _creates(sim) == []
    assert all(r["status"] == "pending" for r in early)
    assert all("waiting" in r["waiting"] and f"{opens:%H:%M}" in r["waiting"] for r in early)
    due_ms, reasons = stack.store.waiting("w")  # what `dialer status` shows
    assert due_ms == round(opens.timestamp() * 1000)
    assert sum(reasons.values()) == 6

    wait_until(lambda: stack.store.campaign_state("w") is CampaignState.DONE, 100, "the end")
    creates = _creates(sim)
    assert all(float(c["t"]) >= opens.timestamp() for c in creates)  # type: ignore[arg-type]
    assert 2 <= len(creates) <= 4  # 1/s from the opening until the deadline 2.5 s later
    counts = stack.store.counts("w")
    assert counts.get("expired") == 6 - len(creates)


def test_a_no_answer_is_retried_and_ends_completed_after_two_creates(
    stack: Stack, sim: RunningSimulator, tmp_path: Path
) -> None:
    [contact] = _contacts(1)
    httpx.patch(
        f"{sim.url}/_sim/config",
        json={"scripted": {contact.phone_e164: ["no_answer", "completed"]}},
    )
    config = _config(window="always", max_attempts=3, retry_delays="1s", rate_per_s=50)
    session.submit(stack.store, config, [[contact]])
    session.start(stack.store, "w")
    stack.worker()
    wait_until(lambda: stack.store.campaign_state("w") is CampaignState.DONE, 60, "the end")

    assert len(_creates(sim)) == 2
    assert [c["metadata"]["dialer_attempt_id"] for c in _creates(sim)] == ["w:1:1", "w:1:2"]  # type: ignore[index]
    session.export(stack.store, "w", tmp_path / "r.csv")
    with (tmp_path / "r.csv").open(encoding="utf-8") as handle:
        [row] = list(csv.DictReader(handle))
    assert (row["status"], row["attempts"]) == ("completed", "2")
    session.export(stack.store, "w", tmp_path / "a.csv", attempts=True)
    with (tmp_path / "a.csv").open(encoding="utf-8") as handle:
        attempts = list(csv.DictReader(handle))
    assert [(a["attempts"], a["status"]) for a in attempts] == [
        ("1", "no_answer"),
        ("2", "completed"),
    ]
