"""How long a campaign should take: its contacts walked through their calling windows at the
campaign's pace and concurrency, as a pure function of the time it is given.

An estimate, and said to be one: calls are assumed to last `call_s` seconds (so that the
concurrency cap turns into a pace), and nobody is retried.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from campaigns.when import CallingPolicy, Recipient
from dialer.campaign import CampaignConfig

DEFAULT_CALL_S = 90.0


@dataclass(frozen=True)
class Estimate:
    """When dialling should end, and how many contacts wait beyond the day they could start."""

    pace_per_s: float
    limited_by: str  # "pace" or "concurrency"
    first_dial: datetime | None
    last_dial: datetime | None
    rolled_over: int  # contacts whose turn comes after their window closed: a later window
    never: int  # contacts with no calling time before the deadline (they would expire)


def effective_pace(config: CampaignConfig, call_s: float = DEFAULT_CALL_S) -> tuple[float, str]:
    """Calls per second the campaign can sustain: its pace, or its concurrency over call length."""
    by_slots = config.max_concurrent / call_s
    if by_slots < config.rate_per_s:
        return by_slots, "concurrency"
    return config.rate_per_s, "pace"


def estimate(
    config: CampaignConfig,
    contacts: Iterable[Mapping[str, str]],
    now: datetime,
    call_s: float = DEFAULT_CALL_S,
) -> Estimate:
    """Walk the contacts (`phone`, optional `timezone`) through their windows at the pace."""
    policy = CallingPolicy()
    pace, limit = effective_pace(config, call_s)
    gap = timedelta(seconds=1 / pace)
    due: list[tuple[datetime, Recipient]] = []
    never = 0
    for row in contacts:
        contact = Recipient(row["phone"], row.get("timezone", ""))
        at, _ = policy.dial_at(config, contact, now, why=False)
        if at is None:
            never += 1
        else:
            due.append((at, contact))
    due.sort(key=lambda item: item[0])
    clock: datetime | None = None
    first: datetime | None = None
    rolled = 0
    for at, contact in due:
        slot = at if clock is None else max(at, clock + gap)
        allowed = policy.allowed_from(config, contact, slot)
        if allowed is None:
            never += 1
            continue
        closes = policy.window_close(config, contact, at)
        rolled += closes is not None and allowed >= closes  # its turn came after its window
        clock = allowed
        first = first or allowed
    return Estimate(pace, limit, first, clock, rolled, never)
