"""The dispatch promises, with real worker processes, a real redis-server and the simulator over
HTTP: pace and concurrency held across two workers, exactly one create per attempt when tasks
are duplicated, workers are SIGKILLed mid-create and mid-poll, or Redis restarts."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import httpx
import pytest

from campaigns import lifecycle
from campaigns.model import Contact
from dialer.campaign import CampaignConfig, CampaignState
from dialer.simulator.config import (
    DEFAULT_AGENT_ID,
    DEFAULT_FROM_NUMBER,
)
from dialer.simulator.server import RunningSimulator
from dialer.store import Store
from tests.support import RedisServer, Stack, sim_get, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

FINAL = {"completed", "voicemail", "no_answer", "failed"}


def _submit(store: Store, n: int, *, rate: float = 50, max_concurrent: int = 50) -> str:
    config = CampaignConfig(
        campaign_id="d",
        agent_id=DEFAULT_AGENT_ID,
        from_number=DEFAULT_FROM_NUMBER,
        rate_per_s=rate,
        max_concurrent=max_concurrent,
        columns=("phone",),
        window="always",
    )
    contacts = [Contact(r, f"+1415555{r + 1000:04d}", {"phone": ""}) for r in range(1, n + 1)]
    lifecycle.submit(store, config, [contacts])
    lifecycle.start(store, "d")
    return "d"


def _wait_done(store: Store, cid: str, timeout: float = 90) -> None:
    wait_until(
        lambda: store.campaign_state(cid) is CampaignState.DONE,
        timeout,
        f"campaign to finish (counts {store.counts(cid)})",
        every=0.2,
    )


def _creates(sim: RunningSimulator) -> list[dict[str, Any]]:
    return [c for c in sim_get(sim.url, "creates") if c["call_id"]]  # type: ignore[union-attr]


def _assert_exactly_once(sim: RunningSimulator, store: Store, cid: str, n: int) -> None:
    per_attempt = Counter(c["metadata"]["dialer_attempt_id"] for c in _creates(sim))
    assert len(per_attempt) == n, "every contact dialled"
    assert max(per_attempt.values()) == 1, f"a contact was dialled twice: {per_attempt}"
    states = {contact.state for contact in store.iter_contacts(cid)}
    assert states <= FINAL, states


def _max_in_window(times: list[float], window: float = 1.0) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_pace_holds_across_two_workers(stack: Stack, sim: RunningSimulator) -> None:
    # Pace is measured where OneInbox sees it: arrivals at the simulator. Workers still booting
    # compete for the 2 cores and delay their first sends by up to ~0.3 s after the (perfectly
    # spaced) claims, so the count starts once both are up.
    stack.worker()
    stack.worker()
    stack.wait_ready(2)
    cid = _submit(stack.store, 30, rate=10)
    _wait_done(stack.store, cid)
    _assert_exactly_once(sim, stack.store, cid, 30)
    times = [c["t"] for c in _creates(sim)]
    assert _max_in_window(times) <= 11  # the rate, +1 for the window's edges


def test_concurrency_cap_holds_across_two_workers(stack: Stack, sim: RunningSimulator) -> None:
    httpx.patch(f"{sim.url}/_sim/config", json={"speed": 20.0}).raise_for_status()
    stack.worker()
    stack.worker()
    cid = _submit(stack.store, 12, rate=100, max_concurrent=3)
    _wait_done(stack.store, cid)
    _assert_exactly_once(sim, stack.store, cid, 12)
    assert sim_get(sim.url, "stats")["max_active"] <= 3  # type: ignore[index]


def test_duplicate_task_deliveries_place_one_call(stack: Stack, sim: RunningSimulator) -> None:
    from workers.celery_app import DIAL_QUEUE, make_app

    app = make_app(stack.env["DIALER_REDIS_URL"])
    cid = _submit(stack.store, 3, rate=100)
    for _ in range(10):
        for row in (1, 2, 3):
            app.send_task("dialer.dial", args=(cid, row), queue=DIAL_QUEUE)
    stack.worker()
    stack.worker()
    _wait_done(stack.store, cid)
    _assert_exactly_once(sim, stack.store, cid, 3)


def test_worker_killed_in_the_middle_of_a_create(stack: Stack, sim: RunningSimulator) -> None:
    # The call is created at once, but its answer takes 6 s: the worker dies waiting for it.
    httpx.post(
        f"{sim.url}/_sim/faults", json={"kind": "timeout", "count": 1, "delay": 6}
    ).raise_for_status()
    victim = stack.worker()
    cid = _submit(stack.store, 1)
    wait_until(lambda: len(_creates(sim)) == 1, 30, "the create to reach the simulator")
    victim.kill()
    stack.worker()
    _wait_done(stack.store, cid)
    _assert_exactly_once(sim, stack.store, cid, 1)


def test_worker_killed_in_the_middle_of_a_poll(stack: Stack, sim: RunningSimulator) -> None:
    # The first GET of the call is held 5 s at the simulator: the worker dies while it waits.
    slow = httpx.post(
        f"{sim.url}/_sim/faults", json={"kind": "slow", "endpoint": "get", "count": 1, "delay": 5}
    )
    slow.raise_for_status()
    victim = stack.worker()
    cid = _submit(stack.store, 1)

    def poll_in_flight() -> bool:  # the simulator took the fault: the GET has arrived
        faults = {f["id"]: f for f in sim_get(sim.url, "faults")}  # type: ignore[union-attr]
        return faults[slow.json()["id"]]["remaining"] == 0

    wait_until(poll_in_flight, 30, "the first poll to reach the simulator")
    contact = stack.store.contact(cid, 1)
    assert (contact.state, contact.polls) == ("placed", 0)  # and it has not returned
    victim.kill()
    stack.worker()
    _wait_done(stack.store, cid)
    _assert_exactly_once(sim, stack.store, cid, 1)


def test_redis_restart_mid_campaign(
    stack: Stack, sim: RunningSimulator, redis_srv: RedisServer
) -> None:
    stack.worker()
    cid = _submit(stack.store, 20, rate=5)
    wait_until(lambda: len(_creates(sim)) >= 5, 30, "the first creates")
    redis_srv.stop()
    time.sleep(1.0)
    redis_srv.start()
    _wait_done(stack.store, cid)
    _assert_exactly_once(sim, stack.store, cid, 20)
