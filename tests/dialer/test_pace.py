"""The pace's numbers: slot spacing, the send guard's limit, and their units in the scripts."""

from __future__ import annotations

from dialer.pace import GUARD_WINDOW_S, SEND_AHEAD_S, interval_s, micros, pace_for, send_limit


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
    assert (pace.max_wait_s, pace.guard_window_s) == (SEND_AHEAD_S, GUARD_WINDOW_S) == (0.5, 1.0)
