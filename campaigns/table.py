"""A table as the readers give it: a header and a stream of rows of cell texts."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field


@dataclass
class Table:
    """A header and a stream of data rows, each a list of cell texts.

    `first_row` is the spreadsheet's number of the first data row: 2 in a CSV (the header is
    row 1; a record is one row, even when a quoted cell spans lines), the Excel row under the
    header in a workbook (title rows above it and blank rows counted). The rows stream with no
    row left out, so the row numbered `first_row + i` is the `i`-th.
    `per_line`: a UTF-8 file with rows in Windows-1252, decoded row by row (`campaigns.decoding`).
    `warnings` grows as the rows stream (rows that needed a fallback encoding are known only
    once read): read it after the rows.
    """

    header: list[str]
    rows: Generator[list[str], None, None]
    encoding: str
    delimiter: str | None = None
    sheet: str | None = None
    sheets: tuple[str, ...] = ()
    warnings: list[str] = field(default_factory=list)
    first_row: int = 2
    per_line: bool = False
