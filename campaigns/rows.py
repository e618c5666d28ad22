"""One data row to a `Contact` or a `Reject`: the checks, in order, and the reasons they give."""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Callable
from itertools import compress
from operator import attrgetter, itemgetter

from campaigns.batch import ContactBatch, Overrides
from campaigns.columns import Layout, key
from campaigns.countries import region_of
from campaigns.model import Reject, RejectReason
from campaigns.numbers import Failure, Found, failure
from dialer.errors import InvalidNumber
from dialer.phone import normalize, number_type
from dialer.phone_types import DEFAULT_TYPES, special_candidates, special_type

MAX_CELL_CHARS = 100_000
SHOWN_CHARS = 100


class RowReader:
    """Turns rows into contacts or rejects; remembers numbers already taken, to find duplicates.

    The checks run in this order: shape (cell count, cell size), phone number, do-not-call list,
    allowed types, reserved columns, duplicate of an earlier contact.
    """

    def __init__(self, layout: Layout, options: object, name: str) -> None:
        self.columns = layout.columns
        self.width = len(layout.columns)
        self.phone = layout.phone_index
        self.phone_column = layout.phone_column
        self.fallbacks = layout.fallbacks
        self.reserved = dict(layout.reserved)
        self.region: str = getattr(options, "default_region", "US")
        self.dnc: frozenset[str] = getattr(options, "dnc", frozenset())
        self.allow: frozenset[str] | None = getattr(options, "allow_types", None)
        # Only special types can be refused: the fast check of `dialer.phone_types` applies.
        self.fast_types = self.allow is None or self.allow >= DEFAULT_TYPES
        self.variables = _picker(layout.variables)
        from campaigns.seen import SeenNumbers  # numpy: imported by a load, not by the CLI

        self.seen = SeenNumbers()  # E.164 -> the first row that has it
        self.blank_rows = 0
        self.name = name
        keys = [key(column) for column in layout.columns]
        # A results file dialled again: each contact keeps the row number it had at first.
        self.original = keys.index("source_row") if layout.is_results_file else None

    def batch(self) -> ContactBatch:
        """An empty batch for this file's contacts."""
        return ContactBatch(self.columns, self.variables, self.original)

    def numbers(self, rows: list[list[str]]) -> tuple[list[str], list[str] | str]:
        """The phone text of each row and the region to read it in (one for all, or per row).

        Rows whose shape or reserved columns are wrong get a result too; `read_many` rejects
        them before looking at it.
        """
        phone, width = self.phone, self.width
        if self.fallbacks:
            phones = [cells[self._used(cells)] if len(cells) == width else "" for cells in rows]
        elif set(map(len, rows)) == {width}:  # the common case, without a loop in Python
            phones = list(map(itemgetter(phone), rows))
        else:
            phones = [cells[phone] if len(cells) == width else "" for cells in rows]
        country = self.reserved.get("country")
        if country is None:
            return phones, self.region
        return phones, [self._region(cells, country) for cells in rows]

    def _region(self, cells: list[str], country: int) -> str:
        code = region_of(cells[country]) if len(cells) == self.width else None
        return code or self.region

    def _used(self, cells: list[str]) -> int:
        """The index of the phone column read for this row: the first of the phone column and
        its fallbacks that is not empty (the phone column when all are)."""
        if cells[self.phone].strip():
            return self.phone
        return next((i for i in self.fallbacks if cells[i].strip()), self.phone)

    def read(
        self,
        number: int,
        cells: list[str],
        result: str | Failure,
        batch: ContactBatch,
        out: list[Reject],
    ) -> None:
        """Add row `number` to `batch`, or its reason to `out` (a blank row to neither).

        `result` is what `numbers()` asked for this row, normalised.
        """
        if len(cells) != self.width or sum(map(len, cells)) > MAX_CELL_CHARS:
            if _blank(cells):
                self.blank_rows += 1
                return
            problem = self._shape(number, cells)
            if problem is not None:
                out.append(problem)
                return
        overrides = self._overrides(cells) if self.reserved else None
        if isinstance(overrides, str):
            out.append(self._reject(number, cells, RejectReason.INVALID_FIELD, overrides))
            return
        if not isinstance(result, str):
            self._not_read(number, cells, failure(result), out)
            return
        problem = self._screen(number, cells, result)
        if problem is not None:
            out.append(problem)
            return
        batch.add(number, result, cells, overrides)

    def read_many(
        self,
        number: int,
        rows: list[list[str]],
        found: Found,
        batch: ContactBatch,
        out: list[Reject],
    ) -> int:
        """`read` rows `number`, `number + 1`, ... in turn; return the number after the last."""
        plain = not self.reserved and self.fast_types
        if not (plain and self._read_plain(number, rows, found, batch, out)):
            for i, (cells, result) in enumerate(zip(rows, found.results(), strict=True)):
                self.read(number + i, cells, result, batch, out)
        return number + len(rows)

    def _read_plain(
        self,
        number: int,
        rows: list[list[str]],
        found: Found,
        batch: ContactBatch,
        out: list[Reject],
    ) -> bool:
        """`read_many` for a file without reserved columns or rules on ordinary types, a batch at
        a time.

        The rows with a number are checked together (cell sizes, do-not-call, types, duplicates);
        only those that fail are looked at one by one. False, having done nothing, when a cell
        is oversized: then every row is read by `read`.
        """
        numbers = list(compress(range(number, number + len(rows)), found.mask))
        cells = list(compress(rows, found.mask))
        # No row longer than a cell may be means no cell is too long (joining is the quick way).
        if max(map(len, map("".join, cells)), default=0) > MAX_CELL_CHARS:
            return False
        dropped = self._dropped(numbers, cells, found.phones)
        for i, result in found.failures.items():
            self.read(number + i, rows[i], result, batch, out)
        if dropped:
            out += dropped.values()
            out.sort(key=attrgetter("source_row"))
        batch.extend(numbers, found.phones, cells, dropped)
        return True

    def _dropped(
        self, numbers: list[int], cells: list[list[str]], phones: list[str]
    ) -> dict[int, Reject]:
        """The do-not-call, wrong-type and duplicate rejects among rows with a number, by index;
        the other rows take their numbers (`SeenNumbers.first_rows`). A number on the
        do-not-call list or of a refused type is refused on every row, so it never clashes."""
        import numpy as np

        from campaigns.seen import key as number_key

        dropped = self._refused(numbers, cells, phones)
        keys = np.fromiter(map(number_key, phones), np.int64, len(phones))
        rows = np.array(numbers, dtype=np.int64)
        firsts = self.seen.first_rows(keys, rows)
        for i in np.flatnonzero(firsts != rows).tolist():
            if i not in dropped:
                detail = f"same number as row {int(firsts[i])} ({phones[i]})"
                dropped[i] = self.duplicate(numbers[i], cells[i], detail)
        return dropped

    def _refused(
        self, numbers: list[int], cells: list[list[str]], phones: list[str]
    ) -> dict[int, Reject]:
        """The rows whose number is on the do-not-call list or of a refused type, by index."""
        dropped: dict[int, Reject] = {}
        if self.dnc and not self.dnc.isdisjoint(phones):
            for i, e164 in enumerate(phones):
                if e164 in self.dnc:
                    dropped[i] = self._on_dnc(numbers[i], cells[i], e164)
        for i in special_candidates(phones) if self.allow is not None else ():
            problem = self._wrong_type(numbers[i], cells[i], phones[i])
            if problem is not None and i not in dropped:
                dropped[i] = problem
        return dropped

    def _not_read(
        self, number: int, cells: list[str], exc: InvalidNumber, out: list[Reject]
    ) -> None:
        if exc.reason == "missing_number" and _blank(cells):
            self.blank_rows += 1
        else:
            out.append(self._invalid(number, cells, exc))

    def _screen(self, number: int, cells: list[str], e164: str) -> Reject | None:
        problem = self.refusal(number, cells, e164)
        if problem is not None:
            return problem
        first = self.seen.setdefault(e164, number)
        if first != number:
            return self.duplicate(number, cells, f"same number as row {first} ({e164})")
        return None

    def refusal(self, number: int, cells: list[str], e164: str) -> Reject | None:
        """The reject of a row whose number is on the do-not-call list or of a refused type."""
        if e164 in self.dnc:
            return self._on_dnc(number, cells, e164)
        return self._wrong_type(number, cells, e164)

    def duplicate(self, number: int, cells: list[str], detail: str) -> Reject:
        """The reject of a row whose number an earlier row has."""
        return self._reject(number, cells, RejectReason.DUPLICATE, detail)

    def _wrong_type(self, number: int, cells: list[str], e164: str) -> Reject | None:
        if self.allow is None:
            return None
        kind = special_type(e164) if self.fast_types else number_type(e164)
        if kind is None or _type_allowed(kind, self.allow):
            return None
        return self._reject(number, cells, RejectReason.WRONG_TYPE, f"{e164} is {kind}")

    def _on_dnc(self, number: int, cells: list[str], e164: str) -> Reject:
        detail = f"{e164} is on the do-not-call list"
        return self._reject(number, cells, RejectReason.DNC, detail)

    def _shape(self, number: int, cells: list[str]) -> Reject | None:
        """A ragged row or an oversized cell."""
        if len(cells) != self.width:
            cells_text = "1 cell" if len(cells) == 1 else f"{len(cells)} cells"
            detail = f"the row has {cells_text} but the header has {self.width}"
            return self._reject(number, cells, RejectReason.MALFORMED_ROW, detail)
        for column, cell in zip(self.columns, cells, strict=True):
            if len(cell) > MAX_CELL_CHARS:
                detail = f"column {column!r} holds {len(cell):,} characters"
                detail += f" (at most {MAX_CELL_CHARS:,})"
                return self._reject(number, cells, RejectReason.MALFORMED_ROW, detail)
        return None

    def _invalid(self, number: int, cells: list[str], exc: InvalidNumber) -> Reject:
        if [cell.strip() for cell in cells] == list(self.columns):
            detail = "the row repeats the header (were two files joined?)"
            return self._reject(number, cells, RejectReason.MALFORMED_ROW, detail)
        if exc.reason == "missing_number" and self.fallbacks:
            names = ", ".join(repr(self.columns[i]) for i in (self.phone, *self.fallbacks))
            detail = f"no phone number: the columns {names} are all empty"
        else:
            detail = f"column {self.columns[self._used(cells)]!r}: {exc}"
        return self._reject(number, cells, RejectReason(exc.reason), detail)

    def _reject(self, number: int, cells: list[str], reason: RejectReason, detail: str) -> Reject:
        if len(cells) == self.width:
            phone = cells[self._used(cells)]
        else:
            phone = cells[self.phone] if self.phone < len(cells) else ""
        return Reject(number, _clip(phone), reason, _clip(detail, 300))

    def _overrides(self, cells: list[str]) -> Overrides | str:
        """Per-row values of the reserved columns, or the text of why one cannot be used."""
        values = {name: cells[i].strip() or None for name, i in self.reserved.items()}
        country = values.get("country")
        if country is not None:
            code = region_of(country)
            if code is None:
                column = self.columns[self.reserved["country"]]
                return f"column {column!r}: {_clip(country)!r} is not a country we know"
            values["country"] = code
        zone = values.get("timezone")
        if zone is not None and not _is_zone(zone):
            return f"column 'timezone': {_clip(zone)!r} is not an IANA time zone"
        caller = values.get("from_number")
        if caller is not None:
            try:
                values["from_number"] = normalize(caller, values.get("country") or self.region)
            except InvalidNumber as exc:
                return f"column 'from_number': {exc}"
        return values


def _picker(variables: tuple[tuple[str, int], ...]) -> Callable[[list[str]], dict[str, str]]:
    names = [name for name, _ in variables]
    indices = [i for _, i in variables]
    if len(indices) < 2:
        return lambda cells: {name: cells[i].strip() for name, i in variables}
    pick = itemgetter(*indices)
    return lambda cells: dict(zip(names, map(str.strip, pick(cells)), strict=True))


def _blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def _type_allowed(kind: str, allow: frozenset[str]) -> bool:
    if kind == "fixed_line_or_mobile":
        return bool(allow & {"fixed_line", "mobile", "fixed_line_or_mobile"})
    return kind in allow


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _is_zone(name: str) -> bool:
    return name in _zones()


def _clip(text: str, limit: int = SHOWN_CHARS) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"
