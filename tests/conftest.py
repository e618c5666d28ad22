"""Shared fixtures: a real redis-server, the simulator over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from dialer.simulator.config import SimulatorConfig
from dialer.simulator.server import RunningSimulator, start_in_thread
from tests.support import RedisServer, Stack


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server for the session; each test that uses `redis_url` gets it empty."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session's Redis, flushed."""
    redis.Redis.from_url(redis_server.url).flushall()
    return redis_server.url


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    """A fast simulator (calls last well under a second) on a free loopback port."""
    with start_in_thread(SimulatorConfig(speed=200.0, seed=3)) as sim:
        yield sim


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def redis_srv(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    with start_in_thread(SimulatorConfig(speed=50.0, seed=11)) as running:
        yield running


@pytest.fixture
def stack(redis_srv: RedisServer, sim: RunningSimulator, tmp_path: Path) -> Iterator[Stack]:
    running = Stack(redis_srv, sim, tmp_path)
    yield running
    running.close()
