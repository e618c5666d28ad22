"""Every Redis key the dialer uses is named here (the layout is in `dialer.store`'s docstring)."""

from __future__ import annotations

PREFIX = "dialer"
ACTIVE = f"{PREFIX}:active"
TICK_LEASE = f"{PREFIX}:tick"
BEAT_LEASE = f"{PREFIX}:beat"
SCHEDULES = f"{PREFIX}:schedules"
INDEXES = ("ready", "queued", "inflight", "watch")
OCCURRENCES = f"{PREFIX}:occurrence"
SCHEDULE_RUNS = f"{PREFIX}:schedule-runs"


def campaign_key(cid: str, suffix: str = "") -> str:
    """Key of campaign `cid`, or of one of its parts."""
    return f"{PREFIX}:camp:{cid}" + (f":{suffix}" if suffix else "")


def contact_key(cid: str, row: int) -> str:
    """Key of the contact at source row `row` of campaign `cid`."""
    return campaign_key(cid, f"c:{row}")
