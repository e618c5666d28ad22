"""The names the tick, the tasks and the worker command agree on: queues, tasks, the app."""

from __future__ import annotations

DIAL_QUEUE = "dialer.dial"
FOLLOW_QUEUE = "dialer.follow"

DIAL_TASK = "dialer.dial"
FOLLOW_TASK = "dialer.follow"
START_SCHEDULED_TASK = "dialer.start_scheduled"

# What `celery -A` loads: the module whose `app` attribute is the worker's app (built on use).
CELERY_APP = "workers.celery_app"
