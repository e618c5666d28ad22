"""The store's figures for people: creates sent lately (the pace shown), contacts dialled, and
who waits for what (`dialer status` and the live view)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import cast

from redis.client import Pipeline

from dialer.store.hooks import Hooks
from dialer.store.keys import campaign_key, contact_key, creates_key, ready_key

RECENT_CREATES_MS = 10 * 60 * 1000  # creates kept for the pace shown
TRIM_EVERY = 64  # creates noted between two trims of the recent creates (a command saved)
_noted = itertools.count()


@dataclass(frozen=True)
class CreateNote:
    """A create sent: `member` is `row:attempt:send`, `at_ms` when (ms since the epoch),
    `first` whether it is the contact's first (it is then dialled)."""

    member: str
    at_ms: int
    first: bool


def note_into(pipe: Pipeline, cid: str, note: CreateNote) -> None:
    """Queue the commands that count `note` on `pipe`."""
    key = creates_key(cid)
    pipe.zadd(key, {note.member: note.at_ms})
    if next(_noted) % TRIM_EVERY == 0:  # those older than kept may linger a little longer
        pipe.zremrangebyscore(key, "-inf", note.at_ms - RECENT_CREATES_MS)
    if note.first:
        pipe.hincrby(campaign_key(cid), "dialled", 1)


class Figures(Hooks):
    """Part of `Store`: what the campaign's figures are read from."""

    def note_create(self, cid: str, note: CreateNote) -> None:
        """Count a create sent: in the recent creates (what the shown pace is measured on), and
        in the contacts dialled when it is the contact's first. (`Store.transition` counts
        it in the same round trip as the contact's move, given the note.)"""
        pipe = self.redis.pipeline(transaction=False)
        note_into(pipe, cid, note)
        pipe.execute()

    def recent_creates(self, cid: str, since_ms: int) -> list[int]:
        """When the creates sent since `since_ms` were sent (ms since the epoch), oldest first."""
        found = self.redis.zrangebyscore(creates_key(cid), since_ms, "+inf", withscores=True)
        return [int(score) for _, score in cast(list[tuple[str, float]], found)]

    def dialled(self, cid: str) -> int:
        """Contacts with at least one create sent."""
        return int(self.redis.hget(campaign_key(cid), "dialled") or 0)

    def waiting(self, cid: str, sample: int = 500) -> tuple[int | None, dict[str, tuple[int, int]]]:
        """When the next pending contact is due (ms since the epoch), and why the first
        `sample` pending contacts wait: per reason, how many and the earliest due (ms)."""
        ready = ready_key(cid)
        first = cast(
            list[tuple[str, float]], self.redis.zrange(ready, 0, sample - 1, withscores=True)
        )
        pipe = self.redis.pipeline(transaction=False)
        for row, _ in first:
            pipe.hget(contact_key(cid, int(row)), "waiting")
        reasons: dict[str, tuple[int, int]] = {}
        for (_, due), reason in zip(first, pipe.execute(), strict=True):
            if reason:
                count, earliest = reasons.get(str(reason), (0, int(due)))
                reasons[str(reason)] = (count + 1, min(earliest, int(due)))
        return (int(first[0][1]) if first else None), reasons
