"""`dialer worker`: a Celery worker for DIALER_REDIS_URL; run as many as you like, anywhere."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from dialer.errors import ConfigError
from dialer.settings import load_settings
from workers import stack
from workers.cli.app import Out, app
from workers.courier import EventTiming
from workers.processes import worker_command
from workers.stack import require_durable


@app.command()
def worker(
    concurrency: Annotated[
        int, typer.Option(help="Threads placing and following calls in this process.", min=1)
    ] = 16,
    name: Annotated[str | None, typer.Option(help="Worker name (default: random@host).")] = None,
    allow_unsafe_redis: Annotated[
        bool,
        typer.Option(
            "--allow-unsafe-redis", help="Dial even if the Redis may lose claims on a crash."
        ),
    ] = False,
    metrics_port: Annotated[
        int | None,
        typer.Option(help="Serve Prometheus metrics at http://127.0.0.1:PORT/metrics.", min=1),
    ] = None,
) -> None:
    """Serve the dialer's queues on DIALER_REDIS_URL (dial, follow, and the tick).

    It refuses to start on a Redis that may lose an acknowledged claim (see the README)."""
    settings = load_settings()
    if allow_unsafe_redis:  # the flag wins over DIALER_ALLOW_UNSAFE_REDIS
        settings = settings.model_copy(update={"allow_unsafe_redis": True})
    if not settings.redis_url:
        raise ConfigError("DIALER_REDIS_URL is not set; `dialer worker` serves a shared Redis")
    settings.require_api_key()
    EventTiming.parse(settings.events_timing)  # a bad DIALER_EVENTS_TIMING is named here
    store = stack.connect(settings.redis_url)
    if warning := require_durable(store, settings):
        Out(stderr=True).print(f"Warning: {warning}", markup=False, highlight=False)
    store.redis.close()
    if metrics_port is not None:  # read by the worker's MetricsStep (DIALER_METRICS_PORT)
        os.environ["DIALER_METRICS_PORT"] = str(metrics_port)
    argv = worker_command(concurrency, name)
    os.execv(argv[0], argv)  # noqa: S606  (argv is ours; no shell, no secrets)
