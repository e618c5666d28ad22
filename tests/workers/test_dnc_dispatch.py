"""The live do-not-call list with real worker processes, a real redis-server and the simulator
over HTTP: a number added while its campaign runs is never dialled and ends `suppressed`; a call
ending with an opt-out outcome puts its number on the list."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from campaigns import lifecycle
from campaigns.model import Contact
from dialer.campaign import CampaignConfig, CampaignState
from dialer.simulator.config import DEFAULT_AGENT_ID, DEFAULT_FROM_NUMBER
from dialer.simulator.server import RunningSimulator
from dialer.store import ContactState
from dialer.store.keys import ready_key
from tests.support import Stack, sim_get, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def _submit(stack: Stack, cid: str, n: int, **kw: Any) -> list[str]:
    config = CampaignConfig(
        campaign_id=cid,
        agent_id=DEFAULT_AGENT_ID,
        from_number=DEFAULT_FROM_NUMBER,
        columns=("phone",),
        window="always",
        account="acme",
        **kw,
    )
    numbers = [f"+1415555{r + 3000:04d}" for r in range(1, n + 1)]
    contacts = [Contact(r, number, {"phone": ""}) for r, number in enumerate(numbers, 1)]
    lifecycle.submit(stack.store, config, [contacts])
    return numbers


def _wait_done(stack: Stack, cid: str) -> None:
    wait_until(
        lambda: stack.store.campaign_state(cid) is CampaignState.DONE,
        90,
        f"campaign {cid} to finish ({stack.store.counts(cid)})",
        every=0.2,
    )


def _dialled(sim: RunningSimulator) -> list[str]:
    creates = sim_get(sim.url, "creates")
    return [c["to_number"] for c in creates if c["call_id"]]  # type: ignore[union-attr]


def test_a_number_listed_mid_campaign_is_never_dialled_and_ends_suppressed(
    stack: Stack, sim: RunningSimulator
) -> None:
    stack.worker()
    numbers = _submit(stack, "live", 8, rate_per_s=2)  # about 4 s of dialling
    lifecycle.start(stack.store, "live")
    wait_until(lambda: len(_dialled(sim)) >= 1, 30, "the first create")
    # The contact last in the queue: seconds from its turn, with no dial task yet.
    row = int(stack.store.redis.zrange(ready_key("live"), -1, -1)[0])
    listed = numbers[row - 1]
    assert listed not in _dialled(sim)
    stack.store.dnc_add("acme", [listed], reason="asked by email")
    _wait_done(stack, "live")
    assert listed not in _dialled(sim)
    assert sorted(_dialled(sim)) == sorted(set(numbers) - {listed})
    contact = stack.store.contact("live", row)
    assert contact is not None and contact.state is ContactState.SUPPRESSED
    assert contact.error == "on the do-not-call list: asked by email"
    assert stack.store.counts("live")["suppressed"] == 1


def test_an_opt_out_outcome_puts_the_number_on_the_list(
    stack: Stack, sim: RunningSimulator
) -> None:
    numbers = [f"+1415555{r + 3000:04d}" for r in (1, 2)]
    scripted = {numbers[0]: ["do_not_call"], numbers[1]: ["completed"]}
    httpx.patch(f"{sim.url}/_sim/config", json={"scripted": scripted}).raise_for_status()
    stack.worker()
    _submit(stack, "optout", 2, rate_per_s=10, opt_out_outcomes=("Do Not Call",))
    lifecycle.start(stack.store, "optout")
    _wait_done(stack, "optout")
    entry = stack.store.dnc_check("acme", numbers[0])
    assert entry is not None and "Do Not Call" in entry.reason and "optout" in entry.reason
    assert stack.store.dnc_check("acme", numbers[1]) is None
    # The next campaign of the account never dials it.
    _submit(stack, "after", 2, rate_per_s=10, min_gap_s=0)  # not held by the gap
    lifecycle.start(stack.store, "after")
    _wait_done(stack, "after")
    assert _dialled(sim).count(numbers[0]) == 1
    after = stack.store.contact("after", 1)
    assert after is not None and after.state is ContactState.SUPPRESSED
