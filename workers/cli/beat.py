"""`dialer beat`: the scheduler of scheduled batch jobs (one active; others are standbys)."""

from __future__ import annotations

import signal
import threading
from datetime import datetime, timedelta
from functools import partial
from types import FrameType

from dialer.errors import ConfigError
from dialer.settings import load_settings
from workers import stack
from workers.celery_app import make_app
from workers.cli.app import Out, app
from workers.scheduler import run_beat, send_start


@app.command()
def beat() -> None:
    """Fire scheduled jobs on time (schedules live in DIALER_REDIS_URL; `dialer schedule`).

    Run one, or several for failover: a lease in Redis keeps exactly one firing, and each
    occurrence starts one campaign however often it is fired. Back after being down, it fires
    only each job's latest missed occurrence, if missed by at most DIALER_BEAT_LATENESS_S.
    """
    settings = load_settings()
    if not settings.redis_url:
        raise ConfigError("DIALER_REDIS_URL is not set; `dialer beat` serves a shared Redis")
    store = stack.connect(settings.redis_url)
    stop = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    Out().print(f"Scheduler running ({datetime.now():%H:%M:%S}); Ctrl-C stops it.")
    fire = partial(send_start, make_app(settings.redis_url))
    lateness = timedelta(seconds=settings.beat_lateness_s)
    run_beat(store, fire, stop, every_s=settings.beat_every_s, lateness=lateness)
