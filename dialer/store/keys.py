"""Every Redis key the dialer uses is named here (the layout is in `dialer.store`'s docstring),
and so are the keys each Lua script takes, in the order its `-- KEYS:` header declares them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

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
RESULTS = f"{PREFIX}:results"  # a results file's resolved path -> the campaign writing it


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
    """Where the pace's next send slot, `tat` (microseconds of Redis's clock), is kept: the
    campaign's own hash, which the claim reads anyway (one command a claim saved)."""
    return campaign_key(cid)


def sends_key(cid: str) -> str:
    """The send guard's stamps: when the last creates were let through (a list)."""
    return f"{PREFIX}:camp:{cid}:sends"


def creates_key(cid: str) -> str:
    """The creates sent lately, by when they were sent in ms (a sorted set, for the pace shown)."""
    return f"{PREFIX}:camp:{cid}:creates"


def numbers_key(cid: str) -> str:
    """The campaign's contacts by number: E.164 phone -> member (a hash)."""
    return f"{PREFIX}:camp:{cid}:numbers"


def loading_key(cid: str) -> str:
    """Set while a load of the campaign's list is under way: its generation, expiring unless
    the loading process keeps it alive (a string with a TTL; see `dialer.store.loading`)."""
    return f"{PREFIX}:camp:{cid}:loading"


def held_key(cid: str) -> str:
    """Pending contacts a resumed campaign's load has not reached yet, by when they were due:
    out of `ready`, so nobody dials them until the list shows they are still in it (a sorted
    set)."""
    return f"{PREFIX}:camp:{cid}:held"


def contact_key(cid: str, row: int) -> str:
    """Contact `row` (its member id) of campaign `cid` (a hash: its current attempt)."""
    return f"{PREFIX}:camp:{cid}:c:{row}"


def attempt_key(cid: str, row: int, attempt: int) -> str:
    """The contact's finished attempt number `attempt`, kept when it was retried (a hash)."""
    return f"{contact_key(cid, row)}:a:{attempt}"


def call_key(call_id: str) -> str:
    """Which contact a OneInbox call belongs to: `row:cid` (for webhooks)."""
    return f"{PREFIX}:call:{call_id}"


def account_limits_key(account: str) -> str:
    """The account's limits, set by `dialer limits set` (a hash; see `dialer.store.account`)."""
    return f"{PREFIX}:acct:{account}:limits"


def account_campaigns_key(account: str) -> str:
    """Every campaign created on the account (a set)."""
    return f"{PREFIX}:acct:{account}:campaigns"


def account_dnc_key(account: str) -> str:
    """The account's do-not-call list: E.164 number -> when and why it was added, JSON (a
    hash)."""
    return f"{PREFIX}:acct:{account}:dnc"


def ledger_key(account: str, number: str) -> str:
    """The account's creates to one E.164 number in the last 24 hours: `campaign|row|send`
    by Redis time in ms (a sorted set that expires 24 hours after its last create)."""
    return f"{PREFIX}:acct:{account}:called:{number}"


def account_pace_key(account: str) -> str:
    """The account's next send slot, `tat`, shared by all its campaigns (a hash)."""
    return f"{PREFIX}:acct:{account}:pace"


def account_inflight_key(account: str) -> str:
    """The account's concurrency slots held, by lease expiry; members are contact keys (a
    sorted set)."""
    return f"{PREFIX}:acct:{account}:inflight"


def account_sends_key(account: str) -> str:
    """The account's send guard stamps (a list)."""
    return f"{PREFIX}:acct:{account}:sends"


def occurrence_key(occurrence: str) -> str:
    """Set once a scheduled occurrence has been started."""
    return f"{PREFIX}:occurrence:{occurrence}"


@dataclass(frozen=True)
class _Of:
    """Whose keys a script is given: a campaign, one of its contacts, its account, a number."""

    cid: str
    row: int
    account: str
    number: str


_BY_NAME: dict[str, Callable[[_Of], str]] = {
    "contact": lambda of: contact_key(of.cid, of.row),
    "campaign": lambda of: campaign_key(of.cid),
    "counts": lambda of: counts_key(of.cid),
    "ready": lambda of: ready_key(of.cid),
    "queued": lambda of: queued_key(of.cid),
    "inflight": lambda of: inflight_key(of.cid),
    "watch": lambda of: watch_key(of.cid),
    "pace": lambda of: pace_key(of.cid),
    "sends": lambda of: sends_key(of.cid),
    "account_limits": lambda of: account_limits_key(of.account),
    "account_pace": lambda of: account_pace_key(of.account),
    "account_inflight": lambda of: account_inflight_key(of.account),
    "account_sends": lambda of: account_sends_key(of.account),
    "account_dnc": lambda of: account_dnc_key(of.account),
    "ledger": lambda of: ledger_key(of.account, of.number),
    "numbers": lambda of: numbers_key(of.cid),
    "held": lambda of: held_key(of.cid),
}

