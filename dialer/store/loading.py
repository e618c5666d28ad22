"""Loading a list into its campaign, by number: what is new is added, what was dialled is kept,
what is still pending takes the list's new details, and what left the list is not dialled.

A contact is its number: its member id (its key) is given once, when its number is first seen,
and never follows a row. Each load writes every contact's `source_row` (the row holding its
number in that file), so after any edit the rows are the latest file's.

One load is one generation (`begin_load`): each contact the list holds is stamped with it, and
`end_load` cancels the pending contacts the list no longer holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import redis

from dialer.store.contact import ContactRecord, ContactState, Dialable, new_contact_fields
from dialer.store.keys import (
    campaign_key,
    contact_key,
    numbers_key,
    queued_key,
    ready_key,
    script_keys,
)

ADD_PER_SCRIPT = 200  # contacts stored by one run of the add script
GONE = "no longer in the list"
_READ = ("state", "phone", "attempt", "load")  # what end_load reads of a pending contact
Schedule = Callable[[Dialable], tuple[int, str]]


@dataclass
class Loaded:
    """What loading a list did to its campaign."""

    added: int = 0  # numbers new to the campaign, now pending
    updated: int = 0  # pending contacts whose details changed in the list
    kept: int = 0  # already dialled or final: kept as they are, never dialled again
    unchanged: int = 0  # pending, as the list already had them
    removed: int = 0  # pending contacts whose number left the list: canceled

    def __iadd__(self, other: Loaded) -> Loaded:
        self.added += other.added
        self.updated += other.updated
        self.kept += other.kept
        self.unchanged += other.unchanged
        self.removed += other.removed
        return self


class Loading:
    """The store's side of loading a list (mixed into `Store`)."""

    redis: redis.Redis
    _add: Any  # the add script, registered by the store

    def transition(
        self,
        cid: str,
        row: int,
        to: ContactState,
        *,
        fields: Mapping[str, str] | None = None,
        read: ContactRecord | None = None,
    ) -> ContactState | None:
        """The store's compare-and-set transition (`Store.transition`)."""
        raise NotImplementedError

    def begin_load(self, cid: str) -> int:
        """Start loading the list again: the load's generation (1 for the first). A campaign
        stored before contacts were known by number gets its numbers index here, once."""
        key = campaign_key(cid)
        if not self.redis.exists(numbers_key(cid)):
            self._index_numbers(cid)
            if int(cast(str, self.redis.hget(key, "last_row")) or 0):
                self.redis.hsetnx(key, "load", 1)  # an earlier version's: loaded once already
        return int(self.redis.hincrby(key, "load", 1))

    def _index_numbers(self, cid: str) -> None:
        last = int(cast(str, self.redis.hget(campaign_key(cid), "last_row")) or 0)
        for start in range(1, last + 1, 1000):
            members = range(start, min(start + 1000, last + 1))
            pipe = self.redis.pipeline(transaction=False)
            for member in members:
                pipe.hget(contact_key(cid, member), "phone")
            found = {p: m for m, p in zip(members, pipe.execute(), strict=True) if p}
            if found:
                self.redis.hset(numbers_key(cid), mapping=cast(Any, found))

    def add_contacts(
        self,
        cid: str,
        contacts: Iterable[Dialable],
        columns: tuple[str, ...],
        schedule: Schedule | None = None,
        *,
        load: int = 1,
    ) -> Loaded:
        """Store the list's contacts by number (see the module's docstring) in load `load`.

        `schedule(contact)` gives when a new contact is due (ms since the epoch, 0 = now) and
        why it waits. Safe to repeat after a crash part-way through a load.
        """
        done = Loaded()
        batch: list[Dialable] = []
        for contact in contacts:
            batch.append(contact)
            if len(batch) == ADD_PER_SCRIPT:
                done += self._add_batch(cid, batch, columns, schedule, load)
                batch = []
        if batch:
            done += self._add_batch(cid, batch, columns, schedule, load)
        return done

    def _members(self, cid: str, contacts: list[Dialable]) -> list[int]:
        """Each contact's member: its number's, or the campaign's next unused id (never its
        row: a row moves when the list is edited, a number does not). Ids a crash leaves
        unused are skipped; a number twice in one batch keeps the first (the add script)."""
        known = self.redis.hmget(numbers_key(cid), [c.phone_e164 for c in contacts])
        new = sum(1 for m in known if m is None)
        top = int(self.redis.hincrby(campaign_key(cid), "last_row", new)) if new else 0
        fresh = iter(range(top - new + 1, top + 1))
        return [int(m) if m else next(fresh) for m in known]

    def _add_batch(
        self,
        cid: str,
        contacts: list[Dialable],
        columns: tuple[str, ...],
        schedule: Schedule | None,
        load: int,
    ) -> Loaded:
        keys, args = script_keys("add", cid), [str(load)]
        for contact, member in zip(contacts, self._members(cid, contacts), strict=True):
            keys.append(contact_key(cid, member))
            due, waiting = schedule(contact) if schedule else (0, "")
            fields = new_contact_fields(contact, columns)
            if waiting:
                fields["waiting"] = waiting
            row = str(contact.source_row)
            args += [str(member), contact.phone_e164, str(due), row, str(2 * len(fields))]
            for name, value in fields.items():
                args += [name, value]
        added, updated, kept, unchanged = self._add(keys=keys, args=args)
        return Loaded(int(added), int(updated), int(kept), int(unchanged))

    def end_load(self, cid: str, load: int) -> int:
        """Cancel the pending contacts the list of load `load` no longer holds; how many."""
        rows: set[str] = set()
        for key in (ready_key(cid), queued_key(cid)):
            rows.update(cast(list[str], self.redis.zrange(key, 0, -1)))
        pipe = self.redis.pipeline(transaction=False)
        members = sorted(int(r) for r in rows)
        for member in members:
            pipe.hmget(contact_key(cid, member), list(_READ))
        gone = 0
        for member, values in zip(members, pipe.execute(), strict=True):
            found = {k: v for k, v in zip(_READ, values, strict=True) if v is not None}
            if "state" not in found:
                continue
            read = ContactRecord.from_redis(member, found)
            if read.load >= load or read.state is not ContactState.PENDING:
                continue
            left = self.transition(
                cid, member, ContactState.CANCELED, fields={"error": GONE, "waiting": ""}, read=read
            )
            gone += left is not None
        return gone
