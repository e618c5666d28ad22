"""POST /api/contacts/inspect: a list read as `dialer run` would read it, nobody dialled."""

from __future__ import annotations

from collections import Counter
from itertools import islice
from pathlib import Path

from pydantic import BaseModel

from campaigns.columns import RESERVED, key
from campaigns.contacts import ContactFile, LoadOptions, open_contacts
from campaigns.model import Contact, is_result_column
from campaigns.sources import open_table
from dialer.errors import InputError

SAMPLES = 5


class Column(BaseModel):
    """A column of the list and what the campaign does with it."""

    name: str
    used_as: str


class Sample(BaseModel):
    """A contact as the agent will receive it."""

    source_row: int
    phone_e164: str
    variables: dict[str, str]


class RejectSample(BaseModel):
    """A row that will not be dialled."""

    source_row: int
    phone: str
    reason: str
    detail: str


class Inspection(BaseModel):
    """What a list holds: its columns, how many contacts, rejects by reason, samples."""

    name: str
    format: str
    phone_column: str
    columns: list[Column]
    contacts: int
    rejected: int
    blank_rows: int
    rejects_by_reason: dict[str, int]
    samples: list[Sample]
    reject_samples: list[RejectSample]
    sheet: str | None = None
    sheets: list[str] = []
    country_column: str | None = None
    fallback_columns: list[str] = []


class Header(BaseModel):
    """A list's header alone: what the page offers to map when the loader cannot decide."""

    columns: list[str]
    sheet: str | None = None
    sheets: list[str] = []


def inspect_list(path: Path, name: str, options: LoadOptions) -> Inspection:
    """Read the whole list once, keeping counts and a few examples."""
    with open_contacts(path.open("rb"), name=name, options=options) as opened:
        reasons: Counter[str] = Counter()
        samples: list[Sample] = []
        bad: list[RejectSample] = []
        contacts = 0
        for good, rejects in opened.batches():
            contacts += len(good)
            samples += [_sample(c) for c in islice(good, SAMPLES - len(samples))]
            reasons.update(r.reason.value for r in rejects)
            bad += [
                RejectSample(source_row=r.source_row, phone=r.phone, reason=r.reason.value,
                             detail=r.detail)
                for r in rejects[: SAMPLES - len(bad)]
            ]  # fmt: skip
        return Inspection(
            name=name,
            format=opened.format,
            phone_column=opened.phone_column,
            columns=[Column(name=c, used_as=_role(opened, c)) for c in opened.columns],
            contacts=contacts,
            rejected=sum(reasons.values()),
            blank_rows=opened.blank_rows,
            rejects_by_reason=dict(reasons.most_common()),
            samples=samples,
            reject_samples=bad,
            sheet=opened.sheet,
            sheets=list(opened.sheets),
            country_column=opened.country_column,
            fallback_columns=list(opened.fallback_columns),
        )


def header_of(path: Path, name: str, sheet: str | None) -> Header | None:
    """The header of the list (of `sheet`, for a workbook), or None if it cannot be read."""
    try:
        with path.open("rb") as source:
            table = open_table(source, name=name, sheet=sheet)
            table.rows.close()
    except InputError:
        return None
    columns = [cell.replace("\ufeff", "").strip() for cell in table.header]
    return Header(columns=[c for c in columns if c], sheet=table.sheet, sheets=list(table.sheets))


def columns_of(path: Path, name: str, options: LoadOptions) -> list[Column]:
    """The list's columns and what the campaign does with each, from its header alone (no
    row is read: the start of a campaign reads its list once, as it loads it)."""
    with open_contacts(path.open("rb"), name=name, options=options) as opened:
        return [Column(name=c, used_as=_role(opened, c)) for c in opened.columns]


def _sample(contact: Contact) -> Sample:
    return Sample(
        source_row=contact.source_row,
        phone_e164=contact.phone_e164,
        variables=dict(contact.variables),
    )


def _role(opened: ContactFile, column: str) -> str:
    if column == opened.phone_column:
        return "phone number"
    if column in opened.variable_columns:
        return "variable"
    if column == opened.country_column:
        return "per-row country"
    if key(column) in RESERVED:
        return f"per-row {key(column)}"
    if opened.layout.is_results_file and is_result_column(key(column)):
        return "result of an earlier run (ignored)"
    return "ignored"
