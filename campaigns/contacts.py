"""Contacts in: a file object becomes dialable contacts and, beside them, row-by-row rejects.

    with path.open("rb") as f:
        contacts = open_contacts(f, name=path.name, options=LoadOptions(default_region="GB"))
        for batch, rejects in contacts.batches():
            ...

Every good row is kept, every other row is rejected with its reason, and nothing is guessed: a
number that cannot be read exactly is never dialled. Rows stream in batches, so memory does not
grow with the file (except for one entry per distinct number, to find duplicates).

Speed: a plain UTF-8 CSV (no reserved or fallback phone columns) is read by pyarrow's streaming
reader a column at a time, its NANP numbers checked over the column (`campaigns.arrow_csv`,
`arrow_rows`, `phone_column`); any other file by csv.reader, its phone numbers normalised by a
child process (`campaigns.numbers`) while this one parses the next rows, each batch checked as a
whole where it can be (`RowReader.read_many`). Both give the same contacts and rejects. A batch
is a `ContactBatch`, whose `Contact`s are built only when asked for (docs/benchmarks.md).
"""

from __future__ import annotations

import contextlib
import gc
import io
import itertools
import os
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import IO, TYPE_CHECKING, BinaryIO, cast

import phonenumbers

from campaigns.batch import ContactBatch
from campaigns.columns import Choices, Layout, clean_header, names_phone, plan
from campaigns.model import Contact, Reject
from campaigns.numbers import Numbers, NumbersHere, numbers_elsewhere
from campaigns.renames import Renames, renamed
from campaigns.rows import RowReader
from campaigns.sources import open_table
from campaigns.table import Table
from dialer.errors import InputError
from dialer.phone import NUMBER_TYPES
from dialer.phone_types import DEFAULT_TYPES

if TYPE_CHECKING:
    from campaigns.arrow_csv import ArrowCsv

DEPTH = 3  # batches whose numbers are being normalised while the next rows are read
LARGE_FILE_BYTES = 4 * 1024 * 1024  # the numbers process is started at once for a larger file


@dataclass(frozen=True)
class LoadOptions:
    """How to read a contacts file; the defaults suit a US list with a recognisable header.

    `variables` None means every column that is not the phone, a reserved or a result column.
    `country_column` None finds one by its header (`Country`, `Mailing Country`, `Pays`...), ""
    means none. `fallback_columns`: phone columns read in turn when the phone column is empty;
    None finds them by their headers (`Mobile`, `Work Phone`...), in the file's order.
    `allow_types` None allows every type; the default is every type but the special ones
    (`dialer.phone_types.SPECIAL_TYPES`). `dnc` holds E.164 numbers never to dial.
    """

    phone_column: str | None = None
    default_region: str = "US"
    variables: tuple[str, ...] | None = None
    allow_types: frozenset[str] | None = DEFAULT_TYPES
    dnc: frozenset[str] = frozenset()
    sheet: str | None = None
    country_column: str | None = None
    fallback_columns: tuple[str, ...] | None = None
    renames: Renames = ()  # variables sent under another name (`campaigns.renames`)

    def __post_init__(self) -> None:
        region = self.default_region.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise InputError(
                f"--default-region: {self.default_region!r} is not a region code",
                field="default_region",
            )
        object.__setattr__(self, "default_region", region)
        unknown = sorted((self.allow_types or frozenset()) - NUMBER_TYPES)
        if unknown:
            raise InputError(
                f"--allow-types: unknown type(s) {unknown}; choose from {sorted(NUMBER_TYPES)}",
                field="allow_types",
            )


