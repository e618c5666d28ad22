"""`dialer beat`: the scheduler for scheduled batch jobs (RedBeat: schedules live in Redis)."""

from __future__ import annotations

import os
import sys

from dialer.errors import ConfigError
from dialer.settings import load_settings
from workers.cli.app import app


def beat_command() -> list[str]:
    """argv of the Celery beat process, with the schedule kept in Redis (RedBeat).

    RedBeat holds a lock in Redis, so a second beat (a standby) waits instead of firing twice.
    """
    return [
        sys.executable, "-m", "celery", "-A", "workers.celery_app", "beat",
        "-S", "redbeat.RedBeatScheduler", "-l", "WARNING",
    ]


@app.command()
def beat() -> None:
    """Run the scheduler on DIALER_REDIS_URL (one active at a time; more are standbys)."""
    if not load_settings().redis_url:
        raise ConfigError("DIALER_REDIS_URL is not set; `dialer beat` serves a shared Redis")
    argv = beat_command()
    os.execv(argv[0], argv)  # noqa: S606  (argv is ours; no shell, no secrets)
