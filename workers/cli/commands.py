"""Imports every command module so that each registers itself on the app."""

from __future__ import annotations

# One import per command module; keep alphabetical.
from workers.cli import (
    beat,  # noqa: F401
    check,  # noqa: F401
    control,  # noqa: F401
    demo,  # noqa: F401
    dnc,  # noqa: F401
    events,  # noqa: F401
    limits,  # noqa: F401
    report,  # noqa: F401
    retry,  # noqa: F401
    run,  # noqa: F401
    schedule,  # noqa: F401
    serve,  # noqa: F401
    simulator,  # noqa: F401
    telephony,  # noqa: F401
    validate,  # noqa: F401
    webhooks,  # noqa: F401
    worker,  # noqa: F401
)
