"""When a contact may be called: calling windows in the recipient's local time, as pure functions.

A `Window` is a daily period (`08:00-21:00`, or `22:00-02:00` across midnight) on some weekdays;
the weekday is the local day the period *starts*. A contact's zones come from its `timezone`
column or from its number; when there are several, a call is allowed only when every zone is
inside the window (the intersection). An empty zone tuple means "unknown": never allowed.

Each zone's allowed periods are turned into UTC spans and intersected, so DST needs one rule:
a window edge that falls in a spring-forward gap moves to the end of the gap; in a fall-back
overlap a start takes the later occurrence and an end the earlier one (the narrower period).
State rules (`campaigns.state_rules`) narrow the window the same way: a `StateRule` found from the
number's area code gives hours per local day.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from dialer.errors import ConfigError, InputError, option_field
from dialer.phone import time_zones
from dialer.shown import shown


class StateRule(Protocol):
    """What the window needs of a state's rule (`campaigns.state_rules.StateRule` is one): its
    local hours on a date (None: no calls that day) and itself in words."""

    @property
    def state(self) -> str:
        """The state's code, like `TX`."""

    def hours_on(self, day: date) -> tuple[time, time] | None:
        """The hours [start, end) allowed on a local date; (00:00, 00:00) is the whole day."""

    def summary(self) -> str:
        """The rule in words."""


DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_DAYS = frozenset(range(7))
HORIZON = timedelta(days=15)  # how far ahead next_allowed looks before answering "never"
END_OF_TIME = datetime.max.replace(tzinfo=UTC)

Span = tuple[datetime, datetime]  # half-open [start, end), aware UTC


@dataclass(frozen=True)
class Window:
    """A daily calling period in local time. `end <= start` crosses midnight; equal is 24 h."""

    start: time = time(8)
    end: time = time(21)
    days: frozenset[int] = ALL_DAYS
    always: bool = False

    def __str__(self) -> str:
        if self.always:
            return "always"
        end = "24:00" if self.end == self.start == time(0) else f"{self.end:%H:%M}"
        return f"{self.start:%H:%M}-{end} {format_days(self.days)}"


ALWAYS = Window(always=True)
_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


def parse_time(text: str, option: str) -> time:
    """`HH:MM` (24-hour) as a time; ConfigError naming `option` otherwise."""
    m = _HHMM.fullmatch(text.strip())
    if not m:
        raise ConfigError(
            f"{option}: {shown(text.strip())} is not a time of day as HH:MM (00:00-23:59)",
            field=option_field(option),
        )
    return time(int(m[1]), int(m[2]))


def parse_window(text: str, days: str = "all") -> Window:
    """`--window` (`HH:MM-HH:MM` or `always`) and `--days` as a Window.

    The end may be `24:00`. An end before the start crosses midnight (`22:00-02:00`); the same
    start and end is refused, since a 24-hour window is spelt `00:00-24:00`.
    """
    text = text.strip().lower()
    if text == "always":
        return ALWAYS
    first, sep, second = text.partition("-")
    if not sep:
        raise ConfigError(f"--window: {shown(text)} is not HH:MM-HH:MM or 'always'", field="window")
    start = parse_time(first, "--window")
    if second.strip() == "24:00":
        end = time(0)
    else:
        end = parse_time(second, "--window")
        if end == start:
            raise ConfigError(
                f"--window: {shown(text)} is empty; for all day use 00:00-24:00", field="window"
            )
    return Window(start, end, parse_days(days))


def parse_days(text: str, option: str = "--days") -> frozenset[int]:
    """Weekdays (Mon=0) from `mon-fri`, `mon,wed,fri`, `sat-sun`, `fri-mon` (wraps) or `all`."""
    found: set[int] = set()
    for part in text.strip().lower().split(","):
        part = part.strip()
        if part in ("all", "daily"):
            found.update(ALL_DAYS)
            continue
        first, sep, last = part.partition("-")
        a, b = _day(first, text, option), _day(last if sep else first, text, option)
        found.update((a + i) % 7 for i in range((b - a) % 7 + 1))
    return frozenset(found)


def _day(name: str, text: str, option: str) -> int:
    name = name.strip()[:3]
    if name not in DAY_NAMES:
        raise ConfigError(
            f"{option}: {shown(text.strip())}: use day names mon..sun, ranges or 'all'",
            field=option_field(option),
        )
    return DAY_NAMES.index(name)


