"""Probe app for bench/bench_dispatch.py (pace cases): the real dialer worker, plus counters.

It is `workers.celery_app.app` unchanged; Celery signals count the tasks in progress (pool
threads held) and a wrapper around the dispatcher's `sleep` counts the claim loop's waits for a
pace slot. A sampler thread adds, every 5 ms, one to the histogram bucket of the number of
threads busy, and publishes the cumulative counters to the Redis hash `bench:probe:<pid>`:

    sleeps        pace waits inside `calls._claim` (each one holds a pool thread)
    sleep_us      their total length, microseconds
    tasks         tasks finished
    busy:<k>      5 ms samples with k tasks in progress

and, per create, when its worker was about to POST it (this machine's clock, as the simulator
stamps arrivals): the hash `bench:sent`, attempt id -> seconds since the epoch.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from typing import Any

import redis
from celery import signals

from workers.celery_app import app

__all__ = ["app"]

SAMPLE_S = 0.005
_lock = threading.Lock()
_state = {"busy": 0, "tasks": 0, "sleeps": 0, "sleep_us": 0}
_hist: dict[int, int] = {}


@signals.task_prerun.connect
def _pre(**_: Any) -> None:
    with _lock:
        _state["busy"] += 1


@signals.task_postrun.connect
def _post(**_: Any) -> None:
    with _lock:
        _state["busy"] -= 1
        _state["tasks"] += 1


def _sampler() -> None:
    client = redis.Redis.from_url(os.environ["DIALER_REDIS_URL"])
    key = f"bench:probe:{os.getpid()}"
    n = 0
    while True:
        time.sleep(SAMPLE_S)
        with _lock:
            _hist[_state["busy"]] = _hist.get(_state["busy"], 0) + 1
        n += 1
        if n % 20 == 0:
            with _lock:
                fields: dict[str, int] = {f"busy:{k}": v for k, v in _hist.items()}
                fields.update(
                    sleeps=_state["sleeps"], sleep_us=_state["sleep_us"], tasks=_state["tasks"]
                )
            with contextlib.suppress(redis.RedisError):
                client.hset(key, mapping=fields)  # type: ignore[arg-type]


@signals.worker_ready.connect
def _ready(**_: Any) -> None:
    from workers.resources import dispatcher

    d = dispatcher()
    real_sleep = d.sleep

    def counted(seconds: float) -> None:
        with _lock:
            _state["sleeps"] += 1
            _state["sleep_us"] += round(seconds * 1e6)
        real_sleep(seconds)

    d.sleep = counted
    sent = redis.Redis.from_url(os.environ["DIALER_REDIS_URL"])
    real_create = d.client.create_call

    def stamped(request: Any) -> Any:
        at = time.time()
        try:
            return real_create(request)
        finally:
            with contextlib.suppress(redis.RedisError):
                sent.hset("bench:sent", request.metadata["dialer_attempt_id"], repr(at))

    d.client.create_call = stamped  # type: ignore[method-assign]
    threading.Thread(target=_sampler, name="bench-probe", daemon=True).start()
