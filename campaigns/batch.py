"""A batch of contacts as the loader keeps them: columns of values, a `Contact` when asked.

A large file has a million rows, and most passes over them (counting, writing rejects, storing
each row) need only a few fields; building two dicts and a `Contact` for every row would cost
more than reading the file. `ContactBatch` keeps each row's cells as read and builds a row's
`Contact` when it is indexed or iterated.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from itertools import compress
from typing import overload

from campaigns.model import Contact

Overrides = dict[str, str | None]


Columns = tuple[list[int], list[str], list[list[str]]]  # source rows, E.164, cells


class ContactBatch(Sequence[Contact]):
    """Contacts in source-row order: `source_rows[i]`, `phones[i]` (E.164), `cells[i]`.

    A batch read a column at a time (`campaigns.arrow_rows`) holds its columns as they came and
    makes these lists only when one is first asked for (`later`).
    """

    __slots__ = (
        "_cells", "_columns", "_count", "_later", "_original", "_phones", "_source_rows",
        "_variables", "overrides",
    )  # fmt: skip

    def __init__(
        self,
        columns: tuple[str, ...],
        variables: Callable[[list[str]], dict[str, str]],
        original: int | None = None,
    ) -> None:
        """`original`: the index of a `source_row` column (a results file dialled again), whose
        number each contact keeps instead of its row in this file."""
        self._columns = columns
        self._variables = variables
        self._original = original
        self._source_rows: list[int] = []
        self._phones: list[str] = []
        self._cells: list[list[str]] = []
        self._count = 0
        self._later: Callable[[], Columns] | None = None
        self.overrides: dict[int, Overrides] = {}  # by index, only rows that have some

    def later(self, count: int, columns: Callable[[], Columns]) -> None:
        """Append `count` contacts whose lists `columns()` makes when they are first needed."""
        self._made()
        self._count += count
        if count:
            self._later = columns

    @property
    def source_rows(self) -> list[int]:
        """Each contact's row in this file."""
        return self._made()[0]

    @property
    def phones(self) -> list[str]:
        """Each contact's number, E.164."""
        return self._made()[1]

    @property
    def cells(self) -> list[list[str]]:
        """Each contact's cells, as read."""
        return self._made()[2]

    def _made(self) -> Columns:
        if self._later is not None:
            rows, phones, cells = self._later()
            self._later = None
            self._source_rows += rows
            self._phones += phones
            self._cells += cells
        return self._source_rows, self._phones, self._cells

    def add(self, number: int, e164: str, cells: list[str], overrides: Overrides | None) -> None:
        """Append one contact."""
        self._made()
        if overrides:
            self.overrides[self._count] = overrides
        self._source_rows.append(number)
        self._phones.append(e164)
        self._cells.append(cells)
        self._count += 1

    def extend(
        self, numbers: list[int], phones: list[str], cells: list[list[str]], skip: Collection[int]
    ) -> None:
        """Append contacts given as columns, leaving out the indices in `skip`."""
        self._made()
        if skip:
            keep = bytearray(b"\x01") * len(phones)
            for i in skip:  # a few: no loop over every row
                keep[i] = 0
            numbers, phones = list(compress(numbers, keep)), list(compress(phones, keep))
            cells = list(compress(cells, keep))
        self._source_rows += numbers
        self._phones += phones
        self._cells += cells
        self._count += len(phones)

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> Contact: ...

    @overload
    def __getitem__(self, index: slice) -> list[Contact]: ...

    def __getitem__(self, index: int | slice) -> Contact | list[Contact]:
        if isinstance(index, slice):
            return [self._contact(i) for i in range(len(self))[index]]
        return self._contact(range(len(self))[index])

    def __iter__(self) -> Iterator[Contact]:
        return map(self._contact, range(len(self)))

    def _contact(self, i: int) -> Contact:
        cells = self.cells[i]
        row = dict(zip(self._columns, cells, strict=False))
        overrides = self.overrides.get(i) or {}
        return Contact(
            self._source_row(i), self.phones[i], row, self._variables(cells), **overrides
        )

    def _source_row(self, i: int) -> int:
        """The contact's row in this file, or the one its `source_row` cell names."""
        if self._original is not None:
            cell = self.cells[i][self._original].strip()
            if cell.isdecimal() and int(cell) > 0:
                return int(cell)
        return self.source_rows[i]
