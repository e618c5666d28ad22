"""The Redis and workers `dialer serve` uses: DIALER_REDIS_URL's, or an embedded stack (a
private redis-server, one worker, the scheduler) that lives as long as the server."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property

from celery import Celery

from dialer.settings import Settings
from dialer.store import Store
from workers.celery_app import make_app
from workers.scheduler import run_beat, send_start
from workers.session import worker_env
from workers.stack import embedded_redis, embedded_worker, serving

WORKER_CONCURRENCY = 16


@dataclass
class Stack:
    """The store the server uses, and how to reach its workers."""

    store: Store
    redis_url: str
    embedded: bool

    def fire(self, name: str, payload: str) -> None:
        """Ask a worker to start one occurrence of a scheduled job."""
        send_start(self.celery, name, payload)

    @cached_property
    def celery(self) -> Celery:
        """A Celery app on this stack's Redis, to send work to its workers."""
        return make_app(self.redis_url)


@contextlib.contextmanager
def open_stack(settings: Settings) -> Iterator[Stack]:
    """DIALER_REDIS_URL's Redis (its workers and `dialer beat` run elsewhere), or the embedded
    stack, announced to other `dialer` commands on the same state folder while it runs."""
    if settings.redis_url:
        store = Store.from_url(settings.redis_url)
        store.ping()
        yield Stack(store, settings.redis_url, embedded=False)
        return
    state = settings.state_dir
    state.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(embedded_redis(state))
        log = state / "logs" / "serve-worker.log"
        stack.enter_context(
            embedded_worker(worker_env(settings, server.url), log, WORKER_CONCURRENCY)
        )
        running = Stack(Store.from_url(server.url), server.url, embedded=True)
        stack.enter_context(scheduler(running, settings))
        stack.enter_context(serving(state, server.url))
        yield running


@contextlib.contextmanager
def scheduler(stack: Stack, settings: Settings) -> Iterator[None]:
    """The scheduler loop (`dialer beat`'s) in a thread of this process, stopped on exit."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_beat,
        args=(stack.store, stack.fire, stop),
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
