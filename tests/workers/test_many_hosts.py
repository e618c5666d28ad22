"""Workers on two "hosts", as the README's "Workers on many hosts" section runs them: each host its
own folder, state folder and environment, both on one Sentinel deployment. They share the
campaign's pace, never dial one contact twice, and a host drained with a warm shutdown leaves
the rest of the campaign to the other."""

from __future__ import annotations

import os
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dialer.campaign import CampaignState
from dialer.simulator.config import DEFAULT_API_KEY
from dialer.simulator.server import RunningSimulator
from dialer.store import Store
from tests.sentinels import SentinelGroup
from tests.support import (
    WORKER_TIMING,
    campaign_args,
    dialer_cli,
    dialer_env,
    dialer_exe,
    sim_get,
    wait_until,
)
from workers.celery_app import make_app

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]

CONTACTS = 60
RATE = 10


@pytest.fixture
def group(tmp_path: Path) -> Iterator[SentinelGroup]:
    running = SentinelGroup(tmp_path / "redis")
    yield running
    running.stop()


def _host(group: SentinelGroup, sim: RunningSimulator, folder: Path) -> dict[str, str]:
    """One machine's environment: the README's exports, its own state folder."""
    (folder / "state").mkdir(parents=True)
    return {
        "DIALER_REDIS_URL": group.url,
        "DIALER_REDIS_WAIT_REPLICAS": "2",
        "ONEINBOX_API_KEY": DEFAULT_API_KEY,
        "ONEINBOX_BASE_URL": sim.url,
        "DIALER_STATE_DIR": str(folder / "state"),
        "DIALER_TIMING": WORKER_TIMING,
    }


def _worker(env: dict[str, str], folder: Path, name: str) -> subprocess.Popen[bytes]:
    """`dialer worker --concurrency 4 --name worker@NAME`, run in the host's folder."""
    with (folder / "worker.log").open("wb") as log:
        return subprocess.Popen(
            [dialer_exe(), "worker", "--concurrency", "4", "--name", f"worker@{name}"],
            env=dialer_env(env),
            cwd=folder,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )


def _creates(sim: RunningSimulator) -> list[dict[str, Any]]:
    return [c for c in sim_get(sim.url, "creates") if c["call_id"]]  # type: ignore[union-attr]


def _most_in_a_second(times: list[float]) -> int:
    times, best, start = sorted(times), 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def _dials_by_worker(group: SentinelGroup) -> dict[str, int]:
    stats = make_app(group.url).control.inspect(timeout=2).stats() or {}
    return {name: s.get("total", {}).get("dialer.dial", 0) for name, s in stats.items()}


def test_two_hosts_share_the_pace_and_never_dial_one_contact_twice(
    group: SentinelGroup, sim: RunningSimulator, tmp_path: Path
) -> None:
    one, two = tmp_path / "host-one", tmp_path / "host-two"
    env_one, env_two = _host(group, sim, one), _host(group, sim, two)
    workers = [_worker(env_one, one, "one"), _worker(env_two, two, "two")]
    try:
        control = make_app(group.url).control
        wait_until(lambda: len(control.ping(timeout=0.5) or []) >= 2, 60, "both hosts' workers")
        rows = [f"+1415557{n:04d}" for n in range(1, CONTACTS + 1)]
        (one / "contacts.csv").write_text("phone\n" + "\n".join(rows) + "\n", encoding="utf-8")
        args = campaign_args("run", "contacts.csv", "--campaign", "hosts", "--detach")
        submitted = dialer_cli([*args, "--rate", f"{RATE}/s"], env_one, cwd=one)
        assert submitted.returncode == 0, submitted.stdout + submitted.stderr

        wait_until(lambda: len(_creates(sim)) >= CONTACTS // 3, 60, "a third of the creates")
        busy = _dials_by_worker(group)
        assert set(busy) == {"worker@one", "worker@two"} and min(busy.values()) > 0, busy

        workers[1].send_signal(signal.SIGTERM)  # drain host two: a warm shutdown
        assert workers[1].wait(timeout=60) == 0
        store = Store.from_url(group.url)
        done = lambda: store.campaign_state("hosts") is CampaignState.DONE  # noqa: E731
        wait_until(done, 90, "host one to finish the campaign", 0.2)
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()

    per_person = Counter(c["to_number"] for c in _creates(sim))
    assert sorted(per_person) == rows and set(per_person.values()) == {1}, per_person
    assert _most_in_a_second([c["t"] for c in _creates(sim)]) <= RATE + 1
    assert "Warm shutdown" in (two / "worker.log").read_text()
