"""Scheduled batch jobs as data: a cron expression read in a time zone, and its occurrences.

Pure functions of the time they are given. An occurrence is named by its local date and time
(`2026-12-01T10:00`), so a job fired twice for the same occurrence (two schedulers, a failover)
names the same campaign, and the store creates it once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dialer.errors import ConfigError

_NAMES = {
    "dow": {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))},
    "month": {m: i + 1 for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )},
}  # fmt: skip
_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12), ("dow", 0, 7))
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,48}$")
MAX_LATENESS = timedelta(minutes=15)  # an occurrence missed by more than this is skipped


@dataclass(frozen=True)
class Cron:
    """A parsed five-field cron expression (minute hour day-of-month month day-of-week)."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool
    any_weekday: bool

    def matches(self, local: datetime) -> bool:
        """True when the local wall-clock minute is an occurrence."""
        if local.minute not in self.minutes or local.hour not in self.hours:
            return False
        if local.month not in self.months:
            return False
        day_ok = local.day in self.days
        weekday_ok = (local.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:  # classic cron: restricted fields must all match
            return day_ok and weekday_ok
        return day_ok or weekday_ok  # both restricted: either matches


def _value(token: str, field: str, low: int, high: int, text: str) -> int:
    names = _NAMES.get(field, {})
    number = names.get(token.lower()) if token.lower() in names else None
    if number is None:
        if not token.isdigit():
            raise ConfigError(f"--cron {text!r}: {token!r} is not valid for the {field} field")
        number = int(token)
    if not low <= number <= high:
        raise ConfigError(f"--cron {text!r}: {field} {number} is outside {low}-{high}")
    return number


def _field(spec: str, field: str, low: int, high: int, text: str) -> frozenset[int]:
    values: set[int] = set()
    for part in spec.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise ConfigError(f"--cron {text!r}: bad step in {part!r}")
        if base == "*":
            start, end = low, high
        else:
            first, _, last = base.partition("-")
            start = _value(first, field, low, high, text)
            end = _value(last, field, low, high, text) if last else (high if step else start)
        values.update(range(start, end + 1, step or 1))
    if field == "dow" and 7 in values:
        values = (values - {7}) | {0}
    return frozenset(values)


def parse_cron(text: str) -> Cron:
    """`"0 10 * * mon-fri"` as a Cron; ConfigError naming --cron otherwise."""
    parts = text.split()
    if len(parts) != 5:
        raise ConfigError(f"--cron {text!r}: needs 5 fields (minute hour day month weekday)")
    sets = [_field(p, f, lo, hi, text) for p, (f, lo, hi) in zip(parts, _FIELDS, strict=True)]
    minutes, hours, days, months, weekdays = sets
    return Cron(
        text,
        minutes,
        hours,
        days,
        months,
        weekdays,
        any_day=parts[2] == "*",
        any_weekday=parts[4] == "*",
    )


def check_zone(name: str) -> ZoneInfo:
    """The zone for --tz; ConfigError when it does not exist."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"--tz {name!r} is not a time zone (like Europe/Paris)") from exc


def check_name(name: str) -> str:
    """Schedule names: 1-49 letters, digits, '-' or '_' (they become campaign ids)."""
    if not _NAME.match(name):
        raise ConfigError(f"schedule name {name!r}: use letters, digits, '-' or '_' (max 49)")
    return name


def occurrences(cron: Cron, zone: ZoneInfo, after: datetime, until: datetime) -> list[datetime]:
    """Occurrences in (after, until], as aware UTC instants, minute by minute (keep it short)."""
    found = []
    minute = after.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    while minute <= until:
        if cron.matches(minute.astimezone(zone)):
            found.append(minute)
        minute += timedelta(minutes=1)
    return found


def next_occurrence(cron: Cron, zone: ZoneInfo, after: datetime) -> datetime | None:
    """The first occurrence after `after` within a year (None for e.g. `0 0 31 2 *`)."""
    day = after.astimezone(zone).date()
    for _ in range(366):
        local_day = datetime(day.year, day.month, day.day, tzinfo=zone)
        if local_day.month in cron.months:
            for hour in sorted(cron.hours):
                for minute in sorted(cron.minutes):
                    at = local_day.replace(hour=hour, minute=minute)
                    if at.astimezone(UTC) > after and cron.matches(at):
                        return at.astimezone(UTC)
        day += timedelta(days=1)
    return None


def occurrence_id(name: str, at: datetime, zone: ZoneInfo) -> str:
    """The campaign id of one occurrence: the schedule's name and its local date and time."""
    return f"{name}-{at.astimezone(zone):%Y%m%d-%H%M}"
