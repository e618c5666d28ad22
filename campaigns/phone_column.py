"""A batch's phone column to E.164 at once, for the NANP numbers most US lists hold.

`dialer.phone.normalize` reads a NANP number of a handful of shapes (`(415) 555-0123`,
`+14155550123`, `1-415-555-0123`) with one regular expression and checks it against patterns
from `phonenumbers`' metadata. Here the same expression and the same patterns run over the whole
column in C (pyarrow's compute functions, RE2): a row is taken here only when `normalize` would
certainly return `+1` and its 10 digits (`NanpValidator.sure_patterns`). Every other row (other
shapes, other countries, invalid numbers, a Caribbean area code) is left to `normalize`, so the
results are the same, row for row.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dialer.phone import NANP_SHAPE, nanp_sure_patterns, national_is_nanp
from dialer.phone_types import nanp_special_pattern

TEN_DIGITS = 10_000_000_000  # `1` and a 10-digit national number, as an int64: +1 and 10 digits


@dataclass(frozen=True)
class NanpColumn:
    """The rows of a column read here: `taken` (a numpy bool per row) and, for those rows in
    order, their 10-digit `national` numbers."""

    taken: np.ndarray
    national: pa.Array

    @property
    def keys(self) -> np.ndarray:
        """The E.164 numbers of the taken rows as int64 (`seen.key`)."""
        return np.asarray(pc.cast(self.national, pa.int64()), dtype=np.int64) + TEN_DIGITS

    def e164(self) -> pa.Array:
        """The E.164 text of the taken rows."""
        return pc.utf8_replace_slice(self.national, 0, 0, "+1")

    def may_be_special(self) -> np.ndarray:
        """Indices among the taken rows whose number may be of a special type."""
        pattern = _special()
        if pattern is None:
            return np.zeros(0, dtype=np.int64)
        hits = pc.match_substring_regex(self.national, pattern)
        return np.flatnonzero(_bools(hits))


def read_nanp(phones: pa.Array | pa.ChunkedArray, region: str) -> NanpColumn:
    """The rows of `phones` (strings, no nulls) that `normalize(phone, region)` certainly reads
    as a valid NANP number, and those numbers."""
    shape, digits = _shape(national_is_nanp(region))
    phones = _flat(phones)
    taken = _bools(pc.match_substring_regex(phones, shape))
    national = pc.replace_substring_regex(phones.filter(taken), shape, digits)
    valid = np.zeros(len(national), dtype=bool)
    for general, typed, earlier in _sure():
        left = np.flatnonzero(~valid)  # most numbers are the first region's (the US)
        some = national.take(left) if len(left) < len(valid) else national
        ok = _bools(pc.match_substring_regex(some, typed))
        if general is not None:
            ok &= _bools(pc.match_substring_regex(some, general))
        if earlier is not None:
            ok &= ~_bools(pc.match_substring_regex(some, earlier))
        valid[left[ok]] = True
    where = np.flatnonzero(taken)
    taken[where[~valid]] = False
    return NanpColumn(taken, national.filter(valid))


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
def _sure() -> tuple[tuple[str | None, str, str | None], ...]:
    """`nanp_sure_patterns` anchored for RE2; a general pattern that every national number of
    the NANP shapes (`[2-9]` and 9 digits) matches is left out (None)."""
    return tuple(
        (
            None if r"[2-9]\d{9}" in general.split("|") else f"^(?:{general})$",
            f"^(?:{typed})$",
            None if earlier is None else f"^(?:{earlier})",
        )
        for general, typed, earlier in nanp_sure_patterns()
    )


@functools.cache
def _special() -> str | None:
    pattern = nanp_special_pattern()
    return None if pattern is None else f"^(?:{pattern})$"


def _flat(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(array, pa.ChunkedArray):
        return array.combine_chunks()
    return array


def _bools(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(_flat(array).to_numpy(zero_copy_only=False), dtype=bool)
