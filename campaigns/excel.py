"""Files our users open in Excel: CSV it decodes and splits right, and `.xlsx` of text cells.

Excel on Windows reads a CSV as UTF-8 only when it starts with a byte-order mark (without one,
`Prénom` shows as `PrÃ©nom`), and a French or German Excel splits rows on `;`, so a list that came
in with `;` goes out with `;`. Every reader of ours (`campaigns.sources`) takes the mark and either
delimiter. In a workbook every cell is a text cell: a spreadsheet runs nothing as a formula and
reads no `+44…` as a number.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from openpyxl.cell import WriteOnlyCell

BOM = "\ufeff"


@dataclass(frozen=True)
class CsvStyle:
    """How a CSV we write is spelled: its delimiter (the input's `,` or `;`) and whether it
    starts with a UTF-8 byte-order mark (the default: Excel needs it to read accents)."""

    delimiter: str = ","
    bom: bool = True

    def __post_init__(self) -> None:
        if self.delimiter not in (",", ";"):  # a tab or a pipe is written as the plain `,`
            object.__setattr__(self, "delimiter", ",")


def csv_writer(out: TextIO, style: CsvStyle) -> Any:
    """A `csv.writer` on `out` (opened as UTF-8, `newline=""`), the mark written first."""
    if style.bom:
        out.write(BOM)
    return csv.writer(out, delimiter=style.delimiter)


def write_xlsx(path: Path, sheet_name: str, rows: Iterable[Sequence[str]]) -> int:
    """Write `rows` to a one-sheet workbook at `path`, atomically, every cell text; returns the
    number of rows after the first (the header)."""
    from openpyxl import Workbook  # only when a workbook is written: the CLI starts faster

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name)
    count = -1
    for row in rows:
        sheet.append([text_cell(sheet, value) for value in row])
        count += 1
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        workbook.save(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return max(count, 0)


def text_cell(sheet: object, value: str) -> WriteOnlyCell:
    """A workbook cell holding `value` as text."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"  # never a formula or a number, whatever the text looks like
    return cell
