"""The outbox of signed events: what is to be sent to a CRM, kept in Redis until it is received.

An event is recorded once (its id is derived from what it reports, so recording it again is a
no-op) and is then due: a courier takes due events under a lease, posts them, and marks each
delivered, or due again after a backoff. A courier killed mid-delivery leaves its lease to
expire, and the event is sent again under the same id (at least once; receivers de-duplicate
on `webhook-id`). Keys (`dialer.store.keys`, the events block):

    dialer:events:e:ID          one event (a hash; kept `keep_s` after it was recorded)
    dialer:events:due           events not yet delivered, by when next to try
    dialer:events:log           every kept event, by when it was recorded (`dialer events list`)
    dialer:events:open          campaigns whose events are still being derived
    dialer:events:camp:C        campaign C's last reported state, its campaign events counted,
                                the final contacts counted at the last sweep
    dialer:events:camp:C:done   C's contact attempts already reported (`member:attempt`)
    dialer:events:secret        the signing secret, and whether it was shown
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import cast

import redis

from dialer.store.keys import (
    EVENTS_DUE,
    EVENTS_LOG,
    EVENTS_OPEN,
    EVENTS_SECRET,
    EVENTS_SWEEP,
    campaign_key,
    event_key,
    events_done_key,
    events_seen_key,
    held_key,
    inflight_key,
    queued_key,
    ready_key,
    watch_key,
)

KEEP_S = 7 * 24 * 3600  # how long an event is kept after it was recorded (a week)

# Record an event unless it exists. With a campaign's seen hash (KEYS[5]), only if that hash's
# `seq` is still ARGV[8] (the caller read it, then derived the event): then it moves to ARGV[9].
# KEYS: 1 event hash, 2 due, 3 log, 4 done set, 5 seen hash
# ARGV: 1 id, 2 type, 3 campaign, 4 url, 5 body, 6 keep_s, 7 done member ('' none),
#       8 expected seq ('' no check), 9 reported state
_RECORD = """
if ARGV[8] ~= '' then
  if tostring(redis.call('hget', KEYS[5], 'seq') or '0') ~= ARGV[8] then return 0 end
  redis.call('hset', KEYS[5], 'seq', tonumber(ARGV[8]) + 1, 'state', ARGV[9])
end
if ARGV[7] ~= '' then redis.call('sadd', KEYS[4], ARGV[7]) end
if redis.call('exists', KEYS[1]) == 1 then return ARGV[8] ~= '' and 1 or 0 end
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('hset', KEYS[1], 'type', ARGV[2], 'campaign', ARGV[3], 'url', ARGV[4],
           'body', ARGV[5], 'created', now, 'attempts', 0)
