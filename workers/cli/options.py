"""Options shared by the commands that read a contacts file (`validate`, `run`, ...)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
Tz = Annotated[str | None, typer.Option(help="Zone for --start-at/--deadline without an offset.")]
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
