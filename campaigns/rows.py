"""One data row to a `Contact` or a `Reject`: the checks, in order, and the reasons they give."""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Callable, Iterable
from operator import itemgetter

import phonenumbers

from campaigns.columns import Layout
from campaigns.model import Contact, Reject, RejectReason
from dialer.errors import InvalidNumber
from dialer.phone import normalize, number_type

MAX_CELL_CHARS = 100_000
SHOWN_CHARS = 100

Overrides = dict[str, str | None]


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
        self.reserved = dict(layout.reserved)
        self.region: str = getattr(options, "default_region", "US")
        self.dnc: frozenset[str] = getattr(options, "dnc", frozenset())
        self.allow: frozenset[str] | None = getattr(options, "allow_types", None)
        self.variables = _picker(layout.variables)
        self.seen: dict[int, int] = {}
        self.blank_rows = 0
        self.name = name

    def read(
        self, number: int, cells: list[str], contacts: list[Contact], out: list[Reject]
    ) -> None:
        """Append row `number` to `contacts`, or its reason to `out` (a blank row to neither)."""
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
        region = (overrides or {}).get("country") or self.region
        try:
            e164 = normalize(cells[self.phone], region)
        except InvalidNumber as exc:
            self._not_read(number, cells, exc, out)
            return
        problem = self._screen(number, cells, e164)
        if problem is not None:
            out.append(problem)
            return
        row = dict(zip(self.columns, cells, strict=False))
        contacts.append(Contact(number, e164, row, self.variables(cells), **(overrides or {})))

    def read_many(
        self, number: int, rows: Iterable[list[str]], contacts: list[Contact], out: list[Reject]
    ) -> int:
        """`read` rows `number`, `number + 1`, ... in turn; return the number after the last."""
        if not self.reserved and self.allow is None:
            return self._read_plain(number, rows, contacts, out)
        for cells in rows:
            self.read(number, cells, contacts, out)
            number += 1
        return number

    def _read_plain(
        self, number: int, rows: Iterable[list[str]], contacts: list[Contact], out: list[Reject]
    ) -> int:
        """`read` with the common case inlined: about a third of the time for a large file."""
        width, phone, region, dnc, seen = self.width, self.phone, self.region, self.dnc, self.seen
        columns, variables, add = self.columns, self.variables, contacts.append
        for cells in rows:
            if len(cells) == width and sum(map(len, cells)) <= MAX_CELL_CHARS:
                try:
                    e164 = normalize(cells[phone], region)
                except InvalidNumber as exc:
                    self._not_read(number, cells, exc, out)
                    number += 1
                    continue
                if e164 not in dnc and seen.setdefault(int(e164[1:]), number) == number:
                    add(
                        Contact(
                            number, e164, dict(zip(columns, cells, strict=False)), variables(cells)
                        )
                    )
                    number += 1
                    continue
            self.read(number, cells, contacts, out)
            number += 1
        return number

    def _not_read(
        self, number: int, cells: list[str], exc: InvalidNumber, out: list[Reject]
    ) -> None:
        if exc.reason == "missing_number" and _blank(cells):
            self.blank_rows += 1
        else:
            out.append(self._invalid(number, cells, exc))

    def _screen(self, number: int, cells: list[str], e164: str) -> Reject | None:
        if e164 in self.dnc:
            detail = f"{e164} is on the do-not-call list"
            return self._reject(number, cells, RejectReason.DNC, detail)
        if self.allow is not None and not _type_allowed(number_type(e164), self.allow):
            kind = number_type(e164)
            return self._reject(number, cells, RejectReason.WRONG_TYPE, f"{e164} is {kind}")
        first = self.seen.setdefault(int(e164[1:]), number)
        if first != number:
            return self._reject(
                number, cells, RejectReason.DUPLICATE, f"{e164} is also on row {first}"
            )
        return None

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
        detail = f"column {self.phone_column!r}: {exc}"
        return self._reject(number, cells, RejectReason(exc.reason), detail)

    def _reject(self, number: int, cells: list[str], reason: RejectReason, detail: str) -> Reject:
        phone = cells[self.phone] if self.phone < len(cells) else ""
        return Reject(number, _clip(phone), reason, _clip(detail, 300))

    def _overrides(self, cells: list[str]) -> Overrides | str:
        """Per-row values of the reserved columns, or the text of why one cannot be used."""
        values = {name: cells[i].strip() or None for name, i in self.reserved.items()}
        country = values.get("country")
        if country is not None:
            if country.upper() not in phonenumbers.SUPPORTED_REGIONS:
                return f"column 'country': {_clip(country)!r} is not a two-letter region code"
            values["country"] = country.upper()
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
