"""The campaign guards (dialer.guards, dialer.store.guards): the spend cap and the failure guard,
on a real redis-server and the simulator over HTTP; the counters against a plain model."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import redis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from campaigns.model import Contact
from campaigns.progress import progress
from dialer.calls import Dispatcher, place
from dialer.campaign import CampaignConfig, CampaignState
from dialer.client import OneInboxClient
from dialer.following import follow_up
from dialer.http import make_http_client
from dialer.policy import Timing
from dialer.simulator.config import DEFAULT_AGENT_ID, DEFAULT_API_KEY, DEFAULT_FROM_NUMBER
from dialer.simulator.server import RunningSimulator
from dialer.store import ContactState, Store
from dialer.store.guards import NO_CALL, record_ending, spend
from dialer.tick import Enqueue, tick
from tests.support import sim_get, wait_until

COLUMNS = ("phone",)
FAST = Timing(lease_s=30, stuck_s=0.5, post_call_wait_s=2, poll_scale=0.05)


@pytest.fixture
def dispatcher(redis_url: str, simulator: RunningSimulator) -> Iterator[Dispatcher]:
    http = make_http_client(simulator.url, DEFAULT_API_KEY, connect_timeout=2, read_timeout=2)
    d = Dispatcher(Store.from_url(redis_url), OneInboxClient(http), FAST)
    yield d
    http.close()
    d.store.redis.close()


def _script(sim: RunningSimulator, **patch: Any) -> None:
    httpx.patch(f"{sim.url}/_sim/config", json=patch, timeout=5).raise_for_status()


def _start(d: Dispatcher, n: int, **options: Any) -> str:
    config = CampaignConfig(
        campaign_id="g",
        agent_id=DEFAULT_AGENT_ID,
        from_number=DEFAULT_FROM_NUMBER,
        columns=COLUMNS,
        rate_per_s=100,
        max_concurrent=1,
        **options,
    )
    d.store.create_campaign(config)
    phones = [f"+1415555{row + 300:04d}" for row in range(1, n + 1)]
    d.store.add_contacts(
        "g", [Contact(r, p, {"phone": p}) for r, p in enumerate(phones, 1)], COLUMNS
    )
    d.store.set_campaign_state("g", CampaignState.RUNNING)
    return "g"


def _inline(d: Dispatcher, work: Any) -> Enqueue:
    def run(cid: str, rows: list[int]) -> None:
        for row in rows:
            work(d, cid, row)

    return run


def _drive(d: Dispatcher, cid: str, until: Any, timeout: float = 30) -> None:
    def step() -> bool:
        tick(d.store, _inline(d, place), _inline(d, follow_up), d.timing)
        return bool(until())

    wait_until(step, timeout, "the guard to act", every=0.02)


def _states(d: Dispatcher, cid: str) -> dict[str, int]:
    return {k: v for k, v in d.store.counts(cid).items() if v}


def _creates(sim: RunningSimulator) -> int:
    return len([c for c in sim_get(sim.url, "creates") if c["call_id"]])  # type: ignore[union-attr]


def test_the_failure_guard_pauses_at_the_nth_failed_call_and_says_why(
    dispatcher: Dispatcher, simulator: RunningSimulator
) -> None:
    _script(simulator, default_script=["failed"])
    cid = _start(dispatcher, 8, pause_on_failures="3/5")
    _drive(dispatcher, cid, lambda: dispatcher.store.campaign_state(cid) is CampaignState.PAUSED)
    wait_until(lambda: dispatcher.store.live_inflight(cid) == 0, 10, "no call in progress")
    assert _creates(simulator) == 3  # one call at a time: the third failure stops the fourth
    assert _states(dispatcher, cid) == {"failed": 3, "pending": 5}
    now = progress(dispatcher.store, cid)
    assert now.reason.startswith("paused: 3 of the last 5 calls failed")


def test_the_failure_guard_can_be_off(dispatcher: Dispatcher, simulator: RunningSimulator) -> None:
    _script(simulator, default_script=["failed"])
    cid = _start(dispatcher, 4, pause_on_failures="off")
    _drive(dispatcher, cid, lambda: dispatcher.store.counts(cid).get("failed", 0) == 4)
    assert dispatcher.store.campaign_state(cid) is not CampaignState.PAUSED
    assert progress(dispatcher.store, cid).reason == ""


def test_the_spend_cap_stops_creates_at_the_call_that_would_pass_it(
    dispatcher: Dispatcher, simulator: RunningSimulator
) -> None:
    _script(simulator, default_script=["voicemail"])  # each call under a minute: 2 cents
    cid = _start(dispatcher, 6, max_cost_cents=7)
    _drive(dispatcher, cid, lambda: dispatcher.store.counts(cid).get("expired", 0) == 3)
    wait_until(lambda: dispatcher.store.live_inflight(cid) == 0, 10, "no call in progress")
    # 0 + 1 x 0, then 2 + 1 x 2, then 4 + 1 x 2 pass; 6 + 1 x 2 = 8 cents would not
    assert _creates(simulator) == 3
    assert _states(dispatcher, cid) == {"voicemail": 3, "expired": 3}
    spent = spend(dispatcher.store.redis, cid)
    assert (spent.known_cents, spent.costed, spent.unknown) == (6, 3, 0)
    expired = [c for c in dispatcher.store.iter_contacts(cid) if c.state is ContactState.EXPIRED]
    assert all("spend cap $0.07 was reached" in c.waiting for c in expired)
    assert "spend cap" in progress(dispatcher.store, cid).reason


def test_calls_without_a_cost_are_counted_and_named(
    dispatcher: Dispatcher, simulator: RunningSimulator
) -> None:
    _script(simulator, default_script=["voicemail"], report_costs=False)
    cid = _start(dispatcher, 3, max_cost_cents=1)
    _drive(dispatcher, cid, lambda: dispatcher.store.counts(cid).get("voicemail", 0) == 3)
    assert progress(dispatcher.store, cid).cost == "$0.00 so far; cost unknown for 3 calls"


# -- the counters against a model ---------------------------------------------------------------


@dataclass
class Model:
    """What the guards' counters should hold: a plain reading of the rules."""

    n: int
    m: int
    seen: set[str] = field(default_factory=set)
    known: int = 0
    costed: int = 0
    unknown: int = 0
    recent: list[bool] = field(default_factory=list)  # newest first

    def end(self, call_id: str, cost: str, failed: bool) -> tuple[bool, bool]:
        if call_id in self.seen:
            return False, False
        self.seen.add(call_id)
        if cost == "":
            self.unknown += 1
        elif cost != NO_CALL:
            self.known += int(cost)
            self.costed += 1
        self.recent = [failed, *self.recent][: self.m]
        tripped = sum(self.recent) >= self.n
        if tripped:
            self.recent = []
        return True, tripped


class GuardCounters(RuleBasedStateMachine):
    """Calls end in any order, some twice, with or without a cost; the counters follow the model."""

    client: redis.Redis

    def __init__(self) -> None:
        super().__init__()
        self.client.flushall()
        self.model = Model(n=3, m=5)

    @rule(
        call=st.integers(0, 12).map(lambda i: f"call-{i}"),
        cost=st.sampled_from(["", NO_CALL, "0", "2", "4", "130"]),
        failed=st.booleans(),
    )
    def end_a_call(self, call: str, cost: str, failed: bool) -> None:
        ending = record_ending(self.client, "s", call, cost_cents=cost, failed=failed, guard=(3, 5))
        assert (ending.counted, ending.tripped) == self.model.end(call, cost, failed)

    @invariant()
    def spend_matches(self) -> None:
        spent = spend(self.client, "s")
        assert (spent.known_cents, spent.costed, spent.unknown) == (
            self.model.known,
            self.model.costed,
            self.model.unknown,
        )


def test_the_guard_counters_follow_the_model(redis_url: str) -> None:
    GuardCounters.client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        run_state_machine_as_test(
            GuardCounters,
            settings=settings(
                max_examples=60,
                stateful_step_count=30,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
    finally:
        GuardCounters.client.close()
