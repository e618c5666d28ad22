"""Durable claims: the embedded Redis fsyncs every write before acknowledging it, and an external
Redis that may lose an acknowledged claim on a crash is refused before anything is dialled,
unless the operator accepts the risk (--allow-unsafe-redis, DIALER_ALLOW_UNSAFE_REDIS=1).

A crash itself (power cut, lost AOF tail) cannot be produced here; these tests check the
configuration that decides whether it would lose a claim.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from campaigns.model import Contact
from dialer.calls import Dispatcher, place
from dialer.campaign import CampaignConfig, CampaignState
from dialer.client import OneInboxClient
from dialer.http import make_http_client
from dialer.settings import Settings
from dialer.simulator.config import DEFAULT_AGENT_ID, DEFAULT_API_KEY, DEFAULT_FROM_NUMBER
from dialer.simulator.server import RunningSimulator
from dialer.store import Store, contact_key, durability, replicated
from tests.support import (
    ROOT,
    RedisServer,
    Worker,
    campaign_args,
    cli_env,
    dialer_cli,
    dialer_env,
    dialer_exe,
    sim_get,
    wait_until,
)
from workers import stack
from workers.celery_app import make_app

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]


def _creates(sim: RunningSimulator) -> list[dict[str, Any]]:
    return sim_get(sim.url, "creates")  # type: ignore[return-value]


def _contacts(path: Path, n: int) -> None:
    rows = ["phone,name"] + [f"+1415555{3000 + i:04d},person {i}" for i in range(1, n + 1)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_embedded_redis_fsyncs_every_write_before_acknowledging_it(tmp_path: Path) -> None:
    settings = Settings(redis_url=None, state_dir=tmp_path / "state")
    with stack.open_store(settings, workers=0) as store:
        found = store.redis.config_get("append*")
        assert (found["appendonly"], found["appendfsync"]) == ("yes", "always")
        assert durability(store).durable
        assert stack.require_durable(store, settings) == ""


def test_probe_says_what_a_crash_would_lose(redis_srv: RedisServer) -> None:
    client = redis_srv.client()
    store = Store(client)
    assert durability(store).durable

    client.config_set("appendfsync", "everysec")
    found = durability(store)
    assert not found.durable
    assert "appendfsync is everysec" in found.problem
    assert "appendfsync always" in found.fix

    client.config_set("appendonly", "no")
    assert "appendonly is off" in durability(store).problem


def test_probe_without_config_says_it_cannot_tell(redis_srv: RedisServer) -> None:
    """A managed Redis often forbids CONFIG: the probe says so, and names no password."""
    redis_srv.client().acl_setuser(
        "app", enabled=True, passwords=["+s3cret-pw"], keys=["*"], commands=["+@all", "-config"]
    )
    url = f"redis://app:s3cret-pw@127.0.0.1:{redis_srv.port}/0"
    store = Store.from_url(url)
    found = durability(store)
    assert not found.durable
    assert "CONFIG GET is not allowed" in found.problem
    assert found.server == f"127.0.0.1:{redis_srv.port}"
    assert "s3cret" not in found.problem + found.fix + found.server
    store.redis.close()


@pytest.fixture
def everysec(redis_srv: RedisServer) -> RedisServer:
    """An external Redis as Redis ships it: append-only, fsynced once a second."""
    redis_srv.client().config_set("appendfsync", "everysec")
    return redis_srv


def test_everysec_redis_is_refused_before_any_create(
    everysec: RedisServer, sim: RunningSimulator, tmp_path: Path
) -> None:
    env = cli_env(sim, tmp_path, DIALER_REDIS_URL=everysec.url)
    _contacts(tmp_path / "contacts.csv", 3)
    # A worker that would dial whatever `dialer run` submitted: nothing must reach it.
    worker = Worker(env, tmp_path / "worker.log")
    try:
        make_app(everysec.url).control.ping(timeout=5)
        refused = dialer_cli(campaign_args("run", "contacts.csv"), env, cwd=tmp_path)
        worker_refused = dialer_cli(["worker"], env, cwd=tmp_path)
    finally:
        worker.stop()
    for result in (refused, worker_refused):
        assert result.returncode == 2, result.stdout + result.stderr
        assert "appendfsync is everysec" in result.stderr
        assert "--allow-unsafe-redis" in result.stderr
        assert "DIALER_ALLOW_UNSAFE_REDIS=1" in result.stderr
        assert "Traceback" not in result.stderr
    assert _creates(sim) == []
    assert not everysec.client().keys("dialer:camp:*")


@pytest.fixture
def unsafe_worker(everysec: RedisServer, sim: RunningSimulator, tmp_path: Path) -> Iterator[str]:
    """`dialer worker` on the everysec Redis, allowed by DIALER_ALLOW_UNSAFE_REDIS=1."""
    env = cli_env(sim, tmp_path, DIALER_REDIS_URL=everysec.url, DIALER_ALLOW_UNSAFE_REDIS="1")
    with (tmp_path / "worker.log").open("wb") as log:
        process = subprocess.Popen(
            [dialer_exe(), "worker", "--concurrency", "4"],
            env=dialer_env(env),
            cwd=ROOT,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    try:
        control = make_app(everysec.url).control
        wait_until(lambda: bool(control.ping(timeout=0.5)), 60, "`dialer worker` to answer")
        yield (tmp_path / "worker.log").read_text()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def test_everysec_redis_dials_when_the_operator_accepts_the_risk(
    everysec: RedisServer, sim: RunningSimulator, tmp_path: Path, unsafe_worker: str
) -> None:
    assert "appendfsync is everysec" in unsafe_worker  # the worker warned
    env = cli_env(sim, tmp_path, DIALER_REDIS_URL=everysec.url)
    _contacts(tmp_path / "contacts.csv", 3)
    args = campaign_args("run", "contacts.csv", "--allow-unsafe-redis")
    done = dialer_cli(args, env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Dialling anyway" in done.stdout
    assert sorted(c["to_number"] for c in _creates(sim)) == [
        f"+1415555{3000 + i:04d}" for i in (1, 2, 3)
    ]


# -- the WAIT path: a replica acknowledges each claim before its create ----------------------


@pytest.fixture
def replica(everysec: RedisServer, tmp_path: Path) -> Iterator[RedisServer]:
    """A second redis-server replicating `everysec`, connected and in sync."""
    server = RedisServer(tmp_path / "replica")
    server.start()
    server.client().replicaof("127.0.0.1", everysec.port)
    master = everysec.client()
    wait_until(
        lambda: (
            int(master.info("replication")["connected_slaves"]) == 1
            and server.client().info("replication")["master_link_status"] == "up"
        ),
        30,
        "the replica to sync",
    )
    yield server
    server.stop()


def _campaign(store: Store, n: int) -> str:
    columns = ("phone", "name")
    config = CampaignConfig(
        campaign_id="w",
        agent_id=DEFAULT_AGENT_ID,
        from_number=DEFAULT_FROM_NUMBER,
        columns=columns,
        rate_per_s=100,
    )
    store.create_campaign(config)
    people = [f"+1415555{4000 + row:04d}" for row in range(1, n + 1)]
    contacts = [Contact(row, p, {"phone": p, "name": "x"}, {}) for row, p in enumerate(people, 1)]
    store.add_contacts("w", contacts, columns)
    store.set_campaign_state("w", CampaignState.RUNNING)
    return "w"


@contextlib.contextmanager
def stalled(server: RedisServer) -> Iterator[None]:
    """The replica stays connected but acknowledges nothing (a lagging or hung replica)."""
    assert server.process is not None
    server.process.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        server.process.send_signal(signal.SIGCONT)


def test_a_claim_no_replica_acknowledges_goes_back_to_pending_undialled(
    everysec: RedisServer, replica: RedisServer, simulator: RunningSimulator
) -> None:
    store = Store.from_url(everysec.url)
    assert durability(store, wait_replicas=1).durable
    http = make_http_client(simulator.url, DEFAULT_API_KEY, connect_timeout=2, read_timeout=2)
    dispatcher = Dispatcher(store, OneInboxClient(http), replicas=1)
    cid = _campaign(store, 2)

    place(dispatcher, cid, 1)
    assert [c["to_number"] for c in _creates(simulator)] == ["+14155554001"]
    assert replica.client().hget(contact_key(cid, 1), "state") in {"dialing", "placed"}

    with stalled(replica):
        place(dispatcher, cid, 2)
        assert len(_creates(simulator)) == 1
        contact = store.contact(cid, 2)
        assert contact is not None
        assert contact.state == "pending"
        assert "replica" in contact.error

    place(dispatcher, cid, 2)  # the replica is back: the released contact is dialled, once
    assert [c["to_number"] for c in _creates(simulator)] == ["+14155554001", "+14155554002"]
    http.close()
    store.redis.close()


def test_replicated_waits_for_writes_made_on_another_connection(
    everysec: RedisServer, replica: RedisServer
) -> None:
    """A pooled client may send the claim and the WAIT on two connections."""
    writer, waiter = Store.from_url(everysec.url), Store.from_url(everysec.url)
    assert replicated(waiter, 1, timeout_s=2)
    with stalled(replica):
        writer.redis.set("claimed", "1")
        assert not replicated(waiter, 1, timeout_s=0.3)
    writer.redis.close()
    waiter.redis.close()


def test_losing_the_replica_is_refused_at_start(
    everysec: RedisServer, replica: RedisServer
) -> None:
    store = Store.from_url(everysec.url)
    replica.kill()
    master = everysec.client()
    wait_until(lambda: master.info("replication")["connected_slaves"] == 0, 10, "the loss")
    found = durability(store, wait_replicas=1)
    assert not found.durable
    assert "0 replica(s) are connected" in found.problem
    store.redis.close()


def test_worker_waiting_for_a_replica_refuses_a_redis_without_one(
    everysec: RedisServer, sim: RunningSimulator, tmp_path: Path
) -> None:
    env = cli_env(sim, tmp_path, DIALER_REDIS_URL=everysec.url, DIALER_REDIS_WAIT_REPLICAS="1")
    refused = dialer_cli(["worker"], env, cwd=tmp_path)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "DIALER_REDIS_WAIT_REPLICAS is 1 but 0 replica(s) are connected" in refused.stderr
