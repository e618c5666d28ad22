"""A batch's phone column to E.164 at once, for the NANP numbers most US lists hold.

`dialer.phone.normalize` reads a NANP number of a handful of shapes (`(415) 555-0123`,
`+14155550123`, `1-415-555-0123`) with one regular expression and checks it against patterns
from `phonenumbers`' metadata (`NanpValidator`). Here the same is done over the whole column:
the two commonest shapes are read from the column's bytes with numpy, the others with the same
expression in RE2; the US and Canadian patterns are checked in RE2 over the column, and the
few numbers they leave (the Caribbean's) by `NanpValidator` one by one. A row is taken here only
when `normalize` returns `+1` and its 10 digits; every other row (other shapes, other countries,
invalid numbers) is left to `normalize`, so the results are the same, row for row.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from campaigns.arrow_numpy import ints, mask, to_bools, to_ints
from dialer.phone import NANP_SHAPE, is_valid_nanp, nanp_patterns, national_is_nanp
from dialer.phone_types import nanp_special_pattern

ONE = 10_000_000_000  # `+1` and a 10-digit national number, as an int64 (`seen.key`)
Bools = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]
_POWERS = 10 ** np.arange(9, -1, -1, dtype=np.int64)
_E164_DIGITS = np.arange(2, 12)  # `+14155550123`
_PAREN_DIGITS = np.array([1, 2, 3, 6, 7, 8, 10, 11, 12, 13])  # `(415) 555-0123`
_PAREN_MARKS = {0: ord("("), 4: ord(")"), 5: ord(" "), 9: ord("-")}


@dataclass(frozen=True)
class NanpColumn:
    """The rows of a column read here (`taken`, a bool per row) and, for those rows in order,
    their 10-digit national numbers as int64 and as text."""

    taken: Bools
    national: Ints
    text: pa.Array  # the same, as text

    @property
    def keys(self) -> Ints:
        """The E.164 numbers of the taken rows as int64 (`seen.key`)."""
        return self.national + ONE

    def e164(self) -> pa.Array:
        """The E.164 text of the taken rows."""
        return pc.utf8_replace_slice(self.text, 0, 0, "+1")

    def may_be_special(self) -> Ints:
        """Indices among the taken rows whose number may be of a special type."""
        pattern = _special()
        if pattern is None or not len(self.national):
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(_bools(pc.match_substring_regex(self.text, pattern)))


def read_nanp(phones: pa.Array | pa.ChunkedArray, region: str) -> NanpColumn:
    """The rows of `phones` (strings, no nulls) that `normalize(phone, region)` reads as a valid
    NANP number, and those numbers."""
    phones = _flat(phones)
    national_too = national_is_nanp(region)
    taken, national = _fixed_shapes(phones, national_too)
    rest = np.flatnonzero(~taken)
    if len(rest):
        shape, digits = _shape(national_too)
        some = phones.take(ints(rest))
        matched = _bools(pc.match_substring_regex(some, shape))
        if matched.any():
            text = pc.replace_substring_regex(some.filter(mask(matched)), shape, digits)
            taken[rest[matched]] = True
            national[rest[matched]] = to_ints(pc.cast(text, pa.int64()))
    at = np.flatnonzero(taken)
    text = _text(national[at])
    valid = _valid(text)
    taken[at[~valid]] = False
    return NanpColumn(taken, national[at[valid]], text.filter(mask(valid)))


def _fixed_shapes(phones: pa.Array, national_too: bool) -> tuple[Bools, Ints]:
    """`+14155550123` and (when the region reads NANP numbers) `(415) 555-0123`, read from the
    column's bytes: which rows have one of these shapes, and their 10 digits (0 elsewhere)."""
    count = len(phones)
    taken = np.zeros(count, dtype=bool)
    national = np.zeros(count, dtype=np.int64)
    if not count or phones.type != pa.string():
        return taken, national
    _, offsets_buffer, data_buffer = phones.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32)[
        phones.offset : phones.offset + count + 1
    ]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else None
    if data is None:
        return taken, national
    lengths = np.diff(offsets)
    shapes = [(12, _E164_DIGITS, {0: ord("+"), 1: ord("1")})]
    if national_too:
        shapes.append((14, _PAREN_DIGITS, _PAREN_MARKS))
    for length, digits, marks in shapes:
        rows = np.flatnonzero(lengths == length)
        if not len(rows):
            continue
        chars = data[offsets[rows][:, None] + np.arange(length)]
        values = chars[:, digits].astype(np.int64) - ord("0")
        ok = ((values >= 0) & (values <= 9)).all(axis=1) & (values[:, 0] >= 2)
        for at, mark in marks.items():
            ok &= chars[:, at] == mark
        taken[rows[ok]] = True
        national[rows[ok]] = values[ok] @ _POWERS
    return taken, national


