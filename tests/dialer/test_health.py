"""The health record on a real Redis: OneInbox errors counted by kind over the last minute,
since when the streak runs, and nothing once a minute has passed without one."""

from __future__ import annotations

import redis

from dialer.errors import Ambiguous, RateLimited, Retryable
from dialer.store import health

T0 = 1_700_000_000_000


def test_errors_are_counted_by_kind_and_the_streak_keeps_its_start(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    health.note_error(client, "c", Retryable("connection refused"), T0)
    health.note_error(client, "c", RateLimited("too many", status_code=429), T0 + 5_000)
    health.note_error(client, "c", Retryable("connection refused"), T0 + 10_000)
    seen = health.read(client, "c", T0 + 12_000)
    assert seen is not None
    assert seen.counts == {"connection": 2, "429": 1}
    assert seen.since.timestamp() * 1000 == T0
    assert seen.words().startswith("OneInbox unreachable since ")
    assert "(connection refused); last minute: 1 429, 2 connection" in seen.words()


def test_a_5xx_after_a_post_is_counted_as_5xx(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    health.note_error(client, "c", Ambiguous("bad gateway", status_code=502), T0)
    seen = health.read(client, "c", T0)
    assert seen is not None and seen.counts == {"5xx": 1} and seen.kind == "5xx"


def test_a_quiet_minute_ends_the_record_and_a_new_streak_starts_afresh(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    health.note_error(client, "c", Retryable("refused"), T0)
    assert health.read(client, "c", T0 + 61_000) is None
    health.note_error(client, "c", Retryable("refused"), T0 + 120_000)
    seen = health.read(client, "c", T0 + 120_000)
    assert seen is not None and seen.since.timestamp() * 1000 == T0 + 120_000
    assert seen.counts == {"connection": 1}
    assert health.read(client, "other", T0) is None
