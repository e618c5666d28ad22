"""Uncertain creates are reconciled, not dialled again: real worker processes, a real
redis-server and the simulator over HTTP. Workers SIGKILLed with slow creates in flight and down
while other calls fill the account's call list; creates the provider makes only after the client
gave up. Nobody is called twice, and every contact keeps its real call."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import httpx
import pytest

from campaigns import lifecycle
from campaigns.model import Contact
from dialer.campaign import CampaignConfig, CampaignState
from dialer.simulator.config import DEFAULT_AGENT_ID, DEFAULT_API_KEY, DEFAULT_FROM_NUMBER
from dialer.simulator.server import RunningSimulator
from dialer.store import Store
from tests.support import Stack, sim_get, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]

FINAL = {"completed", "voicemail", "no_answer", "failed"}
# Shrunk limits: a create is stuck after 2 s, the call list is searched back to 0.5 s before the
# claim, and a create is concluded "never landed" 8 s after it was sent (the default is 150 s).
TIMING = (
    "lease_s=60,stuck_s=2,requeue_s=3,follow_lease_s=3,reconcile_grace_s=8,"
    "reconcile_limit_s=60,reconcile_margin_s=0.5,post_call_wait_s=2,poll_scale=0.1"
)
FILLER = 250  # other calls made while the workers are down: the first pages of the list


def _submit(store: Store, n: int) -> str:
    config = CampaignConfig(
        campaign_id="r",
        agent_id=DEFAULT_AGENT_ID,
        from_number=DEFAULT_FROM_NUMBER,
        rate_per_s=50,
        max_concurrent=50,
        columns=("phone",),
        window="always",
    )
    contacts = [Contact(r, f"+1415555{r + 3000:04d}", {"phone": ""}) for r in range(1, n + 1)]
    lifecycle.submit(store, config, [contacts])
    lifecycle.start(store, "r")
    return "r"


def _fault(sim: RunningSimulator, **rule: Any) -> str:
    answer = httpx.post(f"{sim.url}/_sim/faults", json=rule)
    answer.raise_for_status()
    fault_id: str = answer.json()["id"]
    return fault_id


def _fault_used_up(sim: RunningSimulator, fault_id: str) -> bool:
    faults = {f["id"]: f for f in sim_get(sim.url, "faults")}  # type: ignore[union-attr]
    return bool(faults[fault_id]["remaining"] == 0)


def _calls_made(sim: RunningSimulator) -> list[dict[str, Any]]:
    return [c for c in sim_get(sim.url, "creates") if c["call_id"]]  # type: ignore[union-attr]


def _fill_call_list(sim: RunningSimulator, n: int) -> None:
    """Other traffic of the same agent: `n` calls made straight at the simulator."""
    headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
    with httpx.Client(base_url=sim.url, headers=headers, timeout=10) as http:
        for i in range(n):
            body = {
                "agent_id": DEFAULT_AGENT_ID,
                "to_number": f"+1415666{i:04d}",
                "from_number": DEFAULT_FROM_NUMBER,
            }
            http.post("/v1/calls", json=body).raise_for_status()


def _wait_done(store: Store, cid: str, timeout: float = 100) -> None:
    wait_until(
        lambda: store.campaign_state(cid) is CampaignState.DONE,
        timeout,
        f"campaign to finish (counts {store.counts(cid)})",
        every=0.2,
    )


def _assert_each_called_once_with_its_call(sim: RunningSimulator, store: Store, cid: str) -> None:
    ours = [c for c in _calls_made(sim) if c["metadata"].get("dialer_campaign") == cid]
    per_number = Counter(c["to_number"] for c in ours)
    twice = {number: n for number, n in per_number.items() if n > 1}
    assert not twice, f"{len(twice)} of {len(per_number)} called more than once: {twice}"
    real = {c["to_number"]: c["call_id"] for c in ours}
    contacts = list(store.iter_contacts(cid))
    assert {c.phone: c.call_id for c in contacts} == real, "every contact with its real call"
    assert {c.state.value for c in contacts} <= FINAL


def test_creates_in_flight_through_a_long_outage_are_found_not_dialled_again(
    stack: Stack, sim: RunningSimulator
) -> None:
    # Every create is held 2 s and made after that; the worker is killed while they are held,
    # stays down while 250 other calls push ours past the first pages of the call list, and
    # longer than the stuck limit and the search margin put together.
    stack.env |= {"DIALER_TIMING": TIMING, "DIALER_READ_TIMEOUT": "30"}
    held = _fault(sim, kind="late", count=40, delay=2)
    victim = stack.worker(concurrency=40)
    cid = _submit(stack.store, 40)
    wait_until(lambda: _fault_used_up(sim, held), 30, "all 40 creates to reach the simulator")
    victim.kill()
    wait_until(lambda: len(_calls_made(sim)) == 40, 30, "the held creates to be made")
    _fill_call_list(sim, FILLER)
    time.sleep(6)  # the outage itself: longer than stuck_s + reconcile_margin_s + the hold
    stack.worker()
    _wait_done(stack.store, cid)
    _assert_each_called_once_with_its_call(sim, stack.store, cid)


def test_a_create_made_after_the_client_gave_up_is_found_not_dialled_again(
    stack: Stack, sim: RunningSimulator
) -> None:
    # The provider holds each create 4 s, past the client's 1.5 s read timeout, then makes it;
    # meanwhile other calls keep arriving. The grace (8 s here) outlasts the hold.
    stack.env |= {"DIALER_TIMING": TIMING, "DIALER_READ_TIMEOUT": "1.5"}
    _fault(sim, kind="late", count=5, delay=4)
    stack.worker()
    cid = _submit(stack.store, 5)
    wait_until(lambda: stack.store.counts(cid).get("reconciling", 0) > 0, 30, "a reconciliation")
    _fill_call_list(sim, FILLER)
    _wait_done(stack.store, cid)
    assert Counter(c["outcome"] for c in _calls_made(sim))["created_late"] == 5
    _assert_each_called_once_with_its_call(sim, stack.store, cid)
