"""Automatic retries as data: which outcomes are tried again, how often, and after how long.

`next_attempt` only adds the delay; the caller moves the result into the contact's next legal
window with `campaigns.windows.next_allowed`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from dialer.errors import ConfigError, option_field
from dialer.shown import shown

RETRYABLE = frozenset({"no_answer", "voicemail", "failed"})
NEVER_RETRIED = frozenset({"completed", "error", "unknown"})
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(\d+)\s*([smhd])")
MAX_DURATION = timedelta(days=365)
MAX_ATTEMPTS = 100


@dataclass(frozen=True)
class RetryPolicy:
    """`--max-attempts`, `--retry-on` and `--retry-delay`. Attempts count the first call."""

    max_attempts: int = 1
    retry_on: frozenset[str] = frozenset({"no_answer", "failed"})
    delays: tuple[timedelta, ...] = (timedelta(minutes=30),)

    def __post_init__(self) -> None:
        if not 1 <= self.max_attempts <= MAX_ATTEMPTS:
            raise ConfigError(
                f"--max-attempts: {self.max_attempts} is not from 1 to {MAX_ATTEMPTS}",
                field="max_attempts",
            )
        if not self.delays:
            raise ConfigError("--retry-delay: give at least one delay", field="retry_delay")
        if not self.retry_on <= RETRYABLE:
            raise ConfigError(f"--retry-on: {_bad_statuses(self.retry_on)}", field="retry_on")

    def delay(self, attempts_done: int) -> timedelta:
        """The wait after attempt `attempts_done` (1-based); the last delay repeats."""
        return self.delays[min(attempts_done - 1, len(self.delays) - 1)]


def parse_duration(text: str, option: str = "--retry-delay") -> timedelta:
    """`90s`, `30m`, `1h`, `1d` (or `1h30m`) as a positive timedelta of at most a year."""
    compact = text.strip().lower().replace(" ", "")
    if not compact or len(compact) > 40 or _DURATION.sub("", compact):
        raise ConfigError(
            f"{option}: {shown(text.strip())} is not a duration like 90s, 30m, 1h or 1d",
            field=option_field(option),
        )
    seconds = sum(int(n) * _UNITS[u] for n, u in _DURATION.findall(compact))
    if seconds <= 0:
        raise ConfigError(
            f"{option}: {shown(text.strip())} must be longer than zero", field=option_field(option)
        )
    if seconds > MAX_DURATION.total_seconds():
        raise ConfigError(
            f"{option}: {shown(text.strip())} is longer than a year (365d)",
            field=option_field(option),
        )
    return timedelta(seconds=seconds)


def parse_delays(text: str) -> tuple[timedelta, ...]:
    """`--retry-delay`: one duration, or a list like `10m,1h,1d` (one per retry, last repeats)."""
    return tuple(parse_duration(part) for part in text.split(","))


def parse_retry_on(text: str) -> frozenset[str]:
    """`--retry-on`: comma-separated outcomes among no_answer, voicemail and failed."""
    found = frozenset(p.strip().lower().replace("-", "_") for p in text.split(",") if p.strip())
    if not found:
        raise ConfigError(
            "--retry-on: name at least one of failed, no_answer, voicemail", field="retry_on"
        )
    if not found <= RETRYABLE:
        raise ConfigError(f"--retry-on: {_bad_statuses(found)}", field="retry_on")
    return found


def _bad_statuses(given: frozenset[str]) -> str:
    never = sorted(given & NEVER_RETRIED)
    if never:
        return f"{', '.join(never)} is never retried (only {', '.join(sorted(RETRYABLE))} are)"
    bad = ", ".join(sorted(given - RETRYABLE))
    return f"unknown outcome {bad} (choose from {', '.join(sorted(RETRYABLE))})"


def next_attempt(
    policy: RetryPolicy, status: str, attempts_done: int, ended_at: datetime
) -> datetime | None:
    """When to try a contact again after its attempt number `attempts_done` ended as `status`.

    None when the outcome is not retried or no attempt is left. The result is not yet moved
    into a calling window.
    """
    if status not in policy.retry_on or attempts_done >= policy.max_attempts:
        return None
    return ended_at + policy.delay(attempts_done)
