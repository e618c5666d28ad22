"""The do-not-call list: numbers in any format, read into a set of E.164 numbers.

A suppression list must not be read loosely: an entry that cannot be read could be the number of
a contact that is read, so such an entry stops the load instead of being skipped.
"""

from __future__ import annotations

import itertools
from typing import BinaryIO

from campaigns.columns import PHONE_HEADERS, clean_header, key, plan
from campaigns.sources import open_table
from dialer.errors import InputError, InvalidNumber
from dialer.phone import normalize

SHOWN_ERRORS = 5


def load_dnc(source: BinaryIO, *, name: str, default_region: str = "US") -> frozenset[str]:
    """Every number of a one-column file, or of the phone column of a CSV, as E.164."""
    table = open_table(source, name=name)
    index, rows = _column(table.header, name, default_region)
    numbers: set[str] = set()
    bad: list[str] = []
    # Rows numbered as the spreadsheet shows them (a headerless list's first row is row 1).
    first = table.first_row - len(rows)
    for number, cells in enumerate(itertools.chain(rows, table.rows), first):
        cell = cells[index] if index < len(cells) else ""
        if not cell.strip():
            continue
        try:
            numbers.add(normalize(cell, default_region))
        except InvalidNumber as exc:
            bad.append(f"row {number}: {exc}")
    if bad:
        shown = "; ".join(bad[:SHOWN_ERRORS])
        more = f" (and {len(bad) - SHOWN_ERRORS} more)" if len(bad) > SHOWN_ERRORS else ""
        raise InputError(
            f"{len(bad)} do-not-call entries cannot be read, so they could not be honoured: "
            f"{shown}{more}",
            where=name,
        )
    return frozenset(numbers)


def _column(header: list[str], name: str, region: str) -> tuple[int, list[list[str]]]:
    """The column of numbers, and the header itself when it is a number (a headerless list)."""
    if len(header) == 1 and key(header[0]) not in PHONE_HEADERS:
        try:
            normalize(header[0], region)
        except InvalidNumber:
            return 0, []
        return 0, [header]
    layout = plan(clean_header(header, name), name, None, ())
    return layout.phone_index, []
