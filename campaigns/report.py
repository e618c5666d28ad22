"""What a results file says about a campaign: counts, rates and distributions, as plain data.

`read_results` takes the results file as a binary file object (read as the loader reads a
contacts file: any common encoding, a byte-order mark, `,` or `;`, or an `.xlsx` workbook) and
returns one `Outcome` per contact; `summarise` turns those into a `Report`, which
`campaigns.report_html` draws. The file may be partial (a campaign still running, an export half
way): empty cells are missing values, never errors. Only a file without the result columns is
refused.

Definitions used throughout: a contact is *dialled* when it had at least one attempt; it is
*connected* when its status is `completed`; the pick-up rate is connected / dialled. The results
file holds one row per contact (its last call), so times and durations are those of the last call.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import NumberParseException
from phonenumbers import timezone as number_timezone

from campaigns.model import RESULTS_FILE_MARKERS
from campaigns.sources import open_table
from dialer.errors import InputError

CONNECTED = "completed"
TOP = 10
MAX_TEXT = 200
# Upper bounds (seconds) of the call duration buckets; the last bucket is open.
DURATION_BOUNDS = (15, 30, 60, 120, 300, 600)
# Candidate widths for the calls-over-time buckets, smallest first.
TIME_STEPS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=6),
    timedelta(days=1),
)
MAX_TIME_BUCKETS = 48
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Cells the results writer protected from spreadsheets with a leading quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


@dataclass(frozen=True, slots=True)
class Outcome:
    """One contact's row of the results file, typed. Missing or unreadable values are None."""

    phone: str
    status: str
    attempts: int
    end_reason: str
    error: str
    duration: float | None
    at: datetime | None  # when the last call started, else when it ended
    local_hour: int | None  # the recipient's local hour at `at`

    @property
    def dialled(self) -> bool:
        """At least one call was placed."""
        return self.attempts > 0

    @property
    def connected(self) -> bool:
        """The call was answered by a person and ran its course."""
        return self.status == CONNECTED


@dataclass(frozen=True, slots=True)
class Bucket:
    """One bar of a chart: a label and, for rates, how many of how many."""

    label: str
    count: int
    of: int = 0


@dataclass(frozen=True, slots=True)
class Report:
    """Everything the report page and the terminal summary show."""

    total: int
    dialled: int
    connected: int
    attempts: int
    mean_duration: float | None
    median_duration: float | None
    talk_seconds: float
    first_call: datetime | None
    last_call: datetime | None
    statuses: list[Bucket] = field(default_factory=list)
    over_time: list[tuple[str, int, int]] = field(default_factory=list)  # label, calls, connects
    by_local_hour: list[Bucket] = field(default_factory=list)  # count=connects, of=calls
    no_local_hour: int = 0
    durations: list[Bucket] = field(default_factory=list)
    attempts_per_contact: list[Bucket] = field(default_factory=list)
    end_reasons: list[Bucket] = field(default_factory=list)
    errors: list[Bucket] = field(default_factory=list)

    @property
    def pickup_rate(self) -> float | None:
        """Connected / dialled, or None before anyone was dialled."""
        return self.connected / self.dialled if self.dialled else None


# -- reading ------------------------------------------------------------------------------------


def read_results(source: BinaryIO, *, name: str) -> list[Outcome]:
    """The outcomes in a results file; `InputError` naming the file if it is not one."""
    table = open_table(source, name=name, is_header=_names_results)
    try:
        header = [h.strip().lstrip("\ufeff") for h in table.header]
        missing = [c for c in RESULTS_FILE_MARKERS if c not in header]
        if missing:
            raise InputError(
                "not a results file (written by `dialer run` or `dialer export`): missing "
                f"column(s) {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}",
                where=name,
            )
        rows = [dict(zip(header, row, strict=False)) for row in table.rows if any(row)]
        return [_outcome(row) for row in per_contact(rows)]
    finally:
        table.rows.close()


