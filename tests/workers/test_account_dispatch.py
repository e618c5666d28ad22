"""Account limits with real worker processes, a real redis-server and the simulator over HTTP:
two campaigns of one account never exceed its rate or its concurrency together, counted where
OneInbox sees them (the simulator's create log and its calls in progress)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from campaigns import lifecycle
from campaigns.model import Contact
from dialer.account import AccountLimits
from dialer.campaign import CampaignConfig, CampaignState
from dialer.simulator.config import DEFAULT_AGENT_ID, DEFAULT_FROM_NUMBER
from dialer.simulator.server import RunningSimulator
from dialer.store import Store
from tests.support import Stack, sim_get, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def _submit(store: Store, cid: str, first: int, n: int, **kw: Any) -> None:
    config = CampaignConfig(
        campaign_id=cid,
        agent_id=DEFAULT_AGENT_ID,
        from_number=DEFAULT_FROM_NUMBER,
        columns=("phone",),
        window="always",
        account="acme",
        **kw,
    )
    numbers = range(first, first + n)
    contacts = [Contact(r - first + 1, f"+1415555{r:04d}", {"phone": ""}) for r in numbers]
    lifecycle.submit(store, config, [contacts])


def _wait(stack: Stack, cid: str) -> None:
    wait_until(
        lambda: stack.store.campaign_state(cid) is CampaignState.DONE,
        90,
        f"campaign {cid} to finish",
        every=0.2,
    )


def _run_both(stack: Stack, **kw: Any) -> None:
    _submit(stack.store, "a", 1000, 12, **kw)
    _submit(stack.store, "b", 2000, 12, **kw)
    lifecycle.start(stack.store, "a")
    lifecycle.start(stack.store, "b")
    for cid in ("a", "b"):
        _wait(stack, cid)


def _creates(sim: RunningSimulator) -> list[dict[str, Any]]:
    return [c for c in sim_get(sim.url, "creates") if c["call_id"]]  # type: ignore[union-attr]


def _max_in_window(times: list[float], window: float = 1.0) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_two_campaigns_sharing_an_account_keep_its_rate_together(
    stack: Stack, sim: RunningSimulator
) -> None:
    stack.store.set_limits("acme", AccountLimits(rate_per_s=4))
    stack.worker()
    stack.worker()
    stack.wait_ready(2)
    _run_both(stack, rate_per_s=10, max_concurrent=20)
    creates = _creates(sim)
    by_campaign = {c["metadata"]["dialer_campaign"] for c in creates}
    assert len(creates) == 24 and by_campaign == {"a", "b"}
    assert _max_in_window([c["t"] for c in creates]) <= 5  # the account's rate, +1 for edges


def test_two_campaigns_sharing_an_account_keep_its_concurrency_together(
    stack: Stack, sim: RunningSimulator
) -> None:
    httpx.patch(f"{sim.url}/_sim/config", json={"speed": 20.0}).raise_for_status()
    stack.store.set_limits("acme", AccountLimits(max_concurrent=3))
    stack.worker()
    stack.worker()
    _run_both(stack, rate_per_s=100, max_concurrent=10)
    assert len(_creates(sim)) == 24
    assert sim_get(sim.url, "stats")["max_active"] <= 3  # type: ignore[index]


def test_a_second_campaign_holds_the_numbers_the_first_just_called(
    stack: Stack, sim: RunningSimulator
) -> None:
    stack.worker()
    _submit(stack.store, "first", 1000, 3, rate_per_s=10)
    lifecycle.start(stack.store, "first")
    _wait(stack, "first")
    _submit(stack.store, "again", 1000, 3, rate_per_s=10)  # the same numbers: held 30 min
    lifecycle.start(stack.store, "again")

    def all_held() -> bool:
        contacts = [stack.store.contact("again", row) for row in (1, 2, 3)]
        held = "held by the re-call gap: called by campaign first at "
        return all(c is not None and c.waiting.startswith(held) for c in contacts)

    wait_until(all_held, 30, "the second campaign's contacts to be held")
    assert len(_creates(sim)) == 3
    assert stack.store.campaign_state("again") is CampaignState.RUNNING
    lifecycle.cancel(stack.store, "again")
    _submit(stack.store, "now", 1000, 3, rate_per_s=10, min_gap_s=0)  # --min-gap 0
    lifecycle.start(stack.store, "now")
    _wait(stack, "now")
    dialled = [c["metadata"]["dialer_campaign"] for c in _creates(sim)]
    assert sorted(dialled) == ["first"] * 3 + ["now"] * 3
