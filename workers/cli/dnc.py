"""`dialer dnc add|import|remove|list|check`: the account's live do-not-call list, kept in
Redis and checked by every claim (a number added while a campaign runs is never dialled after:
its contact ends `suppressed`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from campaigns.dnc import load_dnc
from dialer.errors import InputError, InvalidNumber
from dialer.phone import normalize
from dialer.settings import load_settings
from workers.cli.app import Out, app
from workers.cli.limits import open_account_store

console = Out()
dnc_app = typer.Typer(
    help="The account's do-not-call list, checked before every call of every campaign."
)
app.add_typer(dnc_app, name="dnc")

Numbers = Annotated[list[str], typer.Argument(help="Phone numbers, in any usual format.")]
Region = Annotated[
    str, typer.Option(help="Region for numbers written without a country code (ISO, e.g. US).")
]


def _normalised(numbers: list[str], region: str) -> list[str]:
    """The numbers as E.164; an InputError naming every one that cannot be read."""
    good, bad = [], []
    for number in numbers:
        try:
            good.append(normalize(number, region.upper()))
        except InvalidNumber as exc:
            bad.append(f"{number!r}: {exc}")
    if bad:
        raise InputError("; ".join(bad), where="dnc")
    return good


@dnc_app.command("add")
def add(
    numbers: Numbers,
    reason: Annotated[str, typer.Option(help="Why (kept with each number).")] = "",
    default_region: Region = "US",
) -> None:
    """Put numbers on the list. From now on no campaign of the account dials them."""
    e164 = _normalised(numbers, default_region)
    settings = load_settings()
    with open_account_store(settings) as store:
        added = store.dnc_add(settings.account_name(), e164, reason)
    console.print(f"{added} added to the do-not-call list ({len(e164) - added} already on it).")


@dnc_app.command("import")
def import_file(
    file: Annotated[
        Path, typer.Argument(help="Numbers, one column, or a CSV/XLSX with a phone column.")
    ],
    reason: Annotated[str, typer.Option(help="Why (kept with each number).")] = "",
    default_region: Region = "US",
) -> None:
    """Put every number of a file on the list. An unreadable entry stops the import."""
    if not file.is_file():
        raise InputError("no such file", where=str(file))
    with file.open("rb") as handle:
        e164 = load_dnc(handle, name=str(file), default_region=default_region.upper())
    settings = load_settings()
    with open_account_store(settings) as store:
        added = store.dnc_add(
            settings.account_name(), sorted(e164), reason or f"import {file.name}"
        )
    console.print(
        f"{file}: {added} added to the do-not-call list ({len(e164) - added} already on it)."
    )


@dnc_app.command("remove")
def remove(numbers: Numbers, default_region: Region = "US") -> None:
    """Take numbers off the list (they may be dialled again)."""
    e164 = _normalised(numbers, default_region)
    settings = load_settings()
    with open_account_store(settings) as store:
        removed = store.dnc_remove(settings.account_name(), e164)
    console.print(f"{removed} removed from the do-not-call list.")


@dnc_app.command("list")
def list_numbers() -> None:
    """Every number on the list, when it was added and why."""
    settings = load_settings()
    with open_account_store(settings) as store:
        entries = sorted(store.dnc_entries(settings.account_name()), key=lambda e: e.number)
    for entry in entries:
        console.print(
            f"{entry.number}  {entry.added_at:%Y-%m-%d %H:%M} UTC  {entry.reason}", highlight=False
        )
    console.print(f"{len(entries)} numbers on the do-not-call list of {settings.account_name()}.")


@dnc_app.command("check")
def check(
    number: Annotated[str, typer.Argument(help="A phone number, in any usual format.")],
    default_region: Region = "US",
) -> None:
    """Say whether a number is on the list, since when and why."""
    (e164,) = _normalised([number], default_region)
    settings = load_settings()
    with open_account_store(settings) as store:
        entry = store.dnc_check(settings.account_name(), e164)
    if entry is None:
        console.print(f"{e164} is not on the do-not-call list.")
        return
    why = f": {entry.reason}" if entry.reason else ""
    console.print(
        f"{e164} is on the do-not-call list since {entry.added_at:%Y-%m-%d %H:%M} UTC{why}.",
        highlight=False,
    )