redis.call('expire', KEYS[1], ARGV[6])
redis.call('zadd', KEYS[2], now, ARGV[1])
redis.call('zadd', KEYS[3], now, ARGV[1])
return 1
"""

# Take up to ARGV[2] due events, each leased for ARGV[1] ms (due again when the lease ends).
# KEYS: 1 due
# ARGV: 1 lease ms, 2 how many
_TAKE = """
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ids = redis.call('zrangebyscore', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(ids) do redis.call('zadd', KEYS[1], 'XX', now + tonumber(ARGV[1]), id) end
return ids
"""


@dataclass(frozen=True)
class Event:
    """One event as the outbox keeps it. `body` is the JSON sent, the same on every attempt."""

    id: str
    type: str
    campaign: str
    url: str
    body: str
    created_ms: int
    attempts: int = 0
    delivered_ms: int = 0
    failed: bool = False  # given up after too many attempts (`dialer events replay` resends)
    last_error: str = ""

    @classmethod
    def from_redis(cls, event_id: str, fields: dict[str, str]) -> Event:
        """The event of an HGETALL answer (not empty)."""
        return cls(
            id=event_id,
            type=fields.get("type", ""),
            campaign=fields.get("campaign", ""),
            url=fields.get("url", ""),
            body=fields.get("body", ""),
            created_ms=int(fields.get("created") or 0),
            attempts=int(fields.get("attempts") or 0),
            delivered_ms=int(fields.get("delivered") or 0),
            failed=fields.get("failed") == "1",
            last_error=fields.get("error", ""),
        )

    @property
    def status(self) -> str:
        """delivered, failed (given up) or pending."""
        if self.delivered_ms:
            return "delivered"
        return "failed" if self.failed else "pending"


@dataclass(frozen=True)
class Seen:
    """What a campaign's events were last derived from."""

    state: str  # the last campaign event's kind ('' before the first)
    seq: int  # campaign events recorded so far
    finals: int  # final contacts counted at the last sweep (-1: never swept)


class Outbox:
    """The events waiting to be delivered, and those kept after delivery."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._record = client.register_script(_RECORD)
        self._take = client.register_script(_TAKE)

    def record(
        self, event_id: str, kind: str, cid: str, url: str, body: str, *, done: str = ""
    ) -> bool:
        """Record an event unless one with this id exists (True when it was new). `done`, a
        contact attempt `member:attempt`, is marked reported with it."""
        return self._run_record([event_id, kind, cid, url, body], cid, done=done)

    def record_campaign(
        self, event_id: str, kind: str, cid: str, url: str, body: str, *, seen: Seen
    ) -> bool:
        """Record a campaign event and note `kind` (`campaign.started`: `started`) as its last
        reported state, only if no other campaign event was recorded since `seen` was read
        (False then: derive it again)."""
        state = kind.removeprefix("campaign.")
        return self._run_record(
            [event_id, kind, cid, url, body], cid, seq=str(seen.seq), state=state
        )

    def _run_record(
        self, event: list[str], cid: str, *, done: str = "", seq: str = "", state: str = ""
    ) -> bool:
        """The record script for `event` (id, type, campaign, url, body): see its header."""
        keys = [event_key(event[0]), EVENTS_DUE, EVENTS_LOG]
        keys += [events_done_key(cid), events_seen_key(cid)]
        return bool(self._record(keys=keys, args=[*event, KEEP_S, done, seq, state]))

    def take(self, lease_ms: int, count: int) -> list[Event]:
        """Up to `count` due events, each leased for `lease_ms` (due again after it)."""
        ids = cast(list[str], self._take(keys=[EVENTS_DUE], args=[lease_ms, count]))
        found = self.events(ids)
        gone = [event_id for event_id, event in zip(ids, found, strict=True) if event is None]
        if gone:  # no longer kept (a week old): nothing left to send
            self.redis.zrem(EVENTS_DUE, *gone)
        return [e for e in found if e is not None]

    def events(self, ids: list[str]) -> list[Event | None]:
        """The events with these ids (None for one no longer kept)."""
        pipe = self.redis.pipeline(transaction=False)
        for event_id in ids:
            pipe.hgetall(event_key(event_id))
        found = pipe.execute()
        return [Event.from_redis(i, f) if f else None for i, f in zip(ids, found, strict=True)]

    def delivered(self, event_id: str) -> None:
        """The receiver took the event: it is no longer due."""
        pipe = self.redis.pipeline()
        pipe.zrem(EVENTS_DUE, event_id)
        pipe.hincrby(event_key(event_id), "attempts", 1)
        pipe.hset(event_key(event_id), mapping={"delivered": self.server_ms(), "error": ""})
        pipe.execute()

    def retry_later(self, event_id: str, error: str, delay_ms: int | None) -> None:
        """An attempt failed with `error`: try again in `delay_ms`, or never (None: given up)."""
        key = event_key(event_id)
        pipe = self.redis.pipeline()
        pipe.hincrby(key, "attempts", 1)
        pipe.hset(key, "error", error[:500])
        if delay_ms is None:
            pipe.hset(key, "failed", "1")
            pipe.zrem(EVENTS_DUE, event_id)
        else:
            pipe.zadd(EVENTS_DUE, {event_id: self.server_ms() + delay_ms}, xx=True)
        pipe.execute()

    def replay(self, ids: list[str]) -> list[str]:
        """Send these events again now, under their own ids; returns those still kept."""
        kept = [e.id for e in self.events(ids) if e is not None]
        now = self.server_ms()
        for event_id in kept:
            pipe = self.redis.pipeline()
            pipe.hdel(event_key(event_id), "delivered", "failed")
            pipe.zadd(EVENTS_DUE, {event_id: now})
            pipe.execute()
        return kept

    def recent(self, count: int, cid: str | None = None) -> list[Event]:
        """The last `count` events recorded (of campaign `cid` only when given), newest first."""
        self.redis.zremrangebyscore(EVENTS_LOG, "-inf", self.server_ms() - KEEP_S * 1000)
        ids = cast(list[str], self.redis.zrevrange(EVENTS_LOG, 0, -1 if cid else count - 1))
        found = [e for e in self.events(ids) if e is not None]
        return [e for e in found if cid is None or e.campaign == cid][:count]

    def due_count(self) -> int:
        """Events not yet delivered (nor given up)."""
        return int(self.redis.zcard(EVENTS_DUE))

    # -- what campaigns' events are derived from --------------------------------------------

    def open_campaigns(self) -> set[str]:
        """Campaigns whose events are still being derived."""
        return cast(set[str], self.redis.smembers(EVENTS_OPEN))

    def watch(self, cid: str) -> None:
        """Derive the campaign's events from now on (until `close`)."""
        self.redis.sadd(EVENTS_OPEN, cid)

    def close(self, cid: str) -> None:
        """The campaign has reported that it finished: stop deriving its events."""
        self.redis.srem(EVENTS_OPEN, cid)

    def seen(self, cid: str) -> Seen:
        """What the campaign's events were last derived from."""
        raw = cast(dict[str, str], self.redis.hgetall(events_seen_key(cid)))
        finals = raw.get("finals")
        return Seen(raw.get("state", ""), int(raw.get("seq") or 0), int(finals or -1))

    def note_finals(self, cid: str, finals: int) -> None:
        """The campaign's contacts that were final when its last sweep began."""
        self.redis.hset(events_seen_key(cid), "finals", finals)

    def unreported(self, cid: str) -> list[int]:
        """The campaign's contacts that may have ended unreported: neither live (in one of its
        index sets: ready, queued, in flight, followed) nor reported, read at one instant. A
        reported contact that is live again (its list was run again) is no longer reported."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.hget(campaign_key(cid), "last_row")
        for key in (ready_key(cid), queued_key(cid), inflight_key(cid), watch_key(cid),
                    held_key(cid)):  # fmt: skip
            pipe.zrange(key, 0, -1)
        pipe.smembers(events_done_key(cid))
        last, *indexes, done = pipe.execute()
        live = {int(member) for index in indexes for member in index}
        again = [entry for entry in done if int(entry.partition(":")[0]) in live]
        if again:
            self.redis.srem(events_done_key(cid), *again)
        reported = {int(entry.partition(":")[0]) for entry in done}
        return [r for r in range(1, int(last or 0) + 1) if r not in live and r not in reported]

    def try_sweep_lease(self, owner: str, lease_ms: int) -> bool:
        """Take or keep the lease that lets one process derive events at a time."""
        if self.redis.set(EVENTS_SWEEP, owner, nx=True, px=lease_ms):
            return True
        if self.redis.get(EVENTS_SWEEP) == owner:
            return bool(self.redis.set(EVENTS_SWEEP, owner, px=lease_ms, xx=True))
        return False

    # -- the signing secret -----------------------------------------------------------------

    def secret(self) -> str:
        """The signing secret (`whsec_...`), made now if there is none yet (not yet shown)."""
        made = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        self.redis.hsetnx(EVENTS_SECRET, "secret", made)
        return str(self.redis.hget(EVENTS_SECRET, "secret"))

    def reveal_secret(self, *, rotate: bool = False) -> str | None:
        """The secret, once: None when it was shown before (unless `rotate` makes a new one)."""
        if rotate:
            self.redis.delete(EVENTS_SECRET)
        secret = self.secret()
        if self.redis.hsetnx(EVENTS_SECRET, "shown", "1"):
            return secret
        return None

    def server_ms(self) -> int:
        """Redis's clock, in ms since the epoch."""
        seconds, micros = self.redis.time()
        return int(seconds) * 1000 + int(micros) // 1000
