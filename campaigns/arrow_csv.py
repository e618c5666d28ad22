"""A plain UTF-8 CSV read a column at a time by pyarrow's streaming CSV reader.

Most contacts files are UTF-8, split by one of `, ; TAB |`, with every row as wide as its header.
For those, pyarrow parses blocks of the file in C, on both cores, into columns of strings, never
the whole file in memory, in about a third of the time `csv.reader` takes. It must read exactly
what `csv.reader` reads, so it is used only where nothing can differ:

- a file (or `BytesIO`), UTF-8 throughout (a byte-order mark or not: `campaigns.decoding`);
- no NUL byte, no line break in the header;
- every row as wide as the header (a blank line is a row of empty cells to pyarrow, and a
  blank row to `RowReader` as csv.reader's empty row is), and nothing pyarrow refuses. At the
  first row that is not, the file goes back to `csv.reader` from the first row not yet handed
  out, skipping those that were (`fallback`), so the row numbers are unchanged.
"""

from __future__ import annotations

import io
import itertools
import os
from collections.abc import Generator
from typing import BinaryIO

import pyarrow as pa
import pyarrow.csv as pacsv

from campaigns.sources import open_table
from campaigns.table import Table

BLOCK_BYTES = 1 << 20  # per block parsed; a row longer than this sends the file to `csv.reader`
SCAN_BYTES = 1 << 20
UTF8 = ("utf-8", "utf-8-sig")


class Fallback(Exception):
    """pyarrow cannot read the rest as `csv.reader` would: read on with `csv.reader`."""


def suits(source: BinaryIO, table: Table) -> bool:
    """Whether the CSV `table` opened from `source` can be read here (see the module's list)."""
    if table.sheet is not None or table.encoding not in UTF8 or table.per_line:
        return False
    if any("\n" in cell or "\r" in cell for cell in table.header):
        return False
    at = source.tell()  # where `table.rows` reads on, should the answer be no
    try:
        return not _has_nul(source)
    finally:
        source.seek(at)


def _has_nul(source: BinaryIO) -> bool:
    """Whether the file has a NUL byte (`csv.reader` refuses the file, pyarrow would not)."""
    source.seek(0)
    while chunk := source.read(SCAN_BYTES):
        if b"\x00" in chunk:
            return True
    return False


class ArrowCsv:
    """The data rows of a CSV as `pyarrow.Table`s of `size` rows of strings, in file order."""

    def __init__(self, source: BinaryIO, table: Table) -> None:
        self.source = source
        self._width = len(table.header)
        self._buffer: list[pa.RecordBatch] = []
        self._buffered = 0
        self._done = False
        self.handed = 0  # data rows handed out
        names = [str(i) for i in range(self._width)]
        own = _own_reads(source)
        if own is None:
            raise Fallback
        self._file = own
        try:
            self._reader = self._open(own, table.delimiter or ",", names)
        except pa.ArrowException:
            own.close()
            raise Fallback from None

    def _open(
        self, source: pa.NativeFile, delimiter: str, names: list[str]
    ) -> pacsv.CSVStreamingReader:
        return pacsv.open_csv(
            source,
            read_options=pacsv.ReadOptions(
                column_names=names, skip_rows=1, block_size=BLOCK_BYTES, use_threads=True
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                newlines_in_values=True,
                ignore_empty_lines=False,  # a row with an error (a ragged one) raises
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )

    def read(self, size: int) -> pa.Table | None:
        """The next `size` rows (fewer at the end), None after the last; `Fallback` when the
        rest must be read by `csv.reader` (nothing of it was handed out)."""
        while self._buffered < size and not self._done:
            try:
                batch = self._reader.read_next_batch()
            except StopIteration:
                self._done = True
                break
            except pa.ArrowException:  # a ragged row, a row longer than a block...
                raise Fallback from None
            self._buffer.append(batch)
            self._buffered += batch.num_rows
        if not self._buffered:
            return None
        whole = pa.Table.from_batches(self._buffer)
        taken, rest = whole.slice(0, size).combine_chunks(), whole.slice(size)
        self._buffer = rest.to_batches()
        self._buffered = rest.num_rows
        self.handed += taken.num_rows
        return taken

    def close(self) -> None:
        """Stop reading (the source stays open)."""
        self._reader.close()
        self._file.close()


def _own_reads(source: BinaryIO) -> pa.NativeFile | None:
    """`source` as pyarrow reads it, with a file of its own, read in C: its read-ahead thread
    never moves `source` (`fallback` reads it again) nor calls into Python (which would stop
    the interpreter if it ended meanwhile). None when there is no such file."""
    if isinstance(source, io.BytesIO):
        return pa.BufferReader(source.getvalue())
    name = getattr(source, "name", None)
    try:
        if isinstance(name, str) and os.path.samestat(os.fstat(source.fileno()), os.stat(name)):
            return pa.OSFile(name)
    except (OSError, AttributeError, ValueError):  # io.UnsupportedOperation is an OSError
        pass
    return None


def fallback(source: BinaryIO, name: str, skip: int) -> Generator[list[str], None, None]:
    """The CSV's data rows from `csv.reader`, after the first `skip` (see `ArrowCsv.read`)."""
    source.seek(0)
    rows = open_table(source, name=name).rows
    next(itertools.islice(rows, skip, skip), None)
    return rows
