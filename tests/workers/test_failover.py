"""Redis failover under a running campaign, with real processes: one primary, two replicas and
three sentinels on loopback ports, two Celery workers on `sentinel://`, the simulator over HTTP.

The primary is SIGKILLed mid-campaign; Sentinel promotes a replica; the workers follow it with
no restart and the campaign finishes, nobody called twice and nobody lost. With a replica held
behind a stopped link (it lags), a claim its replicas have not all acknowledged is never sent, so
promoting that lagging replica cannot call anyone twice. The killed primary comes back as a replica.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

import pytest
import redis

from campaigns.model import Contact
from dialer.campaign import CampaignConfig, CampaignState
from dialer.simulator.config import DEFAULT_AGENT_ID, DEFAULT_API_KEY, DEFAULT_FROM_NUMBER
from dialer.simulator.server import RunningSimulator
from dialer.store import Store, campaign_key, contact_key
from tests.sentinels import SentinelGroup, wait_is_replica_of
from tests.support import WORKER_TIMING, RedisServer, Worker, sim_get, wait_until
from workers.celery_app import make_app

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]

FINAL = {"completed", "voicemail", "no_answer", "failed"}
T = TypeVar("T")


@pytest.fixture
def group(tmp_path: Path) -> Iterator[SentinelGroup]:
    running = SentinelGroup(tmp_path / "redis")
    yield running
    running.stop()


@pytest.fixture
def started() -> Iterator[list[Worker]]:
    """The test's worker processes, killed at its end whatever happened."""
    workers: list[Worker] = []
    yield workers
    for worker in workers:
        worker.kill()


def _workers(
    group: SentinelGroup, sim: RunningSimulator, tmp: Path, replicas: int, started: list[Worker]
) -> list[Worker]:
    env = {
        "DIALER_REDIS_URL": group.url,
        "DIALER_REDIS_WAIT_REPLICAS": str(replicas),
        "ONEINBOX_API_KEY": DEFAULT_API_KEY,
        "ONEINBOX_BASE_URL": sim.url,
        "DIALER_TIMING": WORKER_TIMING,
        "DIALER_READ_TIMEOUT": "1.5",
    }
    workers = [Worker(env, tmp / f"worker-{n}.log", concurrency=8) for n in range(2)]
    started.extend(workers)
    control = make_app(group.url).control
    wait_until(lambda: len(control.ping(timeout=0.5) or []) >= 2, 60, "two workers on Sentinel")
    return workers


def _submit(store: Store, n: int, rate: float) -> str:
    config = CampaignConfig(
        campaign_id="f",
        agent_id=DEFAULT_AGENT_ID,
        from_number=DEFAULT_FROM_NUMBER,
        rate_per_s=rate,
        max_concurrent=100,
        columns=("phone",),
        window="always",
    )
    store.create_campaign(config)
    people = [Contact(r, f"+1415556{r:04d}", {"phone": ""}) for r in range(1, n + 1)]
    store.add_contacts("f", people, config.columns)
    store.set_campaign_state("f", CampaignState.RUNNING)
    return "f"


def _retrying(read: Callable[[], T]) -> Callable[[], T | None]:
    """`read`, None while Redis is failing over (the test's own client follows it too)."""

    def attempt() -> T | None:
        try:
            return read()
        except (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError):
            return None

    return attempt


def _wait_done(store: Store, cid: str, timeout: float = 90) -> None:
    state = _retrying(lambda: store.campaign_state(cid))
    wait_until(lambda: state() is CampaignState.DONE, timeout, "the campaign to finish", 0.2)


def _creates(sim: RunningSimulator) -> list[dict[str, Any]]:
    return [c for c in sim_get(sim.url, "creates") if c["call_id"]]  # type: ignore[union-attr]


