"""The pace's numbers: slot spacing, the send guard's limit, and their units in the scripts."""

from __future__ import annotations

import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialer.pace import GUARD_WINDOW_S, SEND_AHEAD_S, interval_s, micros, pace_for, send_limit
from dialer.store.core import _script


def test_send_slots_leave_a_one_percent_margin_under_the_rate() -> None:
    assert micros(interval_s(100)) == 10_100  # (1 s + 10 ms) / 100
    assert micros(interval_s(0.5)) == 2_020_000
    assert micros(interval_s(1 / 60)) == 60_600_000  # 1/m
    assert micros(interval_s(1e9)) == 1  # never closer than the scripts' clock can tell


def test_the_send_guard_lets_the_rate_rounded_up_through_per_second() -> None:
    assert [send_limit(r) for r in (0.01, 1, 1.5, 10, 100, 100.0000000001)] == [
        1,
        1,
        2,
        10,
        100,
        100,
    ]


def test_a_campaigns_pace_books_slots_half_a_second_ahead_and_guards_each_second() -> None:
    pace = pace_for(10)
    assert pace.interval_s == interval_s(10) and pace.send_limit == 10
    assert (pace.max_wait_s, pace.guard_window_s) == (SEND_AHEAD_S, GUARD_WINDOW_S) == (0.5, 1.005)


@given(rate=st.floats(0.05 / 3600, 1000))
def test_the_send_guard_holds_creates_bunched_past_a_second_but_never_one_on_its_slot(
    rate: float,
) -> None:
    """The guard's window is longer than a second by half the slots' margin (creates a thread
    held up by less than that between the guard and the POST still make no more than rate+1
    in any second at OneInbox) and shorter, by at least a millisecond, than `send_limit` slots
    take, in the scripts' microseconds: creates sent on their slots never wait for it."""
    pace = pace_for(rate)
    window = micros(pace.guard_window_s)
    assert window == 1_005_000
    assert window <= pace.send_limit * micros(pace.interval_s) - 1000


# -- the send guard's Lua against a plain model, on a real Redis, at times the test chooses ----

_GUARD_CALL = "return send_guard(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    limit=st.integers(1, 5),
    steps=st.lists(st.integers(0, 700_000), min_size=1, max_size=40),
)
def test_the_send_guard_answers_as_a_sliding_window_of_its_limit(
    redis_url: str, limit: int, steps: list[int]
) -> None:
    """Each ask, `step` us after the last, is let through exactly when fewer than `limit` sends
    went in the window before it; a refusal names the wait until the oldest of those leaves."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.delete("guard")
    script = client.register_script(_script("guard") + _GUARD_CALL)
    window, now, passed = 1_000_000, 10**12, list[int]()
    for step in steps:
        now += step
        recent = sorted((t for t in passed if now - t < window), reverse=True)
        expected = 0 if len(recent) < limit else recent[limit - 1] + window - now
        assert script(keys=["guard"], args=[limit, window, now]) == expected
        if expected == 0:
            passed.append(now)
        assert client.llen("guard") <= limit
