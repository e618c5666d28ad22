"""The Celery application: Redis broker, reliable delivery settings, and the tick.

Late acks with a prefetch of one, results ignored (state lives in our own keys), one visibility
timeout for every worker, and no ETA or countdown anywhere (the tick enqueues work when it is
due).

Nothing is built at import. `make_app` builds an app; `celery -A workers.celery_app` (the
workers, Flower) reads this module's `app`, which is `make_app()` built on that first read.
"""

from __future__ import annotations

import functools
import gc
import signal
from collections.abc import Callable
from typing import Any

from celery import Celery, signals

from dialer.redis_url import celery_options
from dialer.settings import load_settings
from workers.courier import CourierStep
from workers.logs import configure
from workers.metrics import MetricsStep
from workers.queues import DIAL_QUEUE, DIAL_TASK, FOLLOW_QUEUE, FOLLOW_TASK
from workers.ticker import TickStep

VISIBILITY_TIMEOUT_S = 3600


def make_app(broker_url: str | None = None) -> Celery:
    """A Celery app on `broker_url` (default: DIALER_REDIS_URL); its workers run the tick."""
    url = broker_url or load_settings().redis_url or "redis://127.0.0.1:6379/0"
    where = celery_options(url)  # a sentinel:// URL in kombu's form, and its options
    app = Celery("dialer", broker=where.pop("broker_url"), include=["workers.tasks"])
    transport = {"visibility_timeout": VISIBILITY_TIMEOUT_S}
    transport.update(where.pop("broker_transport_options"))
    where.get("result_backend_transport_options", {})["visibility_timeout"] = VISIBILITY_TIMEOUT_S
    app.conf.update(
        where,
        broker_transport_options=transport,
        visibility_timeout=VISIBILITY_TIMEOUT_S,
        broker_connection_retry_on_startup=True,
        task_acks_late=True,
        task_reject_on_worker_lost=False,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_default_queue=DIAL_QUEUE,
        task_routes={DIAL_TASK: {"queue": DIAL_QUEUE}, FOLLOW_TASK: {"queue": FOLLOW_QUEUE}},
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
    )
    app.steps["worker"].add(TickStep)
    app.steps["worker"].add(CourierStep)
    app.steps["worker"].add(MetricsStep)
    return app


@functools.cache
def _worker_app() -> Celery:
    return make_app()


def __getattr__(name: str) -> Celery:
    """`app`, for `celery -A workers.celery_app`: `make_app()`, built on first use."""
    if name == "app":
        return _worker_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@signals.worker_ready.connect  # type: ignore[untyped-decorator]
def _freeze(**_: object) -> None:
    """Objects built while the worker started live as long as it does: keep them out of the
    garbage collector's full collections, which otherwise stall every thread for tens of ms
    (a send late by that much bunches the creates OneInbox sees)."""
    gc.freeze()


@signals.worker_ready.connect  # type: ignore[untyped-decorator]
def _hangup_stops(**_: object) -> None:
    """SIGHUP (a closed terminal, `kill -HUP`) stops the worker warmly, as SIGTERM does.

    Celery's own handler re-executes the worker in place, which fails for a worker started as
    `python -m celery` (a traceback, then no worker); the supervisor restarts it if need be.
    """
    signal.signal(signal.SIGHUP, signal.getsignal(signal.SIGTERM))


@signals.setup_logging.connect  # type: ignore[untyped-decorator]
def _logging(**_: object) -> None:
    """Workers log like every dialer process (DIALER_LOG_FORMAT), without the API key."""
    settings = load_settings()
    key = settings.api_key.get_secret_value() if settings.api_key else ""
    configure(settings.log_format, secrets=[key])


def worker_ping(broker_url: str) -> Callable[[], list[Any] | None]:
    """Ask the workers on `broker_url` to answer (the preflight's check that some run)."""
    control = make_app(broker_url).control
    return lambda: control.ping(timeout=1.0)