def _assert_each_called_once(sim: RunningSimulator, store: Store, cid: str, n: int) -> None:
    per_person = Counter(c["to_number"] for c in _creates(sim))
    twice = {number: count for number, count in per_person.items() if count > 1}
    assert not twice, f"called twice: {twice}"
    assert len(per_person) == n, f"{n - len(per_person)} contact(s) never called"
    assert {contact.state for contact in store.iter_contacts(cid)} <= FINAL


def _pause_s(sim: RunningSimulator) -> float:
    """The longest time without a create reaching OneInbox: the failover's cost."""
    times = sorted(c["t"] for c in _creates(sim))
    return max(later - earlier for earlier, later in pairwise(times))


def test_primary_killed_mid_campaign_sentinel_promotes_and_the_campaign_finishes(
    group: SentinelGroup,
    sim: RunningSimulator,
    tmp_path: Path,
    record_property: Any,
    started: list[Worker],
) -> None:
    _workers(group, sim, tmp_path, replicas=1, started=started)
    store = Store.from_url(group.url)
    cid = _submit(store, 300, rate=20)
    wait_until(lambda: len(_creates(sim)) >= 60, 60, "the campaign to be well under way")

    old = group.primary()
    old.kill()
    killed_at = time.time()
    new = group.wait_promoted(old)
    promoted_s = time.time() - killed_at
    _wait_done(store, cid)

    _assert_each_called_once(sim, store, cid, 300)
    pause = _pause_s(sim)
    record_property("promoted_after_s", round(promoted_s, 2))
    record_property("pause_without_creates_s", round(pause, 2))
    print(f"\nfailover: promoted after {promoted_s:.1f} s, creates paused {pause:.1f} s")

    group.restart(old)  # the old primary returns, as a replica of the new one
    wait_is_replica_of(old, new)
    assert old.client().hget(campaign_key(cid), "state") == "done"


def test_a_lagging_replica_promoted_lacks_no_sent_claim(
    group: SentinelGroup, sim: RunningSimulator, tmp_path: Path, started: list[Worker]
) -> None:
    """WAIT for both replicas: with one cut off, no claim is acknowledged, so none is sent;
    that replica, promoted, lacks only claims whose creates never left."""
    primary = group.primary()
    lagging, healthy = group.replicas()
    healthy.client().config_set("replica-priority", "0")  # Sentinel may promote only `lagging`
    _workers(group, sim, tmp_path, replicas=2, started=started)
    store = Store.from_url(group.url)
    cid = _submit(store, 40, rate=20)
    wait_until(lambda: len(_creates(sim)) >= 5, 30, "the campaign to be under way")

    group.cut_off(lagging)
    before = _touched(primary, 40)
    wait_until(
        lambda: len(_settled(primary, 40) - before) >= 5, 30, "claims the replica lacks, settled"
    )
    primary.kill()
    assert lagging.process is not None
    lagging.process.send_signal(signal.SIGCONT)
    new = group.wait_promoted(primary)
    assert new is lagging

    group.restart(primary)  # back as a replica: WAIT for two can be met again
    wait_is_replica_of(primary, new)
    _wait_done(store, cid)
    _assert_each_called_once(sim, store, cid, 40)


def _rows(primary: RedisServer, n: int) -> dict[int, tuple[str, str]]:
    client = primary.client()
    found = {row: client.hmget(contact_key("f", row), "state", "error") for row in range(1, n + 1)}
    return {row: (state or "", error or "") for row, (state, error) in found.items()}


def _touched(primary: RedisServer, n: int) -> set[int]:
    """Rows the primary has claimed so far (dialling or after, or let go unacknowledged)."""
    return {row for row, (state, error) in _rows(primary, n).items() if state != "pending" or error}


def _settled(primary: RedisServer, n: int) -> set[int]:
    """Rows whose claim is settled: its create sent (placed or after), or let go because the
    replicas did not acknowledge it."""
    return {
        row
        for row, (state, error) in _rows(primary, n).items()
        if state not in ("", "pending", "dialing") or "replica" in error
    }
