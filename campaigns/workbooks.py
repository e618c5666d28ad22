"""An `.xlsx` workbook to rows of text: checked before it is opened, its XML parsed defused.

A workbook is a zip of XML files, so a small file can unpack to gigabytes (a zip bomb) or define
entities that expand without end (billion laughs). Before `openpyxl` opens it, every entry's
uncompressed size and compression ratio are checked against the limits below; its XML is parsed
with `defusedxml` (which `openpyxl` uses when it is installed), which refuses entity
definitions; its cells and rows are capped while they stream (`campaigns.workbook_caps`).
Any failure of the parser, on opening or mid-sheet, is an `InputError` naming the file, in
one line.

The header is the first row that names the phone column (rows above it, a title or a date, are
skipped); dates come out as `YYYY-MM-DD`, dates with a time in ISO 8601.
"""

from __future__ import annotations

import datetime as dt
import itertools
import warnings
import zipfile
from collections.abc import Callable, Generator, Iterator
from typing import Any, BinaryIO

from campaigns.table import Table
from campaigns.workbook_caps import check_cells
from dialer.errors import InputError

MAX_ENTRY_BYTES = 1024**3  # one XML file of the workbook, uncompressed
MAX_TOTAL_BYTES = 2 * 1024**3
MAX_RATIO = 100  # uncompressed / compressed; real sheets are about 14 (Apache POI's limit too)
RATIO_FROM_BYTES = 1024 * 1024  # smaller entries may compress as they like
HEADER_SEARCH_ROWS = 20  # rows above the header (titles, notes) looked through

HeaderTest = Callable[[list[str]], bool]  # whether a row is the header


def open_workbook(
    source: BinaryIO,
    name: str,
    sheet: str | None,
    *,
    owned: bool,
    is_header: HeaderTest | None = None,
) -> Table:
    """The sheet (default: the first) of a seekable file as a table; when `owned`, closing the
    rows closes the file too."""
    check_archive(source, name)
    check_cells(source, name)
    book = _load(source, name)
    if sheet is not None and sheet not in book.sheetnames:
        book.close()
        raise InputError(f"no sheet {sheet!r}; the sheets are {book.sheetnames}", where=name)
    worksheet = book[sheet] if sheet is not None else book.worksheets[0]
    sheets = tuple(book.sheetnames)
    rows = _rows(book, worksheet, name, source if owned else None)
    try:
        header, ahead, at = _header(rows, is_header)
    except BaseException:
        rows.close()
        raise
    if header is None:
        rows.close()
        raise InputError(f"sheet {worksheet.title!r} is empty", where=name, field="sheet")
    while header and not header[-1].strip():
        header.pop()
    fitted = _fit(ahead, rows, len(header))
    return Table(header, fitted, "xlsx", sheet=worksheet.title, sheets=sheets, first_row=at + 1)


def check_archive(source: BinaryIO, name: str) -> None:
    """Refuse a workbook whose entries would unpack beyond the limits (a zip bomb)."""
    try:
        with zipfile.ZipFile(source) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise InputError(f"not a readable .xlsx workbook ({_one_line(exc)})", where=name) from None
    finally:
        source.seek(0)
    total = 0
    for entry in entries:
        total += entry.file_size
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > MAX_ENTRY_BYTES:
            _refuse(name, f"{entry.filename} would unpack to {_mib(entry.file_size)}")
        if total > MAX_TOTAL_BYTES:
            _refuse(name, f"its parts would unpack to more than {_mib(MAX_TOTAL_BYTES)}")
        if entry.file_size > RATIO_FROM_BYTES and ratio > MAX_RATIO:
            _refuse(name, f"{entry.filename} is compressed {ratio:,.0f} to 1")


def _refuse(name: str, why: str) -> None:
    raise InputError(
        f"refused as a possible zip bomb: {why} (at most {MAX_RATIO} to 1, "
        f"{_mib(MAX_ENTRY_BYTES)} a part, {_mib(MAX_TOTAL_BYTES)} in all); if the workbook is "
        "genuine, save it as CSV",
        where=name,
    )


def _mib(size: int) -> str:
    return f"{size / 1024**2:,.0f} MiB"


def _load(source: BinaryIO, name: str) -> Any:
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises anything from a malformed part
        raise InputError(f"not a readable .xlsx workbook ({_one_line(exc)})", where=name) from None


def _rows(
    book: Any, worksheet: Any, name: str, owned: BinaryIO | None
) -> Generator[list[str], None, None]:
    try:
        for values in worksheet.iter_rows(values_only=True):
            yield [cell_text(value) for value in values]
    except Exception as exc:  # the sheet's XML is parsed as it streams
        where = f"{name}, sheet {worksheet.title!r}"
        raise InputError(f"cannot read the workbook ({_one_line(exc)})", where=where) from None
    finally:
        book.close()
        if owned is not None:
            owned.close()


def _one_line(exc: BaseException) -> str:
    """What went wrong, in one line: the innermost cause (openpyxl wraps the parser's error)."""
    from defusedxml import DefusedXmlException

    chain = [exc]
    while (cause := chain[-1].__cause__ or chain[-1].__context__) and len(chain) < 10:
        chain.append(cause)
    if any(isinstance(e, DefusedXmlException) for e in chain):
        return "its XML declares entities, which no workbook needs: refused as a possible attack"
    text = " ".join(str(chain[-1]).split()) or type(chain[-1]).__name__
    return text if len(text) <= 160 else text[:160] + "…"


def _header(
    rows: Iterator[list[str]], is_header: HeaderTest | None
) -> tuple[list[str] | None, list[list[str]], int]:
    """The header, the rows read past it and the header's Excel row number: the first
    non-blank row, or the first among the next rows that `is_header` accepts (rows above it, a
    title or a note, are dropped).

    openpyxl gives every row from row 1, a missing one as blank, so the n-th row read is Excel's
    row n."""
    first_at, first = next(((n, row) for n, row in enumerate(rows, 1) if _filled(row)), (0, None))
    if first is None or is_header is None or is_header(first):
        return first, [], first_at
    ahead = [first, *itertools.islice(rows, HEADER_SEARCH_ROWS)]
    for i, row in enumerate(ahead):
        if is_header(row):
            return row, ahead[i + 1 :], first_at + i
    return first, ahead[1:], first_at


def _filled(row: list[str]) -> bool:
    return any(cell.strip() for cell in row)


def _fit(
    ahead: list[list[str]], rows: Generator[list[str], None, None], width: int
) -> Generator[list[str], None, None]:
    """Workbook rows padded or trimmed to the header (a sheet has no ragged rows, only blanks)."""
    try:
        for row in itertools.chain(ahead, rows):
            if len(row) < width:
                row.extend([""] * (width - len(row)))
            elif len(row) > width and not any(c.strip() for c in row[width:]):
                del row[width:]
            yield row
    finally:
        rows.close()


def cell_text(value: object) -> str:
    """A workbook cell as the text a person sees: whole numbers without `.0`, a date as
    `YYYY-MM-DD`, a date with a time (or a time) in ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)
