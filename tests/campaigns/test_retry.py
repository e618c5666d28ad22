"""Retry policy: parsing the options and choosing the next attempt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.retry import (
    RetryPolicy,
    next_attempt,
    parse_delays,
    parse_duration,
    parse_retry_on,
)
from campaigns.windows import next_allowed, parse_window, zones_for
from dialer.errors import ConfigError

ENDED = datetime(2026, 6, 1, 14, tzinfo=UTC)
MIN, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", 30 * MIN),
        ("1h", HOUR),
        ("1d", DAY),
        (" 1h30m ", 90 * MIN),
        ("2H", 2 * HOUR),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "30", "m", "1w", "-5m", "0m", "1.5h", "30m!"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ConfigError, match="--retry-delay"):
        parse_duration(text)


def test_parse_delays() -> None:
    assert parse_delays("10m,1h,1d") == (10 * MIN, HOUR, DAY)
    assert parse_delays("30m") == (30 * MIN,)
    with pytest.raises(ConfigError, match="--retry-delay"):
        parse_delays("10m,,1h")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no_answer,failed", {"no_answer", "failed"}),
        ("No-Answer, voicemail", {"no_answer", "voicemail"}),
        ("failed", {"failed"}),
    ],
)
def test_parse_retry_on(text: str, expected: set[str]) -> None:
    assert parse_retry_on(text) == frozenset(expected)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("completed", "completed is never retried"),
        ("failed,error", "error is never retried"),
        ("no_answer,unknown", "unknown is never retried"),
        ("busy", "unknown outcome busy"),
        (" , ", "at least one"),
    ],
)
def test_parse_retry_on_rejects(text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_retry_on(text)


def test_policy_checks_itself() -> None:
    with pytest.raises(ConfigError, match="--max-attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ConfigError, match="--retry-delay"):
        RetryPolicy(delays=())
    with pytest.raises(ConfigError, match="never retried"):
        RetryPolicy(retry_on=frozenset({"completed"}))


LIST = RetryPolicy(
    max_attempts=4, retry_on=frozenset({"no_answer", "voicemail"}), delays=(10 * MIN, HOUR, DAY)
)


@pytest.mark.parametrize(
    ("policy", "status", "done", "expected"),
    [
        (RetryPolicy(), "no_answer", 1, None),  # default: one attempt
        (RetryPolicy(max_attempts=3), "no_answer", 1, ENDED + 30 * MIN),
        (RetryPolicy(max_attempts=3), "failed", 2, ENDED + 30 * MIN),
        (RetryPolicy(max_attempts=3), "failed", 3, None),
        (RetryPolicy(max_attempts=3), "voicemail", 1, None),  # not in the default retry_on
        (RetryPolicy(max_attempts=3), "completed", 1, None),
        (RetryPolicy(max_attempts=3), "error", 1, None),
        (RetryPolicy(max_attempts=3), "unknown", 1, None),
        (LIST, "voicemail", 1, ENDED + 10 * MIN),
        (LIST, "no_answer", 2, ENDED + HOUR),
        (LIST, "no_answer", 3, ENDED + DAY),
        (LIST, "no_answer", 4, None),
        (LIST, "failed", 1, None),
        (RetryPolicy(max_attempts=9, delays=(10 * MIN, HOUR)), "failed", 7, ENDED + HOUR),
    ],
)
def test_next_attempt(
    policy: RetryPolicy, status: str, done: int, expected: datetime | None
) -> None:
    assert next_attempt(policy, status, done, ENDED) == expected


def test_retry_moves_into_the_next_window() -> None:
    # a no-answer at 20:50 in Chicago, retried 30 min later, waits for 08:00 the next morning
    ended = datetime(2026, 6, 2, 1, 50, tzinfo=UTC)
    due = next_attempt(RetryPolicy(max_attempts=2), "no_answer", 1, ended)
    assert due == datetime(2026, 6, 2, 2, 20, tzinfo=UTC)
    at = next_allowed(due, zones_for("+13125550100"), parse_window("08:00-21:00"))
    assert at == datetime(2026, 6, 2, 13, tzinfo=UTC)


@given(
    delays=st.lists(st.integers(1, 10**6), min_size=1, max_size=5),
    max_attempts=st.integers(1, 10),
    done=st.integers(1, 12),
    status=st.sampled_from(["no_answer", "voicemail", "failed", "completed", "error", "unknown"]),
)
def test_next_attempt_properties(
    delays: list[int], max_attempts: int, done: int, status: str
) -> None:
    policy = RetryPolicy(
        max_attempts=max_attempts,
        retry_on=frozenset({"no_answer", "voicemail", "failed"}),
        delays=tuple(timedelta(seconds=d) for d in delays),
    )
    due = next_attempt(policy, status, done, ENDED)
    if status in ("completed", "error", "unknown") or done >= max_attempts:
        assert due is None
    else:
        assert due is not None and due - ENDED == timedelta(
            seconds=delays[min(done, len(delays)) - 1]
        )
