"""Options shared by the commands that read a contacts file (`validate`, `run`, ...)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from campaigns.contacts import LoadOptions, parse_list
from campaigns.dnc import load_dnc
from dialer.errors import InputError

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
