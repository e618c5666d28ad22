"""The store's side of the live do-not-call list: one per account, checked inside the claim
(dialer/store/lua/claim.lua), so a number added while a campaign runs is never dialled after."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from dialer.store.jobs import SchedulerStore
from dialer.store.keys import account_dnc_key

DNC_BATCH = 1000  # numbers written or read per round trip


@dataclass(frozen=True)
class DncEntry:
    """One number on the list: when it was added, and why."""

    number: str  # E.164
    added_at: datetime
    reason: str = ""

    def to_redis(self) -> str:
        """The hash value kept for the number."""
        return json.dumps({"at": self.added_at.isoformat(), "reason": self.reason})

    @classmethod
    def from_redis(cls, number: str, value: str) -> DncEntry:
        """The entry of a stored hash value."""
        fields = json.loads(value)
        return cls(number, datetime.fromisoformat(fields["at"]), str(fields.get("reason", "")))


class DoNotCall(SchedulerStore):
    """Part of `Store`: the account's do-not-call list (numbers in E.164)."""

    def dnc_add(
        self, account: str, numbers: Iterable[str], reason: str = "", at: datetime | None = None
    ) -> int:
        """Put numbers on the list (an entry already there keeps when and why it was added);
        returns how many were new."""
        added_at = at or datetime.now(UTC)
        key, added, pipe = account_dnc_key(account), 0, self.redis.pipeline(transaction=False)
        for number in numbers:
            pipe.hsetnx(key, number, DncEntry(number, added_at, reason).to_redis())
            if len(pipe) >= DNC_BATCH:
                added += sum(int(r) for r in pipe.execute())
        return added + sum(int(r) for r in pipe.execute())

    def dnc_remove(self, account: str, numbers: Iterable[str]) -> int:
        """Take numbers off the list; returns how many were on it."""
        listed = list(numbers)
        return int(self.redis.hdel(account_dnc_key(account), *listed)) if listed else 0

    def dnc_check(self, account: str, number: str) -> DncEntry | None:
        """The number's entry, or None when it is not on the list."""
        value = self.redis.hget(account_dnc_key(account), number)
        return DncEntry.from_redis(number, str(value)) if value else None

    def dnc_entries(self, account: str) -> Iterator[DncEntry]:
        """Every entry, in no particular order."""
        for number, value in self.redis.hscan_iter(account_dnc_key(account), count=DNC_BATCH):
            yield DncEntry.from_redis(str(number), str(value))

    def dnc_numbers(self, account: str) -> frozenset[str]:
        """Every number on the list."""
        return frozenset(cast(list[str], self.redis.hkeys(account_dnc_key(account))))

    def dnc_listed(self, account: str, numbers: Iterable[str]) -> int:
        """How many of `numbers` are on the list."""
        key, listed, batch = account_dnc_key(account), 0, list[str]()
        for number in numbers:
            batch.append(number)
            if len(batch) == DNC_BATCH:
                listed += sum(v is not None for v in self.redis.hmget(key, batch))
                batch = []
        return listed + (sum(v is not None for v in self.redis.hmget(key, batch)) if batch else 0)

    def dnc_size(self, account: str) -> int:
        """How many numbers are on the list."""
        return int(cast(Any, self.redis.hlen(account_dnc_key(account))))
