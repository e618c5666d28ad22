"""Options shared by the commands that read a contacts file (`validate`, `run`, ...)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from campaigns.contacts import LoadOptions, parse_list
from campaigns.dnc import load_dnc
from campaigns.retry import RetryPolicy, parse_delays, parse_retry_on
from campaigns.windows import load_rules, parse_start_at, parse_window
from dialer.errors import ConfigError, InputError

PhoneColumn = Annotated[
    str | None,
    typer.Option(help="Column holding the phone number (default: detected from the headers)."),
]
DefaultRegion = Annotated[
    str, typer.Option(help="Region for numbers written without a country code (ISO, e.g. US).")
]
Dnc = Annotated[
    Path | None,
    typer.Option(help="Do-not-call file: numbers (one column, or a CSV) never to dial."),
]
Variables = Annotated[
    str | None,
    typer.Option(help="Only these columns become agent variables (comma separated)."),
]
AllowTypes = Annotated[
    str | None,
    typer.Option(help="Only dial these number types, e.g. mobile,fixed_line_or_mobile."),
]
Sheet = Annotated[str | None, typer.Option(help="Worksheet of an .xlsx file (default: first).")]
Rejects = Annotated[
    Path | None,
    typer.Option(help="Rejects file to write (default: <stem>.rejects.csv beside the input)."),
]


def build_load_options(
    *,
    phone_column: str | None,
    default_region: str,
    dnc: Path | None,
    variables: str | None,
    allow_types: str | None,
    sheet: str | None,
) -> LoadOptions:
    """LoadOptions from the command line, reading the do-not-call file if one is given."""
    numbers: frozenset[str] = frozenset()
    if dnc is not None:
        if not dnc.is_file():
            raise InputError("no such file", where=str(dnc))
        with dnc.open("rb") as handle:
            numbers = load_dnc(handle, name=str(dnc), default_region=default_region.upper())
    return LoadOptions(
        phone_column=phone_column,
        default_region=default_region.upper(),
        variables=parse_list(variables),
        allow_types=frozenset(types) if (types := parse_list(allow_types)) else None,
        dnc=numbers,
        sheet=sheet,
    )


def rejects_path(contacts: Path, given: Path | None) -> Path:
    """Where the rejects file goes."""
    return given or contacts.with_name(f"{contacts.stem}.rejects.csv")


WindowOpt = Annotated[
    str,
    typer.Option(
        "--window",
        help="Calling window in each recipient's local time, HH:MM-HH:MM (may cross midnight), "
        "or 'always' to turn it off.",
    ),
]
Days = Annotated[
    str, typer.Option(help="Recipient-local days the window applies: mon-sun, mon-fri, sat,sun.")
]
Rules = Annotated[
    str | None,
    typer.Option(help="Stricter rules on top of the window: us-states (US state hour limits)."),
]
StartAt = Annotated[
    str | None,
    typer.Option(
        help="Dial nobody before this: ISO 8601 with an offset (2026-12-01T10:00-05:00), or a "
        "local date-time or HH:MM with --tz."
    ),
]
Deadline = Annotated[
    str | None,
    typer.Option(help="Contacts still waiting at this time end `expired` (formats as --start-at)."),
]
Tz = Annotated[
    str | None, typer.Option(help="Zone for --start-at/--deadline without an offset.")
]
MaxAttempts = Annotated[
    int, typer.Option(min=1, help="Attempts per contact, the first one included.")
]
RetryOn = Annotated[
    str, typer.Option(help="Outcomes dialled again: any of no_answer, voicemail, failed.")
]
RetryDelay = Annotated[
    str,
    typer.Option(help="Wait before the next attempt: 30m, or one per attempt like 10m,1h,1d."),
]


def calling_times(
    *,
    window: str,
    days: str,
    rules: str | None,
    start_at: str | None,
    deadline: str | None,
    tz: str | None,
    max_attempts: int,
    retry_on: str,
    retry_delay: str,
) -> dict[str, Any]:
    """The campaign's calling-time settings, checked now and normalised (instants in UTC)."""
    now = datetime.now(UTC)
    parse_window(window, days)
    if rules:
        load_rules(rules)
    RetryPolicy(max_attempts, parse_retry_on(retry_on), parse_delays(retry_delay))
    start = parse_start_at(start_at, tz, now) if start_at else None
    end = parse_start_at(deadline, tz, now) if deadline else None
    if start and end and end <= start:
        raise ConfigError("--deadline must be after --start-at")
    return {
        "window": window.strip(),
        "days": days.strip(),
        "rules": rules or "",
        "start_at": start.isoformat() if start else "",
        "deadline": end.isoformat() if end else "",
        "max_attempts": max_attempts,
        "retry_on": retry_on,
        "retry_delays": retry_delay,
    }
