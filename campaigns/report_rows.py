"""A results file read back as one typed `ContactResult` per contact, for the report.

`read_results` takes the file as a binary file object, read as the loader reads a contacts file
(any common encoding, a byte-order mark, `,` or `;`, or `.xlsx`). The file may be partial (a
campaign still running, an export half way): empty cells are missing values, never errors. Only
a file without the result columns is refused. Cells the results writer guarded against
spreadsheets are read as they were before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import NumberParseException
from phonenumbers import timezone as number_timezone

from campaigns.model import ANALYSIS_PREFIX, RESULTS_FILE_MARKERS
from campaigns.sources import open_table
from dialer.errors import InputError

CONNECTED = "completed"
MAX_TEXT = 200
OUTCOME_COLUMN = ANALYSIS_PREFIX + "outcome"
# Analysis columns that are not extracted data: the outcome and the free-text summaries.
_NOT_EXTRACTED = frozenset({OUTCOME_COLUMN, ANALYSIS_PREFIX + "summary"})
# Cells the results writer protected from spreadsheets with a leading quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


@dataclass(frozen=True, slots=True)
class ContactResult:
    """One contact's row of the results file, typed. Missing or unreadable values are None."""

    phone: str
    status: str
    attempts: int
    end_reason: str
    error: str
    duration: float | None
    at: datetime | None  # when the last call started, else when it ended
    local_hour: int | None  # the recipient's local hour at `at`
    outcome: str = ""  # the agent's classification of the last call (`analysis.outcome`)
    cost_cents: float | None = None  # the carrier's cost of the last call, None when unreported
    region: str = ""  # the recipient's country, and state where the number tells it
    extracted: tuple[tuple[str, str], ...] = ()  # other `analysis.*` columns with a value

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


def read_results(source: BinaryIO, *, name: str) -> list[ContactResult]:
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
        return [_result(row) for row in per_contact(rows)]
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


def _result(row: dict[str, str]) -> ContactResult:
    phone = _plain(row.get("phone_e164", ""))
    at = _when(row.get("started_at", "")) or _when(row.get("ended_at", ""))
    return ContactResult(
        phone=phone,
        status=_plain(row.get("status", "")) or "unknown",
        attempts=_int(row.get("attempts", "")),
        end_reason=_plain(row.get("end_reason", "")),
        error=_plain(row.get("error", ""))[:MAX_TEXT],
        duration=_float(row.get("duration_seconds", "")),
        at=at,
        local_hour=local_hour(phone, at, _plain(row.get("timezone", ""))) if at else None,
        outcome=_plain(row.get("outcome", "")) or _plain(row.get(OUTCOME_COLUMN, "")),
        cost_cents=_float(row.get("cost_cents", "")),
        region=region(phone, _plain(row.get("state", "")), _plain(row.get("country", ""))),
        extracted=tuple(
            (name.removeprefix(ANALYSIS_PREFIX), _plain(value)[:MAX_TEXT])
            for name, value in row.items()
            if name.startswith(ANALYSIS_PREFIX) and name not in _NOT_EXTRACTED and _plain(value)
        ),
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


# -- where and when, on the recipient's side --------------------------------------------------


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


def region(phone: str, state: str = "", country: str = "") -> str:
    """Where the recipient is, for the report: the row's own `state`/`country` columns when it
    has them, else the number's country (ISO code) and, for +1 numbers, its state or province
    as the number's area code tells it (`US CA`); '' when the number is unreadable."""
    if state or country:
        return " ".join(part for part in (country, state) if part)
    try:
        number = phonenumbers.parse(phone)
    except NumberParseException:
        return ""
    code = phonenumbers.region_code_for_number(number) or ""
    if number.country_code != 1:
        return code
    # Imported here: the geocoder's data costs ~100 MB, paid only by a report that needs it.
    from phonenumbers import geocoder

    place = geocoder.description_for_number(number, "en")
    state_code = place.rsplit(", ", 1)[1] if ", " in place else place
    return f"{code} {state_code}".strip()