def _names_results(row: list[str]) -> bool:
    return set(RESULTS_FILE_MARKERS) <= {cell.strip() for cell in row}


def per_contact(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """One row per contact. A file from `dialer export --attempts` has one row per attempt (the
    same `source_row` again): each contact is its last row, with the most attempts any had."""
    last: dict[str, dict[str, str]] = {}
    for line, row in enumerate(rows):
        key = _plain(row.get("source_row", "")) or f"line {line}"
        before = last.get(key)
        if before is not None:
            made = max(_int(before.get("attempts", "")), _int(row.get("attempts", "")))
            row = {**row, "attempts": str(made)}
        last[key] = row
    return list(last.values())


def _outcome(row: dict[str, str]) -> Outcome:
    phone = _plain(row.get("phone_e164", ""))
    at = _when(row.get("started_at", "")) or _when(row.get("ended_at", ""))
    return Outcome(
        phone=phone,
        status=_plain(row.get("status", "")) or "unknown",
        attempts=_int(row.get("attempts", "")),
        end_reason=_plain(row.get("end_reason", "")),
        error=_plain(row.get("error", ""))[:MAX_TEXT],
        duration=_float(row.get("duration_seconds", "")),
        at=at,
        local_hour=local_hour(phone, at, _plain(row.get("timezone", ""))) if at else None,
    )


def _plain(cell: str | None) -> str:
    """The cell as written before the results writer guarded it against spreadsheets."""
    text = (cell or "").strip()
    if text.startswith("'") and text[1:].startswith(_FORMULA_START):
        return text[1:]
    return text


def _int(cell: str) -> int:
    try:
        return max(0, int(float(cell)))
    except ValueError:
        return 0


def _float(cell: str) -> float | None:
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if value >= 0 else None


def _when(cell: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(cell.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# -- local time ---------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def zones_for(phone: str) -> tuple[str, ...]:
    """The IANA time zones `phonenumbers` gives for a number (none when unknown)."""
    try:
        number = phonenumbers.parse(phone)
    except NumberParseException:
        return ()
    zones = number_timezone.time_zones_for_number(number)
    return tuple(z for z in zones if z != number_timezone.UNKNOWN_TIMEZONE)


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def local_hour(phone: str, at: datetime, timezone: str = "") -> int | None:
    """The hour on the recipient's clock at `at`: from the contact's `timezone` column when it
    names a zone, else from the number; None when its zones disagree (e.g. +61, toll-free)."""
    names = (timezone,) if timezone and _zone(timezone) else zones_for(phone)
    hours = {at.astimezone(zone).hour for zone in map(_zone, names) if zone is not None}
    return hours.pop() if len(hours) == 1 else None


# -- summarising --------------------------------------------------------------------------------


def summarise(outcomes: Sequence[Outcome]) -> Report:
    """The report for a campaign's outcomes."""
    dialled = [o for o in outcomes if o.dialled]
    talk = [o.duration for o in dialled if o.connected and o.duration is not None]
    times = [o.at for o in dialled if o.at is not None]
    return Report(
        total=len(outcomes),
        dialled=len(dialled),
        connected=sum(o.connected for o in outcomes),
        attempts=sum(o.attempts for o in outcomes),
        mean_duration=statistics.fmean(talk) if talk else None,
        median_duration=statistics.median(talk) if talk else None,
        talk_seconds=sum(talk),
        first_call=min(times, default=None),
        last_call=max(times, default=None),
        statuses=_most_common(o.status for o in outcomes),
        over_time=over_time(dialled),
        by_local_hour=by_local_hour(dialled),
        no_local_hour=sum(1 for o in dialled if o.local_hour is None),
        durations=duration_buckets(talk),
        attempts_per_contact=_attempt_buckets(outcomes),
        end_reasons=_most_common((o.end_reason for o in dialled if o.end_reason), TOP),
        errors=_most_common((o.error for o in outcomes if o.error), TOP),
    )


def _most_common(values: Iterable[str], top: int | None = None) -> list[Bucket]:
    return [Bucket(label, n) for label, n in Counter(values).most_common(top)]


def time_step(first: datetime, last: datetime) -> timedelta:
    """The smallest bucket width that shows `first`..`last` in at most MAX_TIME_BUCKETS bars."""
    for step in TIME_STEPS:
        if (last - first) / step < MAX_TIME_BUCKETS:
            return step
    return TIME_STEPS[-1] * (1 + (last - first) // (TIME_STEPS[-1] * MAX_TIME_BUCKETS))


def over_time(dialled: Sequence[Outcome]) -> list[tuple[str, int, int]]:
    """Calls and connects per time bucket (UTC), empty buckets included."""
    timed = [o for o in dialled if o.at is not None]
    if not timed:
        return []
    first = min(o.at for o in timed if o.at is not None)
    last = max(o.at for o in timed if o.at is not None)
    step = time_step(first, last)
    start = EPOCH + ((first - EPOCH) // step) * step
    calls = [0] * (int((last - start) // step) + 1)
    connects = [0] * len(calls)
    for o in timed:
        assert o.at is not None
        index = int((o.at - start) // step)
        calls[index] += 1
        connects[index] += o.connected
    fmt = "%Y-%m-%d" if step >= timedelta(days=1) else "%m-%d %H:%M"
    return [((start + i * step).strftime(fmt), calls[i], connects[i]) for i in range(len(calls))]


def by_local_hour(dialled: Sequence[Outcome]) -> list[Bucket]:
    """For each recipient-local hour 0..23: connects (`count`) of calls (`of`)."""
    calls = Counter(o.local_hour for o in dialled if o.local_hour is not None)
    connects = Counter(o.local_hour for o in dialled if o.local_hour is not None and o.connected)
    return [Bucket(f"{hour:02d}", connects[hour], calls[hour]) for hour in range(24)]


def duration_buckets(seconds: Sequence[float]) -> list[Bucket]:
    """How many calls fall in each duration range (`<15 s`, `15-30 s`, ..., `600 s+`)."""
    counts = [0] * (len(DURATION_BOUNDS) + 1)
    for value in seconds:
        counts[sum(value >= bound for bound in DURATION_BOUNDS)] += 1
    labels = [f"<{DURATION_BOUNDS[0]} s"]
    labels += [f"{lo}-{hi} s" for lo, hi in pairwise(DURATION_BOUNDS)]
    labels.append(f"{DURATION_BOUNDS[-1]} s+")
    return [Bucket(label, n) for label, n in zip(labels, counts, strict=True)]


def _attempt_buckets(outcomes: Sequence[Outcome]) -> list[Bucket]:
    counts = Counter(o.attempts for o in outcomes)
    return [Bucket(str(n), counts[n]) for n in range(max(counts, default=-1) + 1)]


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def _stamp(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")


def summary_rows(report: Report) -> list[tuple[str, str, str]]:
    """The headline numbers as (key, label, shown value), for the page and the terminal alike."""
    rate = report.pickup_rate
    return [
        ("total", "Contacts", str(report.total)),
        ("dialled", "Dialled (at least one attempt)", str(report.dialled)),
        ("connected", "Connected (status completed)", str(report.connected)),
        (
            "pickup_rate",
            "Pick-up rate (connected / dialled)",
            "-" if rate is None else f"{rate:.1%}",
        ),
        ("attempts", "Call attempts", str(report.attempts)),
        ("mean_duration", "Mean duration of connected calls", _seconds(report.mean_duration)),
        ("median_duration", "Median duration of connected calls", _seconds(report.median_duration)),
        ("talk_minutes", "Talk time", f"{report.talk_seconds / 60:.1f} min"),
        ("first_call", "First call", _stamp(report.first_call)),
        ("last_call", "Last call", _stamp(report.last_call)),
    ]
