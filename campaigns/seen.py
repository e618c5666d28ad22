"""The numbers a load has taken, to find duplicates: a million of them in 16 MB.

Each E.164 number is kept as an int64 (its digits: `+14155550123` is 14155550123) beside the
row that first had it, in a few sorted runs that are merged as they grow (each row is merged
about log2(batches) times, and a lookup is one binary search per run). A dict of a million
strings cost about 120 MB and a Python object per contact.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]


def key(e164: str) -> int:
    """The int64 a valid E.164 number is kept as."""
    return int(e164[1:])


class SeenNumbers:
    """E.164 numbers already taken, each with the first row that had it."""

    def __init__(self) -> None:
        self._runs: list[tuple[Ints, Ints]] = []  # (sorted keys, their rows), largest first
        self._recent: dict[str, int] = {}  # numbers added one at a time, not yet in a run

    def __len__(self) -> int:
        return sum(len(keys) for keys, _ in self._runs) + len(self._recent)

    def setdefault(self, e164: str, row: int) -> int:
        """The first row that had `e164`; `row` when none did, which now has it."""
        first = self._recent.get(e164)
        if first is None:
            first = int(self._find(np.array([key(e164)], dtype=np.int64))[0]) or None
        if first is None:
            self._recent[e164] = first = row
        return first

    def first_rows(self, keys: Ints, rows: Ints) -> Ints:
        """For each number of a batch (rows in increasing order), the first row that had it,
        earlier or in this batch (its own row when none did); the new numbers are kept."""
        if not len(keys):
            return rows
        self._flush()
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        starts = np.empty(len(ordered), dtype=bool)
        starts[0] = True
        np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
        distinct, own = ordered[starts], rows[order][starts]
        before = self._find(distinct)
        new = before == 0
        self._add(distinct[new], own[new])
        firsts = np.empty_like(rows)
        firsts[order] = np.where(new, own, before)[np.cumsum(starts) - 1]
        return firsts

    def _find(self, keys: Ints) -> Ints:
        """The row of each key already kept, 0 for none (rows start at 1)."""
        found = np.zeros(len(keys), dtype=np.int64)
        for run, rows in self._runs:
            at = np.searchsorted(run, keys).clip(max=len(run) - 1)
            hit = run[at] == keys
            found[hit] = rows[at[hit]]
        return found

    def _add(self, keys: Ints, rows: Ints) -> None:
        """Keep sorted, distinct, new keys; merge runs while the last is as large as the one
        before it (halves: at most log2(n) runs)."""
        if not len(keys):
            return
        self._runs.append((keys, rows))
        while len(self._runs) > 1 and len(self._runs[-2][0]) <= 2 * len(self._runs[-1][0]):
            (keys_a, rows_a), (keys_b, rows_b) = self._runs.pop(-2), self._runs.pop()
            merged = np.concatenate((keys_a, keys_b))
            order = np.argsort(merged, kind="stable")  # two sorted runs: timsort merges them
            self._runs.append((merged[order], np.concatenate((rows_a, rows_b))[order]))

    def _flush(self) -> None:
        if self._recent:
            keys = np.fromiter(map(key, self._recent), dtype=np.int64, count=len(self._recent))
            rows = np.fromiter(self._recent.values(), dtype=np.int64, count=len(self._recent))
            order = np.argsort(keys)
            self._recent = {}
            self._add(keys[order], rows[order])
