"""The health record on a real Redis: OneInbox errors counted by kind over the last minute,
since when the streak runs, and nothing once a minute has passed without one."""

from __future__ import annotations

import redis

from dialer.errors import Ambiguous, RateLimited, Retryable
from dialer.store import health
from dialer.store.keys import health_events_key, health_key

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


def test_the_record_and_its_expiry_are_written_in_one_transaction(redis_url: str) -> None:
    """A worker that dies mid-write must not leave a record that never expires: its counts and
    their expiries are one MULTI/EXEC."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    watcher = redis.Redis.from_url(redis_url, decode_responses=True)
    with watcher.monitor() as monitor:
        health.note_error(client, "c", Retryable("refused"), T0)
        client.echo("written")  # the end of what note_error sent
        names: list[str] = []
        while "ECHO" not in names:
            names.append(str(monitor.next_command()["command"]).split()[0].upper())
    assert "MULTI" in names and "EXEC" in names, f"not one transaction: {names}"
    written = names[names.index("MULTI") + 1 : names.index("EXEC")]
    assert written.count("PEXPIRE") == 2 and {"HSET", "ZADD"} <= set(written), names
    assert "HSET" not in names[: names.index("MULTI")], names
    for key in (health_key("c"), health_events_key("c")):
        assert client.pttl(key) > 0, key
