"""Bytes to rows of text: recognise the file, decode it, sniff the delimiter, or read a workbook.

Every cell comes out as the text the file holds; nothing is parsed as a number. A file that is
not a table (a PDF, a binary, a legacy `.xls`) is refused with an `InputError` naming it. How
text is decoded: `campaigns.decoding`; how a workbook is read: `campaigns.workbooks`.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from collections.abc import Callable, Generator, Iterable
from typing import IO, Any, BinaryIO

from campaigns.decoding import BOMS, FALLBACK, Decoding, Lines, describe_rows, detect
from campaigns.table import Table
from dialer.errors import InputError

DELIMITERS = (",", ";", "\t", "|")
SNIFF_CHARS = 64 * 1024
# Cells up to this size are read, so that an oversized one can be reported as a row's problem;
# the csv module's default (128 KiB) would stop the whole file instead.
FIELD_LIMIT = 64 * 1024 * 1024
csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))


def open_table(
    source: BinaryIO,
    *,
    name: str,
    sheet: str | None = None,
    is_header: Callable[[list[str]], bool] | None = None,
) -> Table:
    """Recognise `source` (CSV in any common encoding and delimiter, or `.xlsx`) and open it.

    In a workbook, the header is the first row that `is_header` accepts among the first rows
    (below a title), else the first row that is not blank.
    """
    if source.seekable():
        return _open(source, name, sheet, is_header, owned=False)
    # A pipe is copied aside once: detecting the encoding reads the file twice.
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115
    shutil.copyfileobj(source, spool)
    spool.seek(0)
    try:
        return _open(spool, name, sheet, is_header, owned=True)  # type: ignore[arg-type]
    except InputError:
        spool.close()
        raise


def _open(
    source: BinaryIO,
    name: str,
    sheet: str | None,
    is_header: Callable[[list[str]], bool] | None,
    *,
    owned: bool,
) -> Table:
    """Open a seekable file; when `owned`, closing the rows closes it too."""
    head = source.read(8192)
    source.seek(0)
    if not head:
        raise InputError("the file is empty", where=name)
    if head.startswith(b"PK\x03\x04"):
        from campaigns.workbooks import open_workbook

        return open_workbook(source, name, sheet, owned=owned, is_header=is_header)
    if name.lower().endswith(".xlsx"):  # named a workbook, yet not a zip: never read as text
        raise InputError("not an Excel workbook (it could not be opened as .xlsx)", where=name)
    _refuse_binary(head, name)
    return _open_csv(source, name, detect(source, head), owned)


def _refuse_binary(head: bytes, name: str) -> None:
    if head.startswith(b"%PDF"):
        raise InputError("this is a PDF document, not a CSV or .xlsx file", where=name)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError("legacy .xls workbooks are not read: save it as .xlsx or CSV", where=name)
    if not any(head.startswith(bom) for bom, _ in BOMS) and b"\x00" in head:
        raise InputError(
            "this is a binary file, not text (UTF-16 files need a byte-order mark)", where=name
        )


def _open_csv(source: BinaryIO, name: str, decoding: Decoding, owned: bool) -> Table:
    if decoding.per_line:
        sample = source.read(SNIFF_CHARS).decode("utf-8", errors="replace")
        source.seek(0)
        text: io.TextIOWrapper | Lines = Lines(source)
    else:
        text = io.TextIOWrapper(source, encoding=decoding.encoding, newline="")
        try:
            sample = text.read(SNIFF_CHARS)
        except UnicodeDecodeError as exc:
            text.detach()
            raise InputError(f"not {decoding.encoding} text: {exc}", where=name) from None
        text.seek(0)
    delimiter = sniff_delimiter(sample, truncated=len(sample) == SNIFF_CHARS)
    table = Table([], _no_rows(), decoding.encoding, delimiter, per_line=decoding.per_line)
    rows = _csv_rows(text, source, table, name, owned)
    header = next(rows, None)
    if header is None or not any(cell.strip() for cell in header):
        rows.close()
        raise InputError("the file has no header row", where=name)
    table.header, table.rows = header, rows
    return table


def _no_rows() -> Generator[list[str], None, None]:
    yield from ()


def sniff_delimiter(sample: str, *, truncated: bool = False) -> str:
    """The delimiter among `, ; TAB |` that splits the sample into the most consistent rows."""

    def score(delimiter: str) -> tuple[bool, int, int]:
        try:
            rows = [r for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if r][:50]
        except csv.Error:  # a stray newline in a field this delimiter leaves unquoted
            return (False, 0, 0)
        if truncated and len(rows) > 1:
            rows.pop()
        if not rows:
            return (False, 0, 0)
        width = len(rows[0])
        return (width > 1, sum(len(r) == width for r in rows), width)

    return max(DELIMITERS, key=score)


def _csv_rows(
    text: io.TextIOWrapper | Lines, source: BinaryIO, table: Table, name: str, owned: bool
) -> Generator[list[str], None, None]:
    reader = csv.reader(text, delimiter=table.delimiter or ",", strict=False)
    try:
        if isinstance(text, Lines):
            yield from _noting_fallbacks(reader, text, table)
        else:
            yield from reader
    except csv.Error as exc:
        raise InputError(f"cannot read the file as CSV: {exc}", where=_row(name, reader)) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not {table.encoding} text: {exc}", where=_row(name, reader)) from None
    finally:
        if owned:
            (source if isinstance(text, Lines) else text).close()
        elif isinstance(text, io.TextIOWrapper):
            text.detach()  # the caller's file stays open


def _noting_fallbacks(
    reader: Iterable[list[str]], lines: Lines, table: Table
) -> Generator[list[str], None, None]:
    """The rows; those with a line that is not UTF-8 are named in a warning at the end."""
    fell_back: list[int] = []
    for number, row in enumerate(reader, 1):  # the header is row 1, as a spreadsheet shows it
        if lines.fell_back:
            lines.fell_back = False
            fell_back.append(number)
        yield row
    if fell_back:
        table.warnings.append(
            f"not UTF-8 like the rest of the file, so read as Windows-1252 ({FALLBACK}): "
            f"{describe_rows(fell_back)}; check the accented letters there"
        )


def _row(name: str, reader: Any) -> str:
    return f"{name}, line {reader.line_num}"