def format_days(days: frozenset[int]) -> str:
    """The shortest spelling of a set of weekdays: `all`, `mon-fri`, `mon,wed,fri`."""
    if days == ALL_DAYS:
        return "all"
    runs: list[list[int]] = []
    for d in sorted(days):
        if runs and runs[-1][-1] == d - 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    return ",".join(
        DAY_NAMES[r[0]] if len(r) == 1 else f"{DAY_NAMES[r[0]]}-{DAY_NAMES[r[-1]]}" for r in runs
    )


def zones_for(e164: str, timezone_column: str | None = None) -> tuple[ZoneInfo, ...]:
    """The zones to respect for a contact: its `timezone` column, else every zone of its number.

    An empty tuple means no zone is known (phonenumbers says `Etc/Unknown`, as for +800 or
    satellite numbers): such a contact is never inside a window until a timezone column is given.
    """
    if timezone_column and timezone_column.strip():
        return (load_zone(timezone_column.strip()),)
    return tuple(load_zone(name) for name in time_zones(e164))


def load_zone(name: str) -> ZoneInfo:
    """An IANA zone by name; InputError naming it when it does not exist."""
    try:
        return ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise InputError(
            f"unknown time zone {shown(name)} (use an IANA name like Europe/Paris)"
        ) from exc


# --- instants ---------------------------------------------------------------------------------


def local_instant(zone: ZoneInfo, day: date, at: time, *, is_start: bool) -> datetime:
    """The UTC instant a window edge `at` on local `day` stands for (see the module docstring)."""
    naive = datetime.combine(day, at)
    early = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    late = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if early == late:
        return early
    if early < late:  # the wall time happens twice (fall back)
        return late if is_start else early
    return _transition(zone, late, early)  # the wall time never happens (spring forward)


def _transition(zone: ZoneInfo, lo: datetime, hi: datetime) -> datetime:
    """The first instant in (lo, hi] with hi's UTC offset (transitions fall on whole seconds)."""
    target = hi.astimezone(zone).utcoffset()
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        mid = mid.replace(microsecond=0)
        if mid.astimezone(zone).utcoffset() == target:
            hi = mid
        else:
            lo = mid
    return hi


def _days_around(zone: ZoneInfo, now: datetime, horizon: timedelta) -> list[date]:
    first = now.astimezone(zone).date() - timedelta(days=1)
    return [first + timedelta(days=i) for i in range(horizon.days + 2)]


def _period(zone: ZoneInfo, day: date, start: time, end: time) -> Span:
    next_day = day + timedelta(days=1) if end <= start else day
    return (
        local_instant(zone, day, start, is_start=True),
        local_instant(zone, next_day, end, is_start=False),
    )


def _window_spans(zone: ZoneInfo, window: Window, days: list[date]) -> list[Span]:
    if window.always:
        return [(datetime.min.replace(tzinfo=UTC), END_OF_TIME)]
    spans = [_period(zone, d, window.start, window.end) for d in days if d.weekday() in window.days]
    return [s for s in spans if s[0] < s[1]]


def _rule_spans(zone: ZoneInfo, rule: StateRule, days: list[date]) -> list[Span]:
    spans = []
    for d in days:
        hours = rule.hours_on(d)
        if hours is not None:
            spans.append(_period(zone, d, *hours))
    return _merge([s for s in spans if s[0] < s[1]])


