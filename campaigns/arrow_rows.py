"""Rows read a column at a time (`campaigns.arrow_csv`) to contacts and rejects.

This is `RowReader.read_many` for a file without reserved or fallback columns, done over
columns: the phone column is read at once where it can be (`campaigns.phone_column`), the rest of
its numbers one by one by `normalize`; duplicates are found as int64 (`campaigns.seen`); only the
rows that are rejected become Python lists here, through the same `RowReader` methods, so the
reasons and messages are the ones `read_many` gives. The contacts' lists are made only if asked
for (`ContactBatch.later`): `dialer validate` counts them and never does.
"""

from __future__ import annotations

import functools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from campaigns.arrow_numpy import ints, mask, strings
from campaigns.batch import Columns, ContactBatch
from campaigns.model import Reject
from campaigns.numbers import Failure, Found, normalize_all
from campaigns.phone_column import read_nanp
from campaigns.rows import MAX_CELL_CHARS, RowReader
from campaigns.seen import key
from dialer.errors import InvalidNumber
from dialer.phone import normalize
from dialer.phone_types import special_candidates


def plain(reader: RowReader) -> bool:
    """Whether `reader`'s rows can be read here: no reserved or fallback columns, and only the
    special number types can be refused."""
    return not reader.reserved and not reader.fallbacks and reader.fast_types


def rows_of(table: pa.Table) -> list[list[str]]:
    """The table's rows as lists of cell texts."""
    columns = [column.to_pylist() for column in table.columns]
    return [list(row) for row in zip(*columns, strict=True)]


def read_table(
    reader: RowReader, number: int, table: pa.Table, batch: ContactBatch, out: list[Reject]
) -> int:
    """`reader.read_many` of the table's rows, numbered from `number`; the number after them."""
    if _oversized(table):  # a row with too long a cell: read as rows, where that is decided
        rows = rows_of(table)
        return reader.read_many(number, rows, normalize_all(*reader.numbers(rows)), batch, out)
    _Batch(reader, number, table).read(batch, out)
    return number + int(table.num_rows)


def _oversized(table: pa.Table) -> bool:
    if not table.num_rows:
        return False
    lengths = [pc.utf8_length(column) for column in table.columns]
    total = lengths[0]
    for length in lengths[1:]:
        total = pc.add(total, length)
    return bool(pc.max(total).as_py() > MAX_CELL_CHARS)


class _Batch:
    """One table of rows: which have a number (E.164, as text and int64), which are refused."""

    def __init__(self, reader: RowReader, number: int, table: pa.Table) -> None:
        self.reader, self.number, self.table = reader, number, table
        phones = table.column(reader.phone)
        nanp = read_nanp(phones, reader.region)
        others = np.flatnonzero(~nanp.taken)
        self.found = _normalize_all(phones.take(ints(others)).to_pylist(), reader.region)
        found_at = others[np.frombuffer(self.found.mask, dtype=bool)]
        self.failures = {int(others[i]): result for i, result in self.found.failures.items()}
        # Rows with a number, in row order, and their E.164 as text and as int64.
        at = np.concatenate((np.flatnonzero(nanp.taken), found_at))
        order = np.argsort(at, kind="stable")
        self.numbered = at[order]
        others_e164 = strings(self.found.phones)
        self.e164 = pa.concat_arrays([nanp.e164(), others_e164]).take(ints(order))
        others_keys = np.fromiter(map(key, self.found.phones), np.int64, len(self.found.phones))
        self.keys = np.concatenate((nanp.keys, others_keys))[order]
        special = np.flatnonzero(nanp.taken)[nanp.may_be_special()]
        special_others = found_at[special_candidates(self.found.phones)]
        self.special = np.concatenate((special, special_others)).astype(np.int64)

    def read(self, batch: ContactBatch, out: list[Reject]) -> None:
        """Rejects into `out` in row order, the other rows with a number into `batch`."""
        reader, number = self.reader, self.number
        rows = self.numbered + number
        refused = self._refused_rows()
        firsts = reader.seen.first_rows(self.keys, rows)
        duplicates = [j for j in np.flatnonzero(firsts != rows).tolist() if j not in refused]
        looked_at = sorted(
            {*self.failures, *(int(self.numbered[j]) for j in (*refused, *duplicates))}
        )
        taken = self.table.take(ints(np.array(looked_at, dtype=np.int64)))
        cells = dict(zip(looked_at, rows_of(taken), strict=True))
        for i, result in self.failures.items():
            reader.read(number + i, cells[i], result, batch, out)
        dropped = self._refusals(refused, cells)
        for j in duplicates:
            i, e164 = int(self.numbered[j]), self.e164[j].as_py()
            detail = f"same number as row {int(firsts[j])} ({e164})"
            dropped[j] = reader.duplicate(number + i, cells[i], detail)
        if dropped:
            out += dropped.values()
            out.sort(key=lambda reject: reject.source_row)
        keep = np.ones(len(rows), dtype=bool)
        keep[list(dropped)] = False
        batch.later(int(keep.sum()), lambda: self._columns(keep))

    def _refused_rows(self) -> set[int]:
        """Indices into `numbered` that may be refused (do-not-call, special types)."""
        refused: set[int] = set()
        reader = self.reader
        if reader.dnc:
            dnc = np.fromiter(map(key, reader.dnc), np.int64, len(reader.dnc))
            refused.update(np.flatnonzero(np.isin(self.keys, dnc)).tolist())
        if reader.allow is not None and len(self.special):
            refused.update(np.searchsorted(self.numbered, self.special).tolist())
        return refused

    def _refusals(self, refused: set[int], cells: dict[int, list[str]]) -> dict[int, Reject]:
        """The rejects among rows that may be refused, by index into `numbered`."""
        dropped: dict[int, Reject] = {}
        for j in sorted(refused):
            i, e164 = int(self.numbered[j]), self.e164[j].as_py()
            problem = self.reader.refusal(self.number + i, cells[i], e164)
            if problem is not None:
                dropped[j] = problem
        return dropped

    def _columns(self, keep: np.ndarray) -> Columns:
        kept = self.numbered[keep]
        rows = (kept + self.number).tolist()
        return rows, self.e164.filter(mask(keep)).to_pylist(), rows_of(self.table.take(ints(kept)))


def _normalize_all(phones: list[str], region: str) -> Found:
    """`campaigns.numbers.normalize_all`, remembering recent answers: the same few texts
    ("n/a", "555-0123") come back in many rows, and refusing one may cost a full parse."""
    found: list[str] = []
    mask = bytearray(len(phones))
    failures: dict[int, Failure] = {}
    for i, phone in enumerate(phones):
        result = _normalized(phone, region)
        if isinstance(result, str):
            found.append(result)
            mask[i] = 1
        else:
            failures[i] = result
    return Found(found, bytes(mask), failures)


@functools.lru_cache(maxsize=4096)
def _normalized(phone: str, region: str) -> str | Failure:
    try:
        return normalize(phone, region)
    except InvalidNumber as exc:
        return (exc.reason, str(exc))
