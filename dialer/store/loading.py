"""Loading a list into its campaign, by number: what is new is added, what was dialled is kept,
what is still pending takes the list's new details, and what left the list is not dialled.

A contact is its number: its member id (its key) is given once, when its number is first seen,
and never follows a row. Each load writes every contact's `source_row` (the row holding its
number in that file), so after any edit the rows are the latest file's.

One load is one generation (`begin_load`): each contact the list holds is stamped with it, and
`end_load` cancels the pending contacts the list no longer holds.

A campaign dials while its list loads. While a load is under way its `loading` key is set (the
tick never calls the campaign finished then), kept alive by the loading process (`Heartbeat`):
a load killed part-way stops renewing it, and it expires within `LOAD_TTL_S`. A resumed
campaign's load first holds its pending contacts (out of `ready`, into `held`): each one the list
still has is due again as soon as the load reaches it, and `end_load` cancels the rest. A load
that never ends (killed) leaves the rest held: the next load of the list settles them, and
`release_held` (`dialer resume`) makes them due as they were.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

import redis

from dialer.store.contact import ContactRecord, ContactState, Dialable, new_contact_fields
from dialer.store.keys import (
    campaign_key,
    contact_key,
    held_key,
    loading_key,
    numbers_key,
    queued_key,
    ready_key,
    script_keys,
)

ADD_PER_SCRIPT = 200  # contacts stored by one run of the add script
GONE = "no longer in the list"
_READ = ("state", "phone", "attempt", "load")  # what end_load reads of a pending contact
LOAD_TTL_S = 30.0  # a load whose process stopped renewing its key this long ago is over
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

    def begin_load(self, cid: str, *, hold: bool = False, ttl_s: float = LOAD_TTL_S) -> int:
        """Start loading the list again: the load's generation (1 for the first), marked as
        under way for `ttl_s` (renew it with `Heartbeat`). `hold`: a resumed campaign's pending
        contacts wait in `held` until the load reaches them. A campaign stored before contacts
        were known by number gets its numbers index here, once."""
        key = campaign_key(cid)
        if not self.redis.exists(numbers_key(cid)):
            self._index_numbers(cid)
            if int(cast(str, self.redis.hget(key, "last_row")) or 0):
                self.redis.hsetnx(key, "load", 1)  # an earlier version's: loaded once already
        load = int(self.redis.hincrby(key, "load", 1))
        self.redis.set(loading_key(cid), load, px=round(ttl_s * 1000))
        if hold:
            self._hold(cid)
        return load

    def _hold(self, cid: str) -> None:
        """Every pending contact out of `ready` and `queued`, into `held` (one transaction)."""
        held, ready, queued = held_key(cid), ready_key(cid), queued_key(cid)
        pipe = self.redis.pipeline(transaction=True)
        # A contact in two sets (a killed load's, due again since): the later due time holds.
        pipe.zunionstore(held, [held, ready, queued], aggregate="MAX")
        pipe.delete(ready, queued)
        pipe.hset(campaign_key(cid), "holding", 1)  # the claim refuses a held contact
        pipe.execute()

    def loading(self, cid: str) -> bool:
        """Whether a load of the campaign's list is under way (its process alive)."""
        return bool(self.redis.exists(loading_key(cid)))

    def finish_load(self, cid: str, load: int) -> None:
        """The load `load` is over (ended, failed or abandoned): no longer under way."""
        key = loading_key(cid)
        if self.redis.get(key) == str(load):  # not a later load's
            self.redis.delete(key)

    def keep_loading(
        self, cid: str, load: int, ttl_s: float = LOAD_TTL_S
    ) -> contextlib.AbstractContextManager[None]:
        """Keep load `load` marked as under way while the block runs (`Heartbeat`)."""
        return Heartbeat(self.redis, cid, load, ttl_s).running()

    def release_held(self, cid: str) -> int:
        """Make the contacts a load left held (it never ended) due as they were, unless a load
        is under way; how many."""
        if self.loading(cid):
            return 0
        held, ready = held_key(cid), ready_key(cid)
        pipe = self.redis.pipeline(transaction=True)
        pipe.zcard(held)
        pipe.zunionstore(ready, [ready, held], aggregate="MAX")
        pipe.delete(held)
        pipe.hdel(campaign_key(cid), "holding")
        return int(pipe.execute()[0])

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
        """Cancel the pending contacts the list of load `load` no longer holds (held or not);
        how many. Those held that are not pending any more leave `held`."""
        rows: set[str] = set()
        for key in (held_key(cid), ready_key(cid), queued_key(cid)):
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
        self.redis.delete(held_key(cid))
        self.redis.hdel(campaign_key(cid), "holding")
        return gone


class Heartbeat:
    """Keeps a load marked as under way while this process loads: renews its key every third
    of its time to live, from a thread, until stopped (a killed process stops renewing it)."""

    def __init__(self, redis_client: redis.Redis, cid: str, load: int, ttl_s: float) -> None:
        self._redis, self._key, self._load = redis_client, loading_key(cid), str(load)
        self._ttl_ms = round(ttl_s * 1000)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"load-{cid}", daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(self._ttl_ms / 3000):
            with contextlib.suppress(redis.RedisError):  # the load itself meets a lost Redis
                self._redis.set(self._key, self._load, px=self._ttl_ms)

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """Renew the key for as long as the block runs."""
        self._thread.start()
        try:
            yield
        finally:
            self._stop.set()
            self._thread.join()
