"""Bytes to rows of text: recognise the file, decode it, sniff the delimiter, or read a workbook.

Every cell comes out as the text the file holds; nothing is parsed as a number. A file that is
not a table (a PDF, a binary, a legacy `.xls`) is refused with an `InputError` naming it.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import IO, Any, BinaryIO

from dialer.errors import InputError

DELIMITERS = (",", ";", "\t", "|")
SNIFF_CHARS = 64 * 1024
# Cells up to this size are read, so that an oversized one can be reported as a row's problem;
# the csv module's default (128 KiB) would stop the whole file instead.
FIELD_LIMIT = 64 * 1024 * 1024
csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))  # fmt: skip
_CP1252_UNDEFINED = b"\x81\x8d\x8f\x90\x9d"


@dataclass
class Table:
    """A header and a stream of data rows, each a list of cell texts."""

    header: list[str]
    rows: Generator[list[str], None, None]
    encoding: str
    delimiter: str | None = None
    sheet: str | None = None


def open_table(source: BinaryIO, *, name: str, sheet: str | None = None) -> Table:
    """Recognise `source` (CSV in any common encoding and delimiter, or `.xlsx`) and open it."""
    if source.seekable():
        return _open(source, name, sheet, owned=False)
    # A pipe is copied aside once: detecting the encoding reads the file twice.
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115
    shutil.copyfileobj(source, spool)
    spool.seek(0)
    try:
        return _open(spool, name, sheet, owned=True)  # type: ignore[arg-type]
    except InputError:
        spool.close()
        raise


def _open(source: BinaryIO, name: str, sheet: str | None, *, owned: bool) -> Table:
    """Open a seekable file; when `owned`, closing the rows closes it too."""
    head = source.read(8192)
    source.seek(0)
    if not head:
        raise InputError("the file is empty", where=name)
    if head.startswith(b"PK\x03\x04"):
        return _open_xlsx(source, name, sheet, owned)
    _refuse_binary(head, name)
    encoding = _detect_encoding(source, head)
    return _open_csv(source, name, encoding, owned)


def _refuse_binary(head: bytes, name: str) -> None:
    if head.startswith(b"%PDF"):
        raise InputError("this is a PDF document, not a CSV or .xlsx file", where=name)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError("legacy .xls workbooks are not read: save it as .xlsx or CSV", where=name)
    if not any(head.startswith(bom) for bom, _ in _BOMS) and b"\x00" in head:
        raise InputError(
            "this is a binary file, not text (UTF-16 files need a byte-order mark)", where=name
        )


def _detect_encoding(source: BinaryIO, head: bytes) -> str:
    """The file's encoding: from its BOM, else UTF-8 if every byte decodes, else cp1252/latin-1."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    found = "utf-8" if _decodes(source, "utf-8") else "cp1252"
    if found == "cp1252" and not _decodes(source, "cp1252"):
        found = "latin-1"
    source.seek(0)
    return found


def _decodes(source: BinaryIO, encoding: str) -> bool:
    source.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        while chunk := source.read(1024 * 1024):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _open_csv(source: BinaryIO, name: str, encoding: str, owned: bool) -> Table:
    text = io.TextIOWrapper(source, encoding=encoding, newline="")
    sample = text.read(SNIFF_CHARS)
    delimiter = sniff_delimiter(sample, truncated=len(sample) == SNIFF_CHARS)
    text.seek(0)
    rows = _csv_rows(text, name, delimiter, owned)
    header = next(rows, None)
    if header is None or not any(cell.strip() for cell in header):
        rows.close()
        raise InputError("the file has no header row", where=name)
    return Table(header, rows, encoding, delimiter)


def sniff_delimiter(sample: str, *, truncated: bool = False) -> str:
    """The delimiter among `, ; TAB |` that splits the sample into the most consistent rows."""

    def score(delimiter: str) -> tuple[bool, int, int]:
        rows = [r for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if r][:50]
        if truncated and len(rows) > 1:
            rows.pop()
        if not rows:
            return (False, 0, 0)
        width = len(rows[0])
        return (width > 1, sum(len(r) == width for r in rows), width)

    return max(DELIMITERS, key=score)


def _csv_rows(
    text: io.TextIOWrapper, name: str, delimiter: str, owned: bool
) -> Generator[list[str], None, None]:
    reader = csv.reader(text, delimiter=delimiter, strict=False)
    try:
        yield from reader
    except csv.Error as exc:
        raise InputError(f"cannot read the file as CSV: {exc}", where=_row(name, reader)) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not {text.encoding} text: {exc}", where=_row(name, reader)) from None
    finally:
        if owned:
            text.close()
        else:
            text.detach()  # the caller's file stays open


def _row(name: str, reader: Any) -> str:
    return f"{name}, line {reader.line_num}"


def _open_xlsx(source: BinaryIO, name: str, sheet: str | None, owned: bool) -> Table:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = load_workbook(source, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise InputError(f"not a readable .xlsx workbook ({exc})", where=name) from None
    if sheet is not None and sheet not in book.sheetnames:
        book.close()
        raise InputError(f"no sheet {sheet!r}; the sheets are {book.sheetnames}", where=name)
    worksheet = book[sheet] if sheet is not None else book.worksheets[0]
    rows = _xlsx_rows(book, worksheet, source if owned else None)
    header = next(rows, None)
    while header is not None and not any(cell.strip() for cell in header):
        header = next(rows, None)
    if header is None:
        raise InputError(f"sheet {worksheet.title!r} is empty", where=name)
    while header and not header[-1].strip():
        header.pop()
    return Table(header, _fit(rows, len(header)), "xlsx", sheet=worksheet.title)


def _xlsx_rows(book: Any, worksheet: Any, owned: BinaryIO | None) -> Iterator[list[str]]:
    try:
        for values in worksheet.iter_rows(values_only=True):
            yield [cell_text(value) for value in values]
    finally:
        book.close()
        if owned is not None:
            owned.close()


def _fit(rows: Iterator[list[str]], width: int) -> Generator[list[str], None, None]:
    """Workbook rows padded or trimmed to the header (a sheet has no ragged rows, only blanks)."""
    for row in rows:
        if len(row) < width:
            row.extend([""] * (width - len(row)))
        elif len(row) > width and not any(c.strip() for c in row[width:]):
            del row[width:]
        yield row


def cell_text(value: object) -> str:
    """A workbook cell as the text a person sees: whole numbers without `.0`, dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)
