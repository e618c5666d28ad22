"""What the pages show beyond the API's views: calls in progress, recent calls, when a campaign
started, and times in words. Read from the same store as the API, never a copy of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from dialer.store import LIVE_STATES, ContactRecord, ContactState, Store
from workers.server import views

RECENT = 10
SCAN_LIMIT = 2000  # contacts read for the calls in progress and the recent calls
SCAN_AHEAD = 200  # rows past the dialled count read too (claimed out of order)
STARTED_SAMPLE = 50
STATE_WORDS = {
    "running": "Running",
    "paused": "Paused",
    "done": "Done",
    "canceled": "Canceled",
}


@dataclass(frozen=True)
class CallLine:
    """One contact's call as the campaign page lists it."""

    row: int
    phone: str
    state: str
    outcome: str
    duration_s: str
    when: str


@dataclass
class Activity:
    """Calls in progress, the latest calls to end, and when the first call was made."""

    in_progress: list[CallLine] = field(default_factory=list)
    recent: list[CallLine] = field(default_factory=list)
    started: datetime | None = None


def state_words(summary: views.CampaignSummary) -> str:
    """The campaign's state in words ("Paused: the API key was refused" when stopped)."""
    words = STATE_WORDS.get(summary.state, summary.state)
    return f"{words}: {summary.stopped_reason}" if summary.stopped_reason else words


def activity(store: Store, cid: str, dialled: int, now: datetime | None = None) -> Activity:
    """The campaign's calls in progress and recent calls. Contacts are dialled in about the
    order of their rows, so the rows read are the `SCAN_LIMIT` up to just past the `dialled`-th
    (a campaign's size does not change the cost of a page)."""
    found = Activity(started=started(store, cid))
    last = dialled + SCAN_AHEAD
    rows = list(range(max(1, last - SCAN_LIMIT), last + 1))
    ended: list[ContactRecord] = []
    for record in store.contacts(cid, rows):
        if record is None:
            continue
        if record.state in LIVE_STATES and record.state is not ContactState.PENDING:
            found.in_progress.append(_line(record, now))
        elif record.state not in LIVE_STATES and record.call_id:
            ended.append(record)
    ended.sort(key=lambda r: r.updated_at_ms, reverse=True)
    found.recent = [_line(r, now) for r in ended[:RECENT]]
    return found


def started(store: Store, cid: str) -> datetime | None:
    """When the campaign's first call was made, from its first rows (dialled first)."""
    times = [_began(r) for r in store.contacts(cid, list(range(1, STARTED_SAMPLE + 1))) if r]
    return min((t for t in times if t), default=None)


def _began(record: ContactRecord) -> datetime | None:
    if record.claimed_at_ms:
        return datetime.fromtimestamp(record.claimed_at_ms / 1000, UTC)
    return record.placed_at


def _line(record: ContactRecord, now: datetime | None) -> CallLine:
    updated = (
        datetime.fromtimestamp(record.updated_at_ms / 1000, UTC) if record.updated_at_ms else None
    )
    return CallLine(
        row=record.source_row,
        phone=record.phone,
        state=record.state.value,
        outcome=record.outcome or record.end_reason or record.error,
        duration_s=record.duration_seconds,
        when=ago(updated, now) if updated else "",
    )


def duration(seconds: float) -> str:
    """A duration in words: "45 s", "12 min", "3 h 10 min", "2 days 4 h"."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    minutes, hours = s // 60, s // 3600
    if s < 3600:
        return f"{minutes} min"
    if s < 86400:
        return f"{hours} h {minutes % 60} min" if minutes % 60 else f"{hours} h"
    days = s // 86400
    return f"{days} day{'s' if days > 1 else ''} {hours % 24} h"


def ago(at: datetime, now: datetime | None = None) -> str:
    """A past instant in words: "just now", "5 min ago"."""
    seconds = ((now or datetime.now(UTC)) - at).total_seconds()
    return "just now" if seconds < 5 else f"{duration(seconds)} ago"


def ahead(at: datetime, now: datetime | None = None) -> str:
    """A coming instant in words, with its date: "in 3 h 10 min (Mon 1 Dec 10:00 UTC)"."""
    seconds = (at - (now or datetime.now(UTC))).total_seconds()
    stamp = f"{at:%a} {at.day} {at:%b %H:%M} {at.tzname() or 'UTC'}"
    return f"in {duration(seconds)} ({stamp})" if seconds > 0 else f"now ({stamp})"


def eta(detail: views.CampaignDetail) -> str:
    """The estimated time left in words, or a dash when there is none."""
    if detail.eta_s is None:
        return detail.eta or "—"
    return f"{duration(detail.eta_s)} (limited by {detail.limited_by})"


def percent(summary: views.CampaignSummary) -> int:
    """How much of the campaign is final, 0-100."""
    return round(100 * summary.done / summary.total) if summary.total else 100