class ContactFile:
    """An opened contacts file: its columns now, its contacts and rejects as they stream.

    It closes its source once the file is read to the end, on an error, or on `close()`.
    """

    def __init__(
        self,
        name: str,
        table: Table,
        layout: Layout,
        options: LoadOptions | None = None,
        source: IO[bytes] | None = None,
        *,
        parallel: bool = True,
        columnar: bool = True,
    ) -> None:
        self.name = name
        self.layout = layout
        self.format = _describe(table)
        self.blank_rows = 0
        self._table = table
        self._rows = table.rows
        self._source = source
        options = options or LoadOptions()
        sent = replace(layout, variables=renamed(layout.variables, options.renames, name))
        self._reader = RowReader(sent, options, name)
        # Rows are numbered as the spreadsheet shows them (`Table.first_row`).
        self._first_row = table.first_row
        self._next_row = table.first_row  # after the last row done
        self._queued_row = table.first_row  # after the last row read
        # Rows read and sent for their numbers, oldest first, with the number of the first.
        self._pending: deque[tuple[int, list[list[str]]]] = deque()
        self._numbers: Numbers = NumbersHere()
        self._parallel = parallel
        self._read_all = False
        self._holding = False  # of `_GC`, from the first read until closed
        self._arrow: ArrowCsv | None = None
        if columnar and source is not None:
            self._arrow = self._columns_of(cast(BinaryIO, source), table)

    def _columns_of(self, source: BinaryIO, table: Table) -> ArrowCsv | None:
        """pyarrow's reader for a plain UTF-8 CSV (`campaigns.arrow_csv`), else None."""
        from campaigns import arrow_csv, arrow_rows  # pyarrow's import only where it is used

        if not arrow_rows.plain(self._reader) or not arrow_csv.suits(source, table):
            return None
        self._rows.close()  # csv.reader's rows: pyarrow reads the file instead
        try:
            return arrow_csv.ArrowCsv(source, table)
        except arrow_csv.Fallback:
            self._rows = arrow_csv.fallback(source, self.name, 0)
            return None

    def refuse_also(self, numbers: frozenset[str]) -> None:
        """Reject these E.164 numbers too, with reason `dnc` (the account's live do-not-call
        list, beside the `--dnc` file's), from the next row read."""
        self._reader.dnc = self._reader.dnc | numbers

    @property
    def columns(self) -> tuple[str, ...]:
        """Input headers, trimmed, in order."""
        return self.layout.columns

    @property
    def columnar(self) -> bool:
        """Whether pyarrow reads the rest of the file (`campaigns.arrow_csv`), not csv.reader."""
        return self._arrow is not None

    @property
    def delimiter(self) -> str:
        """The CSV's delimiter (`,` for a workbook): results and rejects are written with it."""
        return self._table.delimiter or ","

    @property
    def phone_column(self) -> str:
        """The header of the column read as the phone number."""
        return self.layout.phone_column

    @property
    def country_column(self) -> str | None:
        """The header of the column read as each row's country, if there is one."""
        index = dict(self.layout.reserved).get("country")
        return None if index is None else self.columns[index]

    @property
    def fallback_columns(self) -> tuple[str, ...]:
        """The phone columns read in turn when the phone column is empty."""
        return tuple(self.columns[i] for i in self.layout.fallbacks)

    @property
    def sheets(self) -> tuple[str, ...]:
        """A workbook's sheets, in order (none for a CSV); `sheet` is the one read."""
        return self._table.sheets

    @property
    def sheet(self) -> str | None:
        """The workbook's sheet read (None for a CSV)."""
        return self._table.sheet

    @property
    def variable_columns(self) -> tuple[str, ...]:
        """The headers that become each contact's variables."""
        return tuple(name for name, _ in self.layout.variables)

    @property
    def warnings(self) -> list[str]:
        """What the user should check, known once the file is read (rows in another encoding)."""
        return self._table.warnings

    def batches(self, size: int = 10_000) -> Iterator[tuple[ContactBatch, list[Reject]]]:
        """Contacts and rejects, `size` rows at a time; duplicates are found across batches.

        The file streams once: a second call continues where the first stopped.
        """
        try:
            while batch := self._batch(size):
                yield batch
        except GeneratorExit:
            raise  # left early: a later call continues
        except BaseException:
            self.close()
            raise
        self.close()

    def _batch(self, size: int) -> tuple[ContactBatch, list[Reject]] | None:
        if not self._holding:
            self._holding = True
            _GC.hold()
        if self._arrow is not None:
            from campaigns import arrow_csv

            try:
                return self._columns_batch(self._arrow, size)
            except arrow_csv.Fallback:  # csv.reader reads on from the first row not handed out
                self._arrow.close()
                self._rows = arrow_csv.fallback(self._arrow.source, self.name, self._arrow.handed)
                self._arrow = None
        self._fill(size)
        if not self._pending:
            return None
        start, rows = self._pending.popleft()
        found = self._numbers.receive()
        contacts, rejects = self._reader.batch(), list[Reject]()
        self._next_row = self._reader.read_many(start, rows, found, contacts, rejects)
        self.blank_rows = self._reader.blank_rows
        return contacts, rejects

    def _columns_batch(
        self, reader: ArrowCsv, size: int
    ) -> tuple[ContactBatch, list[Reject]] | None:
        from campaigns.arrow_rows import read_table

        table = reader.read(size)
        if table is None:
            return None
        contacts, rejects = self._reader.batch(), list[Reject]()
        self._next_row = read_table(self._reader, self._next_row, table, contacts, rejects)
        self._queued_row = self._next_row
        self.blank_rows = self._reader.blank_rows
        return contacts, rejects

    def _fill(self, size: int) -> None:
        """Read rows and send their numbers until `DEPTH` batches are in flight (1 at first).

        A file with more than one batch has its numbers normalised by a child process, on the
        other core, while this one reads on: from the start when the file is known to be large,
        else from the second batch.
        """
        started = self._next_row > self._first_row
        first = not started and (_size(self._source) or 0) > LARGE_FILE_BYTES
        later = started and not self._pending and not self._read_all
        if self._parallel and (first or later):
            self._parallel = False  # decided once
            self._numbers = numbers_elsewhere()
        depth = 1 if isinstance(self._numbers, NumbersHere) else DEPTH
        while len(self._pending) < depth and not self._read_all:
            rows = list(itertools.islice(self._rows, size))
            self._read_all = len(rows) < size  # a short read is the end of the file
            if not rows:
                break
            self._numbers.send(*self._reader.numbers(rows))
            self._pending.append((self._queued_row, rows))
            self._queued_row += len(rows)

    def close(self) -> None:
        """Stop reading and close the source."""
        if self._holding:
            self._holding = False
            _GC.release()
        self._numbers.close()
        if self._arrow is not None:
            self._arrow.close()
        self._rows.close()
        if self._source is not None:
            self._source.close()

    def __del__(self) -> None:
        # Dropped without being closed: the collector must not stay off, nor a child linger.
        with contextlib.suppress(Exception):
            self.close()

    def __enter__(self) -> ContactFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_contacts(
    source: BinaryIO,
    *,
    name: str,
    options: LoadOptions | None = None,
    parallel: bool = True,
    columnar: bool = True,
) -> ContactFile:
    """Open a contacts file: read its header and decide its columns (errors surface here).

    The `ContactFile` owns `source`: it is closed when the file is read to the end or on an error.
    `parallel` False keeps all the work in this process (see `ContactFile._fill`); `columnar`
    False reads every file with `csv.reader`, never pyarrow (`campaigns.arrow_csv`).
    """
    options = options or LoadOptions()
    wanted = options.phone_column
    try:
        table = open_table(
            source, name=name, sheet=options.sheet, is_header=lambda row: names_phone(row, wanted)
        )
    except BaseException:
        source.close()
        raise
    try:
        layout = _layout(table, name, options)
        renamed(layout.variables, options.renames, name)  # a refused rename closes the file
    except BaseException:
        table.rows.close()
        source.close()
        raise
    return ContactFile(name, table, layout, options, source, parallel=parallel, columnar=columnar)