def _valid(text: pa.Array) -> Bools:
    """`NanpValidator.is_valid` of each 10-digit national number. In RE2 over the column: the
    regions without leading digits (the US, Canada), each for the numbers no region tried
    before it claims by its leading digits; the few numbers left by `is_valid` one by one."""
    valid = np.zeros(len(text), dtype=bool)
    left = np.arange(len(text))
    earlier: list[str] = []  # leading digits of the regions tried so far
    for leading, general, typed in _regions():
        if leading is not None:
            earlier.append(leading)
            continue
        some = text if len(left) == len(text) else text.take(ints(left))
        accepts = _bools(pc.match_substring_regex(some, typed))
        if general is not None:
            accepts &= _bools(pc.match_substring_regex(some, general))
        if earlier:
            claimed = "^(?:" + "|".join(f"(?:{digits})" for digits in earlier) + ")"
            accepts &= ~_bools(pc.match_substring_regex(some, claimed))
        valid[left[accepts]] = True
        left = left[~accepts]
        if not len(left):
            break
    if len(left):
        valid[left] = [is_valid_nanp(national) for national in text.take(ints(left)).to_pylist()]
    return valid


def _text(national: Ints) -> pa.Array:
    return pc.cast(ints(national), pa.string())


@functools.cache
def _shape(national_too: bool) -> tuple[str, str]:
    """`dialer.phone`'s NANP shapes, anchored, with the groups of the 10 digits only; the
    leading `+1` required unless the region reads national numbers as NANP."""
    pattern = NANP_SHAPE.replace("(\\+1)", "\\+1", 1)
    assert pattern != NANP_SHAPE and re.compile(pattern).groups == 4
    if not national_too:  # `normalize` takes only what has the `+1` then
        pattern = pattern.replace("(?:\\+1[ .-]?|1[ .-]?)?", "\\+1[ .-]?", 1)
        assert "\\+1[ .-]?(?:" in pattern
    return f"^(?:{pattern})$", r"\1\2\3\4"


@functools.cache
def _regions() -> tuple[tuple[str | None, str | None, str], ...]:
    """`nanp_patterns` anchored for RE2 as `fullmatch` (leading digits are left as they are:
    `re.match` them with `^`); a general pattern that every national number read here
    (`[2-9]` and 9 digits) matches is left out."""
    return tuple(
        (
            leading,
            None if general is None or _matches_all(general) else f"^(?:{general})$",
            f"^(?:{typed})$",
        )
        for leading, general, typed in nanp_patterns()
    )


def _matches_all(general: str) -> bool:
    """Whether a pattern has `[2-9]\\d{9}` as a top-level alternative."""
    return "(" not in general and r"[2-9]\d{9}" in general.split("|")


@functools.cache
def _special() -> str | None:
    pattern = nanp_special_pattern()
    return None if pattern is None else f"^(?:{pattern})$"


def _flat(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(array, pa.ChunkedArray):
        return array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    return array


def _bools(array: pa.Array | pa.ChunkedArray) -> Bools:
    return to_bools(_flat(array))
