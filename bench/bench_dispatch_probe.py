"""Probe app for bench/bench_dispatch.py (pace cases): the real dialer worker, plus counters.

It is `workers.celery_app.app` unchanged; Celery signals count the tasks in progress (pool
threads held) and a wrapper around the dispatcher's `sleep` counts the claim loop's waits for a
pace slot. A sampler thread adds, every 5 ms, one to the histogram bucket of the number of
threads busy, and publishes the cumulative counters to the Redis hash `bench:probe:<pid>`:

    sleeps        pace waits inside `calls._claim` (each one holds a pool thread)
    sleep_us      their total length, microseconds
    tasks         tasks finished
    busy:<k>      5 ms samples with k tasks in progress

and, per create, on this machine's clock (as the simulator stamps arrivals), the hash
`bench:sent`, attempt id -> "asked guard post wire": seconds since the epoch when the send guard let
it through (the claim's or `pass_send_guard`'s answer read), when its worker was about to POST
it, and when httpcore began writing its request to the socket (after "asked": when the
claim or `pass_send_guard` that let it through was sent).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import sys
import threading
import time
from typing import Any

import httpx
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
                fields.update(_state)
                del fields["busy"]
            with contextlib.suppress(redis.RedisError):
                client.hset(key, mapping=fields)  # type: ignore[arg-type]


_local = threading.local()


def _attempt(request: Any) -> str:
    """The attempt id a create carries (a built `httpx.Request`, or a `CallRequest`)."""
    if isinstance(request, httpx.Request):
        return str(json.loads(request.content)["metadata"]["dialer_attempt_id"])
    return str(request.metadata["dialer_attempt_id"])


def _stamp_guard(store: Any) -> None:
    """Note, per thread, when the send guard last let a create through."""
    real_claim, real_pass = store.claim, store.pass_send_guard

    def claim(*args: Any, **kw: Any) -> Any:
        asked = time.time()
        answer = real_claim(*args, **kw)
        if answer.guard_passed:
            _local.asked, _local.guard = asked, time.time()
        return answer

    def pass_send_guard(*args: Any, **kw: Any) -> Any:
        asked = time.time()
        wait = real_pass(*args, **kw)
        if wait <= 0:
            _local.asked, _local.guard = asked, time.time()
        return wait

    store.claim, store.pass_send_guard = claim, pass_send_guard


def _stamp_wire() -> None:
    """Note, per thread, when a request's bytes are first written to its socket (by
    `http.client`, the dialer's transport, or httpcore, a base tree's), and count connects."""
    real_put = http.client.HTTPConnection.send
    real_open = http.client.HTTPConnection.connect

    def put(self: Any, data: Any) -> None:
        if getattr(_local, "wire", None) == 0.0:
            _local.wire = time.time()
        real_put(self, data)

    def open_(self: Any) -> None:
        with _lock:
            _state["connects"] = _state.get("connects", 0) + 1
        real_open(self)

    http.client.HTTPConnection.send = put  # type: ignore[method-assign]
    http.client.HTTPConnection.connect = open_  # type: ignore[method-assign]
    from httpcore._backends import sync

    real_write = sync.SyncStream.write

    def write(self: Any, buffer: bytes, timeout: float | None = None) -> None:
        if getattr(_local, "wire", None) == 0.0:
            _local.wire = time.time()
        real_write(self, buffer, timeout)

    sync.SyncStream.write = write  # type: ignore[method-assign]
    real_connect = sync.SyncBackend.connect_tcp

    def connect_tcp(self: Any, *args: Any, **kw: Any) -> Any:
        with _lock:
            _state["connects"] = _state.get("connects", 0) + 1
        return real_connect(self, *args, **kw)

    sync.SyncBackend.connect_tcp = connect_tcp  # type: ignore[method-assign]
    real_send = httpx.Client.send

    def send(self: Any, request: Any, **kw: Any) -> Any:
        with _lock:
            _state["requests"] = _state.get("requests", 0) + 1
        return real_send(self, request, **kw)

    httpx.Client.send = send  # type: ignore[method-assign]


@signals.worker_ready.connect
def _ready(**_: Any) -> None:
    if os.environ.get("PACE_SWITCH"):  # an experiment's switch interval, seconds
        sys.setswitchinterval(float(os.environ["PACE_SWITCH"]))
    from workers.resources import dispatcher

    d = dispatcher()
    real_sleep = d.sleep

    def counted(seconds: float) -> None:
        with _lock:
            _state["sleeps"] += 1
            _state["sleep_us"] += round(seconds * 1e6)
        real_sleep(seconds)

    d.sleep = counted
    _stamp_guard(d.store)
    _stamp_wire()
    if os.environ.get("PACE_KEEPALIVE"):  # an experiment's pool of idle connections kept
        pool = d.client._http._transport._pool  # type: ignore[attr-defined]
        pool._max_keepalive_connections = int(os.environ["PACE_KEEPALIVE"])
    sent = redis.Redis.from_url(os.environ["DIALER_REDIS_URL"])
    # A tree older than `send_create` (./dev bench's base) sends through `create_call`.
    name = "send_create" if hasattr(d.client, "send_create") else "create_call"
    real_send = getattr(d.client, name)

    def stamped(request: Any) -> Any:
        at = time.time()
        _local.wire = 0.0
        try:
            return real_send(request)
        finally:
            guard = f"{getattr(_local, 'asked', 0.0)!r} {getattr(_local, 'guard', 0.0)!r}"
            stamps = f"{guard} {at!r} {_local.wire!r}"
            with contextlib.suppress(redis.RedisError):
                sent.hset("bench:sent", _attempt(request), stamps)

    setattr(d.client, name, stamped)
    threading.Thread(target=_sampler, name="bench-probe", daemon=True).start()
