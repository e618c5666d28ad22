"""The health record: the OneInbox errors the workers meet, per campaign, so that the live view,
`dialer status`, the web page and the API can say "OneInbox unreachable since 10:02 (connection
refused)" while it lasts, instead of only the worker's log.

Written where a create fails (never on a success: the record lasts while errors keep coming, and
is shown only while the last one is recent), read by `campaigns.progress`.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import redis
from redis.client import Pipeline

from dialer.errors import ProviderError, RateLimited
from dialer.store.keys import health_events_key, health_key

WINDOW_MS = 60_000  # the counts are of the last minute; a streak ends after a minute without error


@dataclass(frozen=True)
class Health:
    """OneInbox trouble lately: the last error, since when the streak runs, counts by kind."""

    kind: str  # "429", "5xx", "connection", "other"
    detail: str
    since: datetime
    last: datetime
    counts: dict[str, int]  # by kind, the last minute

    def words(self) -> str:
        """The trouble in one line: "OneInbox unreachable since 10:02 (connection refused)..."."""
        what = {"connection": "unreachable", "429": "rate limiting us", "5xx": "failing"}
        counted = ", ".join(f"{n} {kind}" for kind, n in sorted(self.counts.items()))
        return (
            f"OneInbox {what.get(self.kind, 'refusing calls')} since {self.since:%H:%M:%S} UTC "
            f"({self.detail}); last minute: {counted}; creates are retried"
        )


def kind_of(exc: ProviderError) -> str:
    """The kind of a OneInbox error, as the health record counts it."""
    if isinstance(exc, RateLimited) or exc.status_code == 429:
        return "429"
    if exc.status_code is None:
        return "connection"
    return "5xx" if exc.status_code >= 500 else "other"


def note_error(client: redis.Redis, cid: str, exc: ProviderError, at_ms: int) -> None:
    """Record one OneInbox error met while dialling campaign `cid`.

    One transaction (WATCH, then MULTI/EXEC, again if another worker wrote in between): the
    record and its counts never live without their expiry, and two workers never both start
    a streak."""
    kind, key, events = kind_of(exc), health_key(cid), health_events_key(cid)
    detail = str(exc).split("\n")[0][:200]

    def write(pipe: Pipeline) -> None:
        since, last = pipe.hmget(key, ["since_ms", "last_ms"])
        fresh = since is None or last is None or at_ms - int(last) > WINDOW_MS
        fields = {"kind": kind, "detail": detail, "last_ms": str(at_ms)}
        if fresh:
            fields["since_ms"] = str(at_ms)
        pipe.multi()
        pipe.hset(key, mapping=cast(Any, fields))  # redis-py's mapping type is invariant
        pipe.pexpire(key, WINDOW_MS * 60)
        pipe.zadd(events, {f"{kind}:{uuid.uuid4().hex[:8]}": at_ms})
        pipe.zremrangebyscore(events, "-inf", at_ms - WINDOW_MS)
        pipe.pexpire(events, WINDOW_MS * 2)

    client.transaction(write, key, events)


def read(client: redis.Redis, cid: str, now_ms: int) -> Health | None:
    """The trouble of the last minute, or None when there was none."""
    fields = cast(dict[str, str], client.hgetall(health_key(cid)))
    if not fields or now_ms - int(fields.get("last_ms", 0)) > WINDOW_MS:
        return None
    members = cast(
        list[str], client.zrangebyscore(health_events_key(cid), now_ms - WINDOW_MS, "+inf")
    )
    counts = Counter(member.split(":", 1)[0] for member in members)
    return Health(
        kind=fields.get("kind", "other"),
        detail=fields.get("detail", ""),
        since=_at(int(fields.get("since_ms", fields["last_ms"]))),
        last=_at(int(fields["last_ms"])),
        counts=dict(counts),
    )


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)
