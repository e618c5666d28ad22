"""`dialer validate`: read a contacts file as `dialer run` would, dial nobody, report it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, BinaryIO

import typer
from rich.table import Table

from campaigns.columns import RESERVED, key
from campaigns.contacts import ContactFile, open_contacts
from campaigns.excel import CsvStyle
from campaigns.model import Contact, Reject, is_result_column
from campaigns.planning import load_options, rejects_path
from campaigns.rejects import write_rejects
from dialer.errors import InputError
from dialer.private import open_private
from workers.cli import options
from workers.cli.app import Out, app
from workers.cli.flags import CONTACT_OPTIONS, run_options, run_options_command
from workers.cli.plain import print_table

SAMPLES = 3
console = Out()


@dataclass
class Tally:
    """What a pass over the file found, kept small: counts and a few examples of each kind."""

    contacts: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    samples: dict[str, list[Reject]] = field(default_factory=dict)
    first: list[Contact] = field(default_factory=list)

    def add(self, contacts: Sequence[Contact], rejects: list[Reject]) -> None:
        """Count one batch."""
        self.contacts += len(contacts)
        self.first += contacts[: SAMPLES - len(self.first)]
        for reject in rejects:
            self.reasons[reject.reason.value] += 1
            kept = self.samples.setdefault(reject.reason.value, [])
            if len(kept) < SAMPLES:
                kept.append(reject)


@app.command(cls=run_options_command(only=CONTACT_OPTIONS))
def validate(
    ctx: typer.Context,
    contacts: Annotated[Path, typer.Argument(help="Contacts file (CSV or .xlsx).")],
    rejects: options.Rejects = None,
) -> None:
    """Check a contacts file without dialling: counts, rejects by reason, columns, variables.

    Writes the rejects file (source_row, phone, reason, detail).
    Exits 1 when there is something to fix (rows rejected, or no valid contact), 2 when the
    file cannot be read.
    """
    reading = load_options(run_options(ctx))
    out = rejects_path(contacts, rejects)
    with _open(contacts) as handle:
        opened = open_contacts(handle, name=str(contacts), options=reading)
        tally = _check(opened, out)
    _report(opened, tally, out)
    if tally.contacts == 0:
        console.print(f"[bold red]No valid contact in {contacts}[/]: nothing would be dialled.")
        raise typer.Exit(1)
    if tally.reasons:
        raise typer.Exit(1)  # like a linter: rows to fix (the rejects file says which)


def _open(path: Path) -> BinaryIO:
    if path.is_dir():
        raise InputError("is a folder, not a contacts file", where=str(path))
    if not path.is_file():
        raise InputError("no such file", where=str(path))
    try:
        return path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror}", where=str(path)) from None


def _check(opened: ContactFile, out: Path) -> Tally:
    """Stream the file once, writing rejects as they come and keeping only the tally."""
    tally = Tally()
    try:
        handle = open_private(out, "w", encoding="utf-8", newline="")
    except OSError as exc:
        raise InputError(f"cannot write the rejects file: {exc.strerror}", where=str(out)) from None
    with handle:
        write_rejects(_counted(opened, tally), handle, CsvStyle(opened.delimiter))
    return tally


def _counted(opened: ContactFile, tally: Tally) -> Iterator[Reject]:
    for contacts, rejects in opened.batches():
        tally.add(contacts, rejects)
        yield from rejects


def _report(opened: ContactFile, tally: Tally, out: Path) -> None:
    console.print(f"[bold]{opened.name}[/] ({opened.format})")
    print_table(console, _columns_table(opened))
    rejected = sum(tally.reasons.values())
    console.print(
        f"[bold green]{tally.contacts:,}[/] contacts to dial, [bold]{rejected:,}[/] rejected"
        + (f", {opened.blank_rows:,} blank rows skipped" if opened.blank_rows else "")
    )
    for warning in opened.warnings:
        console.print(f"[bold yellow]warning:[/] {warning}", highlight=False)
    if tally.first:
        names = tuple(tally.first[0].variables)  # as the agent receives them (`--rename`)
        print_table(console, _contacts_table(tally.first, names))
    if rejected:
        print_table(console, _rejects_table(tally))
    console.print(f"Rejects file: {out}")


def _columns_table(opened: ContactFile) -> Table:
    table = Table(title="Columns", title_justify="left")
    table.add_column("column")
    table.add_column("used as")
    variables = set(opened.variable_columns)
    for column in opened.columns:
        table.add_row(column, _role(opened, column, variables))
    return table


def _role(opened: ContactFile, column: str, variables: set[str]) -> str:
    if column == opened.phone_column:
        return "[bold]phone number[/]"
    if column in variables:
        return "variable"
    if key(column) in RESERVED:
        return f"per-row {key(column)}"
    if opened.layout.is_results_file and is_result_column(key(column)):
        return "[dim]result of an earlier run (ignored)[/]"
    return "[dim]ignored[/]"


def _contacts_table(sample: list[Contact], variables: tuple[str, ...]) -> Table:
    table = Table(title="First contacts", title_justify="left")
    for name in ("row", "phone (E.164)", *variables[:4]):
        table.add_column(name, overflow="fold", max_width=30)
    for contact in sample:
        shown = [contact.variables.get(name, "") for name in variables[:4]]
        table.add_row(str(contact.source_row), contact.phone_e164, *shown)
    return table


def _rejects_table(tally: Tally) -> Table:
    table = Table(title="Rejects by reason", title_justify="left")
    for name in ("reason", "rows", "example row", "phone", "detail"):
        table.add_column(name, overflow="fold", max_width=60 if name == "detail" else 24)
    for reason, count in tally.reasons.most_common():
        for i, reject in enumerate(tally.samples[reason]):
            table.add_row(
                reason if i == 0 else "", f"{count:,}" if i == 0 else "",
                str(reject.source_row), reject.phone, reject.detail,
            )  # fmt: skip
    return table
