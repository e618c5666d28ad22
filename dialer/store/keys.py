"""Every Redis key the dialer uses is named here (the layout is in `dialer.store`'s docstring),
and so are the keys each Lua script takes, in the order its `-- KEYS:` header declares them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

PREFIX = "dialer"
ACTIVE = f"{PREFIX}:active"
CAMPAIGNS = f"{PREFIX}:campaigns"
# Set once the campaigns created before the CAMPAIGNS index existed have been added to it.
CAMPAIGNS_INDEXED = f"{PREFIX}:campaigns-indexed"
CAMPAIGN_KEYS = f"{PREFIX}:camp:*"  # a SCAN pattern: every campaign's keys
TICK_LEASE = f"{PREFIX}:tick"
BEAT_LEASE = f"{PREFIX}:beat"
SCHEDULES = f"{PREFIX}:schedules"
REPLICATED = f"{PREFIX}:replicated"  # written to mark a point the replicas must reach
SCHEDULE_RUNS = f"{PREFIX}:schedule-runs"
SCHEDULE_ERRORS = f"{PREFIX}:schedule-errors"
BEAT_SEEN = f"{PREFIX}:beat-seen"
LISTS = f"{PREFIX}:lists"  # a list file's resolved path -> the id of its campaign (a hash)


def campaign_key(cid: str) -> str:
    """Campaign `cid`'s settings, state and totals (a hash)."""
    return f"{PREFIX}:camp:{cid}"


def campaign_parts(cid: str) -> str:
    """A SCAN pattern matching every key of campaign `cid` but its own hash (its ids hold no
    glob characters: `check_campaign_id`)."""
    return f"{PREFIX}:camp:{cid}:*"


def counts_key(cid: str) -> str:
    """The campaign's contacts per state (a hash)."""
    return f"{PREFIX}:camp:{cid}:counts"


def ready_key(cid: str) -> str:
    """Pending contacts, by when they are due (a sorted set)."""
    return f"{PREFIX}:camp:{cid}:ready"


def queued_key(cid: str) -> str:
    """Pending contacts with a dial task in flight, by enqueue time (a sorted set)."""
    return f"{PREFIX}:camp:{cid}:queued"


def inflight_key(cid: str) -> str:
    """Concurrency slots held, by lease expiry (a sorted set)."""
    return f"{PREFIX}:camp:{cid}:inflight"


def watch_key(cid: str) -> str:
    """Contacts with follow-up work, by when it is due (a sorted set)."""
    return f"{PREFIX}:camp:{cid}:watch"


def pace_key(cid: str) -> str:
    """The pace's next send slot, `tat`, in microseconds of Redis's clock (a hash)."""
    return f"{PREFIX}:camp:{cid}:pace"


def sends_key(cid: str) -> str:
    """The send guard's stamps: when the last creates were let through (a list)."""
    return f"{PREFIX}:camp:{cid}:sends"


def numbers_key(cid: str) -> str:
    """The campaign's contacts by number: E.164 phone -> member (a hash)."""
    return f"{PREFIX}:camp:{cid}:numbers"


def contact_key(cid: str, row: int) -> str:
    """Contact `row` (its member id) of campaign `cid` (a hash: its current attempt)."""
    return f"{PREFIX}:camp:{cid}:c:{row}"


def attempt_key(cid: str, row: int, attempt: int) -> str:
    """The contact's finished attempt number `attempt`, kept when it was retried (a hash)."""
    return f"{contact_key(cid, row)}:a:{attempt}"


def call_key(call_id: str) -> str:
    """Which contact a OneInbox call belongs to: `row:cid` (for webhooks)."""
    return f"{PREFIX}:call:{call_id}"


def occurrence_key(occurrence: str) -> str:
    """Set once a scheduled occurrence has been started."""
    return f"{PREFIX}:occurrence:{occurrence}"


_BY_NAME: dict[str, Callable[[str, int], str]] = {
    "contact": contact_key,
    "campaign": lambda cid, _row: campaign_key(cid),
    "counts": lambda cid, _row: counts_key(cid),
    "ready": lambda cid, _row: ready_key(cid),
    "queued": lambda cid, _row: queued_key(cid),
    "inflight": lambda cid, _row: inflight_key(cid),
    "watch": lambda cid, _row: watch_key(cid),
    "pace": lambda cid, _row: pace_key(cid),
    "sends": lambda cid, _row: sends_key(cid),
    "numbers": lambda cid, _row: numbers_key(cid),
}

# The keys of each script in `dialer/lua/`, by the names above, in KEYS order. Each script's
# `-- KEYS:` header lists the same names at the same positions (tests/test_keys.py checks).
# add.lua takes one contact key per contact after these.
SCRIPT_KEYS: dict[str, tuple[str, ...]] = {
    "add": ("counts", "ready", "campaign", "numbers"),
    "claim": (
        "contact",
        "counts",
        "campaign",
        "ready",
        "queued",
        "inflight",
        "watch",
        "pace",
        "sends",
    ),
    "pump": ("ready", "queued", "watch"),
    "send": ("sends",),
    "transition": ("contact", "counts", "ready", "queued", "inflight", "watch"),
}


def script_keys(script: str, cid: str, row: int = 0) -> list[str]:
    """The KEYS of Lua script `script` for campaign `cid` (and contact `row`), in its order."""
    return [_BY_NAME[name](cid, row) for name in SCRIPT_KEYS[script]]


def hook_key(secret: str) -> str:
    """Which campaign a webhook secret belongs to; named by the secret's SHA-256, so the
    lookup compares digests, not the secret itself."""
    return f"{PREFIX}:hook:{hashlib.sha256(secret.encode()).hexdigest()}"
