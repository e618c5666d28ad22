"""The pace of creates, in one place: how far apart they go, how many may pass in any second,
and how far ahead their send slots are booked.

Two mechanisms keep a campaign at its rate, both in Redis on Redis's clock, so any number of
workers share them:
- the pace: a schedule of send slots `interval_s` apart (GCRA). The claim script books a
  contact's slot when it is at most `max_wait_s` away, and the caller sends at that slot.
  Slots are (1 s + MARGIN_S) / rate apart, so the pace runs at 99% of the rate asked and
  leaves room for the jitter between a slot and the create reaching OneInbox.
- the send guard (`dialer/store/lua/guard.lua`): right before a POST, at most `send_limit` creates
  pass in any `guard_window_s` (a second and 5 ms), whatever happened between the slot and the
  POST.

The tick enqueues about SEND_AHEAD_S of dialling, and a dial task waits at most that long for
its slot: short, so that waiting tasks hold few threads.

Python speaks seconds (floats); the Lua scripts count whole microseconds, and `micros` is the
one conversion between the two.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

MARGIN_S = 0.01  # slots are (1 s + MARGIN_S) / rate apart
SEND_AHEAD_S = 0.5  # the tick's horizon, and the longest a dial task waits for its slot
# The send guard lets `send_limit` creates through in any such window: a second and half the
# slots' margin. Longer than a second, so a create held up between the guard and the POST (a
# thread waiting for the interpreter) by less than MARGIN_S / 2 cannot make rate+1 in a second
# at OneInbox; shorter than `send_limit` slots take, so creates sent on their slots never wait.
GUARD_WINDOW_S = 1.0 + MARGIN_S / 2
MIN_INTERVAL_S = 1e-6  # the scripts' clock ticks in microseconds: slots are at least one apart


def interval_s(rate_per_s: float) -> float:
    """Seconds between two send slots at `rate_per_s`: a second and MARGIN_S, over the rate."""
    return max(MIN_INTERVAL_S, (1 + MARGIN_S) / rate_per_s)


def send_limit(rate_per_s: float) -> int:
    """Creates the send guard lets through in any one second: the rate rounded up, so never more
    than rate + 1, and one left spare for what happens between the guard and OneInbox."""
    return max(1, math.ceil(rate_per_s - 1e-9))


def micros(seconds: float) -> int:
    """Seconds as the whole microseconds the Lua scripts count in."""
    return round(seconds * 1_000_000)


def seconds(us: int | str) -> float:
    """A script's microseconds as seconds."""
    return int(us) / 1_000_000


@dataclass(frozen=True)
class Pace:
    """What the claim and the send guard need to know of a campaign's pace, in seconds."""

    interval_s: float  # between two send slots
    max_wait_s: float = 0.0  # a claim books a slot at most this far ahead, else it is refused
    send_limit: int = 0  # creates the send guard lets through per window (0: none passed)
    guard_window_s: float = GUARD_WINDOW_S


@functools.lru_cache(maxsize=256)
def pace_for(rate_per_s: float) -> Pace:
    """The pace of a campaign dialling at `rate_per_s`, as dial tasks use it."""
    return Pace(
        interval_s=interval_s(rate_per_s),
        max_wait_s=SEND_AHEAD_S,
        send_limit=send_limit(rate_per_s),
    )
