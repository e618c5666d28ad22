"""Scheduled batch jobs as data: a cron expression read in a time zone, and its occurrences.

Pure functions of the time they are given. Cron is read by `cronsim` (Debian cron's rules,
daylight-saving changes included). An occurrence is named by its local date and time
(`2026-12-01T10:00`), so a job fired twice for the same occurrence (two schedulers, a failover)
names the same campaign, and the store creates it once.

The firing rule: an occurrence is due when it is later than the moment its job was added or last
changed, no later than now, and late by no more than the lateness limit; of those only the latest
is due. A scheduler that was down fires at most one occurrence per job when it comes back.
"""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from dialer.errors import ConfigError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,45}$")  # + "-YYYYMMDD-HHMM-now": 64
RESULTS_FIELDS = ("name", "date", "time", "campaign")  # what a --results template may use
_SAMPLE = dict.fromkeys(RESULTS_FIELDS, "x")


def check_cron(text: str) -> str:
    """`"0 10 * * mon-fri"` if it is a five-field cron expression; ConfigError naming --cron."""
    if len(text.split()) != 5:
        raise ConfigError(
            f"--cron {text!r}: needs 5 fields (minute hour day month weekday)", field="cron"
        )
    try:
        CronSim(text, datetime(2000, 1, 1, tzinfo=UTC))
    except CronSimError as exc:
        raise ConfigError(f"--cron {text!r}: {str(exc).lower()} field", field="cron") from exc
    return text


def check_zone(name: str) -> ZoneInfo:
    """The zone for --tz; ConfigError when it does not exist."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"--tz {name!r} is not a time zone (like Europe/Paris)", field="tz"
        ) from exc


def check_name(name: str) -> str:
    """Schedule names: 1-46 letters, digits, '-' or '_' (they become campaign ids)."""
    if not _NAME.match(name):
        raise ConfigError(f"schedule name {name!r}: use letters, digits, '-' or '_' (max 46)")
    return name


def check_results_template(template: str) -> str:
    """A --results template that fills in: only {name}, {date}, {time} and {campaign}."""
    valid = ", ".join(f"{{{field}}}" for field in RESULTS_FIELDS)
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
        unknown = [f for f in fields if re.split(r"[.\[]", f, maxsplit=1)[0] not in _SAMPLE]
        if unknown:
            raise ConfigError(
                f"--results {template!r}: unknown placeholder {{{unknown[0]}}}; use {valid} "
                "(write {{ and }} for literal braces)",
                field="results",
            )
        template.format(**_SAMPLE)
    except (ValueError, KeyError, IndexError, AttributeError) as exc:
        raise ConfigError(f"--results {template!r}: {exc}; use {valid}", field="results") from exc
    return template


def fill_results(template: str, *, name: str, campaign: str, local: datetime) -> str:
    """The results path of one occurrence, its placeholders filled in."""
    return template.format(
        name=name, date=f"{local:%Y-%m-%d}", time=f"{local:%H%M}", campaign=campaign
    )


def latest_due(
    cron: str, zone: ZoneInfo, since: datetime, now: datetime, lateness: timedelta
) -> datetime | None:
    """The latest occurrence later than `since` and `now - lateness`, and not after `now`."""
    latest = None
    for at in CronSim(cron, max(since, now - lateness).astimezone(zone)):
        if at > now:
            break
        latest = at
    return latest.astimezone(UTC) if latest else None


def next_occurrence(cron: str, zone: ZoneInfo, after: datetime) -> datetime | None:
    """The first occurrence after `after` (None for one that never comes, e.g. `0 0 30 2 *`)."""
    for at in CronSim(cron, after.astimezone(zone)):
        return at.astimezone(UTC)
    return None


def occurrence_id(name: str, at: datetime, zone: ZoneInfo) -> str:
    """The campaign id of one occurrence: the schedule's name and its local date and time."""
    return f"{name}-{at.astimezone(zone):%Y%m%d-%H%M}"