def _layout(table: Table, name: str, options: LoadOptions) -> Layout:
    columns = clean_header(table.header, name, table.first_row - 1)
    wanted = options.phone_column
    others = [sheet for sheet in table.sheets if sheet != table.sheet]
    if others and not names_phone(columns, wanted):
        what = f"no column {wanted!r}" if wanted else "no phone column"
        raise InputError(
            f"sheet {table.sheet!r} has {what} (its headers are {list(columns)}); the "
            f"workbook's sheets are {list(table.sheets)}: choose one with --sheet "
            f"{_quoted(others[0])}"
            + ("" if wanted else ", or name the column with --phone-column"),
            where=name,
            field="sheet",
        )
    choices = Choices(wanted, options.variables, options.country_column, options.fallback_columns)
    return plan(columns, name, choices=choices)


def _quoted(sheet: str) -> str:
    return sheet if sheet.replace("_", "").replace("-", "").isalnum() else repr(sheet)


class _NoCycleCollection:
    """The cyclic garbage collector off while any file streams, back on when the last is closed.

    Reading makes no reference cycles, only many short-lived lists, and collecting them (which
    walks every live object) cost about 6% of loading a large file. The collector is global,
    so holds are counted across threads.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holds = 0
        self._was_enabled = False

    def hold(self) -> None:
        with self._lock:
            if not self._holds:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._holds += 1

    def release(self) -> None:
        with self._lock:
            self._holds -= 1
            if not self._holds and self._was_enabled:
                gc.enable()


_GC = _NoCycleCollection()


def _size(source: IO[bytes] | None) -> int | None:
    try:
        return os.fstat(source.fileno()).st_size if source is not None else None
    except (OSError, ValueError, io.UnsupportedOperation):
        return None


def _describe(table: Table) -> str:
    if table.sheet is not None:
        return f"xlsx, sheet {table.sheet!r}"
    shown = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}[table.delimiter or ","]
    return f"CSV, {table.encoding}, {shown}-separated"


@dataclass
class LoadResult:
    """A whole small file in memory: contacts, rejects and the columns it was read with."""

    contacts: list[Contact] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    columns: tuple[str, ...] = ()
    phone_column: str = ""
    variable_columns: tuple[str, ...] = ()
    blank_rows: int = 0


def load_contacts(source: BinaryIO, *, name: str, options: LoadOptions | None = None) -> LoadResult:
    """Read a whole contacts file into memory (for small files; stream large ones)."""
    opened = open_contacts(source, name=name, options=options)
    result = LoadResult(
        columns=opened.columns,
        phone_column=opened.phone_column,
        variable_columns=opened.variable_columns,
    )
    for contacts, rejects in opened.batches():
        result.contacts.extend(contacts)
        result.rejects.extend(rejects)
    result.blank_rows = opened.blank_rows
    return result


def parse_list(text: str | None) -> tuple[str, ...] | None:
    """`"a, b,c"` as `("a", "b", "c")`; None or blank as None (for comma-separated options)."""
    if text is None or not text.strip():
        return None
    return tuple(part.strip() for part in text.split(",") if part.strip())


def parse_types(text: str | None) -> frozenset[str] | None:
    """`--allow-types`: None or blank is the default types, `all` is None (every type)."""
    types = parse_list(text)
    if types is None:
        return DEFAULT_TYPES
    return None if types == ("all",) else frozenset(types)


__all__: Sequence[str] = (
    "ContactFile",
    "LoadOptions",
    "LoadResult",
    "load_contacts",
    "open_contacts",
    "parse_list",
    "parse_types",
)