# The keys of each script in `dialer/store/lua/`, by the names above, in KEYS order. Each script's
# `-- KEYS:` header lists the same names at the same positions (tests/dialer/test_keys.py checks).
# add.lua takes one contact key per contact after these.
SCRIPT_KEYS: dict[str, tuple[str, ...]] = {
    "add": ("counts", "ready", "campaign", "numbers", "held"),
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
        "held",
        "account_limits",
        "account_pace",
        "account_inflight",
        "account_sends",
        "account_dnc",
        "ledger",
    ),
    "pump": ("ready", "queued", "watch"),
    "send": ("sends", "account_limits", "account_sends"),
    "transition": (
        "contact",
        "counts",
        "ready",
        "queued",
        "inflight",
        "watch",
        "account_inflight",
    ),
}


def script_keys(
    script: str, cid: str, row: int = 0, account: str = "", number: str = ""
) -> list[str]:
    """The KEYS of Lua script `script` for campaign `cid` (and contact `row`, the campaign's
    `account` and the contact's `number`), in its order."""
    of = _Of(cid, row, account, number)
    return [_BY_NAME[name](of) for name in SCRIPT_KEYS[script]]


def hook_key(secret: str) -> str:
    """Which campaign a webhook secret belongs to; named by the secret's SHA-256, so the
    lookup compares digests, not the secret itself."""
    return f"{PREFIX}:hook:{hashlib.sha256(secret.encode()).hexdigest()}"


# -- the campaign's guards (issue 26: spend cap and auto-pause; `dialer.store.guards`) ----------


def spend_key(cid: str) -> str:
    """The campaign's carrier cost so far and its endings counted (a hash: known_cents, unknown,
    nocall, endings, over)."""
    return f"{PREFIX}:camp:{cid}:spend"


def ended_calls_key(cid: str) -> str:
    """Call ids (or refused creates) already counted by the guards (a set)."""
    return f"{PREFIX}:camp:{cid}:ended"


def failures_key(cid: str) -> str:
    """The numbers of the campaign's latest failed or errored endings, newest first (a list;
    each ending is numbered by the spend hash's `endings`)."""
    return f"{PREFIX}:camp:{cid}:failures"


_BY_NAME.update(
    {
        "spend": lambda of: spend_key(of.cid),
        "ended": lambda of: ended_calls_key(of.cid),
        "failures": lambda of: failures_key(of.cid),
    }
)
SCRIPT_KEYS["guards"] = ("spend", "ended", "failures")


# -- Events (issue 27): the outbox of signed events to the CRM (see dialer.store.outbox) --------

EVENTS_DUE = f"{PREFIX}:events:due"  # events not yet delivered, by when next to try (a zset)
EVENTS_LOG = f"{PREFIX}:events:log"  # every kept event, by when it was recorded (a zset)
EVENTS_OPEN = f"{PREFIX}:events:open"  # campaigns whose events are still being derived (a set)
EVENTS_SECRET = f"{PREFIX}:events:secret"  # the signing secret, and whether it was shown (hash)
EVENTS_SWEEP = f"{PREFIX}:events:sweep"  # the lease of the one process deriving events


def event_key(event_id: str) -> str:
    """One event: its type, campaign, URL, body, attempts and delivery (a hash)."""
    return f"{PREFIX}:events:e:{event_id}"


def events_seen_key(cid: str) -> str:
    """What the events of campaign `cid` were derived from: its last state reported, the
    number of campaign events, the final contacts counted at the last sweep (a hash)."""
    return f"{PREFIX}:events:camp:{cid}"


def events_done_key(cid: str) -> str:
    """The campaign's contact attempts already reported, `member:attempt` (a set)."""
    return f"{PREFIX}:events:camp:{cid}:done"


# -- the health record (issue 23): OneInbox errors met by the workers, per campaign ----------


def health_key(cid: str) -> str:
    """Campaign `cid`'s last OneInbox error: what, since when, last seen (a hash)."""
    return f"{PREFIX}:health:{cid}"


def health_events_key(cid: str) -> str:
    """Campaign `cid`'s OneInbox errors of the last minute, by kind (a sorted set by ms)."""
    return f"{PREFIX}:health:{cid}:events"