def _merge(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _intersect(a: list[Span], b: list[Span]) -> list[Span]:
    out: list[Span] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def allowed_spans(
    now: datetime,
    zones: tuple[ZoneInfo, ...],
    window: Window,
    rule: StateRule | None = None,
    horizon: timedelta = HORIZON,
) -> list[Span]:
    """The UTC periods, from about a day before `now` to `horizon` after, when a call is allowed."""
    if window.always and rule is None:
        return [(datetime.min.replace(tzinfo=UTC), END_OF_TIME)]
    if not zones:
        return []
    result: list[Span] | None = None
    for zone in zones:
        days = _days_around(zone, now, horizon)
        spans = _merge(_window_spans(zone, window, days))
        if rule is not None:
            spans = _intersect(spans, _rule_spans(zone, rule, days))
        result = spans if result is None else _intersect(result, spans)
    limit = now + horizon
    return [(s, min(e, limit)) for s, e in result or [] if s < limit]


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return now.astimezone(UTC)


def next_allowed(
    now: datetime, zones: tuple[ZoneInfo, ...], window: Window, rule: StateRule | None = None
) -> datetime | None:
    """The earliest instant >= now (UTC) when every zone is inside the window and the rule.

    `now` itself when allowed now; None when there is no such instant within HORIZON (an
    unknown zone, or zones too far apart for the window to overlap).
    """
    now = _utc(now)
    for start, end in allowed_spans(now, zones, window, rule):
        if end > now:
            return max(start, now)
    return None


def is_allowed(
    now: datetime, zones: tuple[ZoneInfo, ...], window: Window, rule: StateRule | None = None
) -> bool:
    """True when a call may start at `now`."""
    return next_allowed(now, zones, window, rule) == _utc(now)


def window_end(
    now: datetime, zones: tuple[ZoneInfo, ...], window: Window, rule: StateRule | None = None
) -> datetime | None:
    """When the allowed period containing `now` closes; None when not allowed now.

    END_OF_TIME for `--window always` without rules; at most HORIZON ahead otherwise.
    """
    now = _utc(now)
    for start, end in allowed_spans(now, zones, window, rule):
        if start <= now < end:
            return end
    return None


# --- explanations -----------------------------------------------------------------------------


def _local(at: datetime, zones: tuple[ZoneInfo, ...], limit: int = 3) -> str:
    parts = [f"{at.astimezone(z):%a %H:%M} in {z.key}" for z in zones[:limit]]
    if len(zones) > limit:
        parts.append(f"{len(zones) - limit} more zones")
    return ", ".join(parts)


def _rules_text(window: Window, rule: StateRule | None) -> str:
    text = "no window" if window.always else f"window {window}"
    return f"{text}, {rule.state} rule {rule.summary()}" if rule else text


def explain(
    now: datetime, zones: tuple[ZoneInfo, ...], window: Window, rule: StateRule | None = None
) -> str:
    """Why a contact may or may not be called at `now`, and when it will be, for a person."""
    now = _utc(now)
    if window.always and rule is None:
        return "allowed: calling window off (--window always)"
    if not zones:
        return "unknown time zone: the number gives none; add a timezone column to dial it"
    what = _rules_text(window, rule)
    at = next_allowed(now, zones, window, rule)
    if at is None:
        return (
            f"no time in the next {HORIZON.days} days when {len(zones)} zone(s) "
            f"({_local(now, zones)}) are all inside {what}; give a timezone column"
        )
    if at == now:
        end = window_end(now, zones, window, rule)
        until = "" if end is None else f"; closes {end:%Y-%m-%d %H:%M} UTC"
        return f"allowed: {_local(now, zones)}, {what}{until}"
    return (
        f"waiting: {_local(now, zones)}, {what}; opens {_local(at, zones)} "
        f"({at:%Y-%m-%d %H:%M} UTC)"
    )


# --- start time -------------------------------------------------------------------------------


MIN_YEAR, MAX_YEAR = 2000, 2100


def parse_start_at(
    text: str, tz: str | None, now: datetime, option: str = "--start-at"
) -> datetime:
    """`--start-at` as an aware UTC instant.

    Accepts ISO 8601 with an offset (`2026-03-09T09:00-05:00`, `...Z`), a naive ISO date-time
    read in `--tz`, or `HH:MM` in `--tz`: today, or tomorrow when that time has passed. A
    naive value without `--tz` is refused rather than guessed. Local times in a DST gap move to
    the end of the gap; in an overlap the later occurrence is taken. Years outside 2000-2100 are
    refused (`option` names the setting in messages: --start-at, --deadline).
    """
    text = text.strip()
    try:
        found = _start_at(text, tz, now, option)
    except OverflowError:
        found = None
    if found is None or not MIN_YEAR <= found.year <= MAX_YEAR:
        raise ConfigError(
            f"{option}: {shown(text)} is not between {MIN_YEAR} and {MAX_YEAR}",
            field=option_field(option),
        )
    return found


def _start_at(text: str, tz: str | None, now: datetime, option: str) -> datetime:
    zone = load_zone(tz) if tz else None
    if _HHMM.fullmatch(text):
        if zone is None:
            raise ConfigError(
                f"{option} {shown(text)}: a time of day needs --tz", field=option_field(option)
            )
        at, today = parse_time(text, option), _utc(now).astimezone(zone).date()
        start = local_instant(zone, today, at, is_start=True)
        return (
            start if start >= now else local_instant(zone, today + timedelta(1), at, is_start=True)
        )
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(
            f"{option}: {shown(text)} is not ISO 8601 (2026-03-09T09:00-05:00)",
            field=option_field(option),
        ) from exc
    if parsed.tzinfo is not None:
        return parsed.astimezone(UTC)
    if zone is None:
        raise ConfigError(
            f"{option} {shown(text)} has no UTC offset: add one or give --tz",
            field=option_field(option),
        )
    return local_instant(zone, parsed.date(), parsed.time(), is_start=True)
