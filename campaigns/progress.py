"""A campaign's progress as the display, `status` and the API show it: counts, pace, what
waits and why. Read from the store's counters, never by scanning contacts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from campaigns.estimate import Finish, finish_of
from dialer.campaign import CampaignState
from dialer.errors import NoSuchCampaign
from dialer.store import LIVE_STATES, ContactState, Store, health
from dialer.store.claiming import HELD_BY_GAP
from dialer.store.guards import spend

PACE_SAMPLE_S = 30.0  # the pace shown is measured on the creates of the last this many seconds


@dataclass(frozen=True)
class Waiting:
    """Pending contacts that wait for the same kind of thing, and when the first is due."""

    why: str  # "for their window", "for a retry", "for the campaign's start"
    count: int
    next_at: datetime


@dataclass(frozen=True)
class Progress:
    """A snapshot of a campaign for the display."""

    state: CampaignState
    total: int
    counts: dict[str, int]
    reason: str = ""
    dialled: int = 0  # contacts with at least one create sent
    pace_per_s: float = 0.0  # creates per second lately (see `recent_pace`)
    waiting: tuple[Waiting, ...] = ()
    account: str = ""  # waiting for the account's limit, and who shares it ('' = not waiting)
    finish: Finish | None = None  # the estimate (`campaigns.estimate.finish`)
    trouble: str = ""  # OneInbox's errors of the last minute in words ('' = none)
    cost: str = ""  # the carrier cost so far and the calls of unknown cost ('' before any)

    @property
    def pending(self) -> int:
        """Contacts not dialled yet (or waiting for their next attempt)."""
        return self.counts.get(ContactState.PENDING.value, 0)

    @property
    def waiting_count(self) -> int:
        """Pending contacts that are not due yet."""
        return sum(w.count for w in self.waiting)

    @property
    def shown_state(self) -> str:
        """The state to show: `done` once nothing is live, whatever the flag says yet."""
        if self.live == 0 and self.state is not CampaignState.CANCELED:
            return CampaignState.DONE.value
        return self.state.value

    @property
    def live(self) -> int:
        """Contacts not yet final."""
        return sum(self.counts.get(s.value, 0) for s in LIVE_STATES)

    @property
    def done(self) -> int:
        """Contacts that reached a final status."""
        return self.total - self.live


def progress(store: Store, cid: str, now: datetime | None = None) -> Progress:
    """Where the campaign is now."""
    state = store.campaign_state(cid)
    if state is None:
        raise NoSuchCampaign(f"no campaign named {cid!r}")
    now = now or datetime.now(UTC)
    now_ms = round(now.timestamp() * 1000)
    stamps = store.recent_creates(cid, now_ms - round(PACE_SAMPLE_S * 1000))
    found = Progress(
        state,
        store.total(cid),
        store.counts(cid),
        store.campaign_reason(cid),
        dialled=store.dialled(cid),
        pace_per_s=recent_pace(stamps, now_ms, store.campaign(cid).rate_per_s),
        waiting=waiting(store, cid, now),
        account=account_wait(store, cid),
        trouble=_trouble(store, cid, now_ms),
        cost=cost_so_far(store, cid),
    )
    return replace(found, finish=finish_of(store, cid, found, now))


def _trouble(store: Store, cid: str, now_ms: int) -> str:
    seen = health.read(store.redis, cid, now_ms)
    return seen.words() if seen else ""


def cost_so_far(store: Store, cid: str) -> str:
    """`$1.24 so far; cost unknown for 3 calls`, or '' before any call ended."""
    spent = spend(store.redis, cid)
    return spent.describe() if spent.costed or spent.unknown else ""


def recent_pace(stamps_ms: Sequence[int], now_ms: int, limit: float) -> float:
    """Creates per second over the sample: the gaps between the creates sent in it, up to now.

    One create is no pace yet, and a short sample never reads above `limit` (the gaps between
    creates are what the pace spaces out, not the few milliseconds since the first).
    """
    if len(stamps_ms) < 2:
        return 0.0
    span_s = (max(now_ms, stamps_ms[-1]) - stamps_ms[0]) / 1000
    return min(limit, (len(stamps_ms) - 1) / span_s) if span_s > 0 else 0.0


def _kind(reason: str) -> str:
    if reason.startswith(HELD_BY_GAP):
        return "for the re-call gap" + reason.removeprefix(HELD_BY_GAP).split(", next")[0]
    if reason.startswith("attempt "):
        return "for a retry"
    if reason.startswith("waiting: the campaign starts"):
        return "for the campaign's start"
    if reason.startswith("called as often as"):
        return "for the daily call limit"
    return "for their window"


def waiting(store: Store, cid: str, now: datetime) -> tuple[Waiting, ...]:
    """Pending contacts not due yet, grouped by what they wait for, earliest due first."""
    _, reasons = store.waiting(cid)
    now_ms = now.timestamp() * 1000
    groups: dict[str, tuple[int, int]] = {}
    for reason, (count, due_ms) in reasons.items():
        if due_ms <= now_ms:
            continue
        kind = _kind(reason)
        before, earliest = groups.get(kind, (0, due_ms))
        groups[kind] = (before + count, min(earliest, due_ms))
    found = [
        Waiting(kind, count, datetime.fromtimestamp(due / 1000, UTC))
        for kind, (count, due) in groups.items()
    ]
    return tuple(sorted(found, key=lambda w: w.next_at))


def account_wait(store: Store, cid: str) -> str:
    """'' unless the campaign waits for its account's limit now; then which limit, and which
    other campaigns share the account."""
    hold = store.account_hold(cid)
    if not hold:
        return ""
    account = store.account_of(cid)
    which = "calls at once" if hold == "account_busy" else "rate"
    others = [c for c in store.account_campaigns(account) if c != cid]
    shared = f"; shared with {', '.join(others[:5])}" if others else ""
    more = f" and {len(others) - 5} more" if len(others) > 5 else ""
    set_limits = store.limits(account)
    limits = set_limits.describe() if set_limits.any else "the deployment's defaults"
    return f"waits for account {account}'s {which} limit ({limits}){shared}{more}"
