"""The one place that opens the campaign store, starting the embedded stack when needed.

    DIALER_REDIS_URL set     its Redis; `dialer worker` and `dialer beat` run elsewhere
    `dialer serve` running   its embedded Redis and worker (on the same state folder)
    neither                  a private redis-server and worker processes (`workers.processes`),
                             started for the block and stopped after it

`open_store` serves the commands (`dialer run` and the others), `open_stack` the server (whose
embedded stack also runs the scheduler and is announced to the commands while it runs).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from campaigns.preflight import Infra
from dialer.errors import ConfigError
from dialer.private import private_dir
from dialer.settings import Settings, env_file
from dialer.store import Store, durability
from workers.processes import (
    embedded_redis,
    embedded_worker,
    joined_url,
    redis_server_binary,
    served_url,
    serving,
)
from workers.scheduler import run_beat

SERVE_WORKER_CONCURRENCY = 16


def connect(url: str, *, ping: bool = True) -> Store:
    """The store on the Redis at `url` (pinged first, so a wrong URL fails here)."""
    store = Store.from_url(url)
    if ping:
        store.ping()
    return store


def worker_env(settings: Settings, redis_url: str, *, only: str = "") -> dict[str, str]:
    """The environment an embedded worker needs (the key travels here, never in argv).

    `only`: the one campaign its tick serves (a `dialer run`'s); empty, every campaign.
    """
    env = {
        "DIALER_REDIS_URL": redis_url,
        "DIALER_SERVE_ONLY": only,
        "ONEINBOX_BASE_URL": settings.base_url,
        "DIALER_CONNECT_TIMEOUT": str(settings.connect_timeout),
        "DIALER_READ_TIMEOUT": str(settings.read_timeout),
        "DIALER_TIMING": settings.timing,
        "DIALER_LOG_FORMAT": settings.log_format,
    }
    if settings.account_rate:
        env["DIALER_ACCOUNT_RATE"] = settings.account_rate
    if settings.account_max_concurrent:
        env["DIALER_ACCOUNT_MAX_CONCURRENT"] = str(settings.account_max_concurrent)
    if settings.api_key is not None:
        env["ONEINBOX_API_KEY"] = settings.api_key.get_secret_value()
    return env


def embedded(settings: Settings) -> bool:
    """True when `open_store` starts the embedded stack (no DIALER_REDIS_URL, no `dialer serve`
    running on the state folder)."""
    return not (settings.redis_url or served_url(settings.state_dir))


@contextlib.contextmanager
def open_store(
    settings: Settings,
    *,
    workers: int = 1,
    concurrency: int = 16,
    only: str | Callable[[Store], str] = "",
    join: bool = False,
) -> Iterator[Store]:
    """The campaign store, with the embedded stack started around it when needed.

    A running `dialer serve` on the same state folder lends its Redis and its worker; with
    `join` (commands that only read or steer), so does the embedded Redis of a running
    `dialer run`. The embedded workers serve only campaign `only` when it is given (or
    `only(store)`, asked once Redis is up): other unfinished campaigns wait for their own run.
    """
    url = settings.redis_url or served_url(settings.state_dir)
    if not url and join:
        url = joined_url(settings.state_dir)
    if url:
        yield connect(url)
        return
    private_dir(settings.state_dir)
    with embedded_redis(settings.state_dir) as server, contextlib.ExitStack() as stack:
        store = connect(server.url, ping=False)
        served = only(store) if callable(only) else only
        env = worker_env(settings, server.url, only=served)
        for n in range(workers):
            log = settings.state_dir / "logs" / f"worker-{n}.log"
            stack.enter_context(embedded_worker(env, log, concurrency))
        yield store


def require_durable(store: Store, settings: Settings) -> str:
    """Refuse to dial on a Redis that may lose an acknowledged claim (a crash would then dial its
    contact twice), unless the operator allowed it; returns the warning to show in that case."""
    found = durability(store, settings.redis_wait_replicas)
    if found.durable:
        return ""
    risk = (
        f"Redis at {found.server} can lose a claim: {found.problem}. A lost claim makes its "
        "contact pending again, and it is dialled twice."
    )
    if settings.allow_unsafe_redis:
        return f"{risk} Dialling anyway (--allow-unsafe-redis / DIALER_ALLOW_UNSAFE_REDIS)."
    raise ConfigError(
        f"{risk} Nothing was dialled. To fix it, {found.fix}; or, to accept the risk, pass "
        "--allow-unsafe-redis (or set DIALER_ALLOW_UNSAFE_REDIS=1).",
        field="allow_unsafe_redis",
    )


Ping = Callable[[str], Callable[[], list[Any] | None]]  # the workers' ping on a Redis URL
Fire = Callable[[str], Callable[[str, str], None]]  # scheduled jobs' firing on a Redis URL


def preflight_infra(settings: Settings, ping: Ping) -> Infra:
    """Where a campaign would run, for a preflight before any store is open: DIALER_REDIS_URL's
    Redis and its workers, or the embedded stack (its redis-server must be installed)."""
    if not settings.redis_url:
        redis_server_binary()
        return Infra(env_file=env_file())
    url = settings.redis_url
    return Infra(connect(url, ping=False), ping(url), env_file())


def run_infra(settings: Settings, store: Store, ping: Ping) -> Infra:
    """Where a campaign runs, for the preflight of `dialer run` (its store open)."""
    if not settings.redis_url:
        return Infra(store, env_file=env_file())
    return Infra(store, ping(settings.redis_url), env_file())


@dataclass
class Stack:
    """The store the server uses, and where its workers are."""

    store: Store
    redis_url: str
    embedded: bool


@contextlib.contextmanager
def open_stack(settings: Settings, fire: Fire) -> Iterator[Stack]:
    """`dialer serve`'s: DIALER_REDIS_URL's Redis (its workers and `dialer beat` run
    elsewhere), or the embedded stack with the scheduler, announced to other `dialer` commands
    on the same state folder while it runs."""
    if settings.redis_url:
        yield Stack(connect(settings.redis_url), settings.redis_url, embedded=False)
        return
    state = settings.state_dir
    state.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(embedded_redis(state))
        log = state / "logs" / "serve-worker.log"
        env = worker_env(settings, server.url)
        stack.enter_context(embedded_worker(env, log, SERVE_WORKER_CONCURRENCY))
        running = Stack(connect(server.url, ping=False), server.url, embedded=True)
        stack.enter_context(scheduler(running.store, fire(server.url), settings))
        stack.enter_context(serving(state, server.url))
        yield running


@contextlib.contextmanager
def scheduler(store: Store, fire: Callable[[str, str], None], settings: Settings) -> Iterator[None]:
    """The scheduler loop (`dialer beat`'s) in a thread of this process, stopped on exit."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_beat,
        args=(store, fire, stop),
        kwargs={
            "every_s": settings.beat_every_s,
            "lateness": timedelta(seconds=settings.beat_lateness_s),
        },
        name="dialer-beat",
        daemon=True,
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)
