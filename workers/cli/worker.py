"""`dialer worker`: a Celery worker for DIALER_REDIS_URL; run as many as you like, anywhere."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from dialer.errors import ConfigError
from dialer.settings import load_settings
from workers.cli.app import app
from workers.embedded import worker_command


@app.command()
def worker(
    concurrency: Annotated[
        int, typer.Option(help="Threads placing and following calls in this process.", min=1)
    ] = 16,
    name: Annotated[str | None, typer.Option(help="Worker name (default: random@host).")] = None,
) -> None:
    """Serve the dialer's queues on DIALER_REDIS_URL (dial, follow, and the tick)."""
    settings = load_settings()
    if not settings.redis_url:
        raise ConfigError("DIALER_REDIS_URL is not set; `dialer worker` serves a shared Redis")
    settings.require_api_key()
    argv = worker_command(concurrency, name)
    os.execv(argv[0], argv)  # noqa: S606  (argv is ours; no shell, no secrets)
