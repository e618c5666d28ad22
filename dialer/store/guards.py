"""The store's side of a campaign's guards: what its calls cost, and how its last calls ended.

Each ended call is counted once (`guards.lua`): its cost, when the carrier reported one, adds to
the campaign's known spend, else to its calls of unknown cost. Endings are numbered, the
numbers of the latest N failures kept, and the script says when N of the last M failed. The
spend cap's verdict is kept too (`over`), so a campaign that reached its cap never dials again.

Keys (see `dialer.store.keys`): `dialer:camp:C:spend`, `dialer:camp:C:ended`,
`dialer:camp:C:failures`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

import redis

from dialer.store.keys import ended_calls_key, script_keys, spend_key

NO_CALL = "-"  # the cost of an ending that had no call to cost (a refused create)


@dataclass(frozen=True)
class Spend:
    """A campaign's carrier cost so far."""

    known_cents: float = 0.0  # the sum of the costs reported
    costed: int = 0  # ended calls with a cost reported
    unknown: int = 0  # ended calls without one
    over: str = ""  # why no new call is made ('' while under the cap)

    @property
    def mean_cents(self) -> float:
        """The mean reported cost of one call (0 before any)."""
        return self.known_cents / self.costed if self.costed else 0.0

    def describe(self) -> str:
        """`$1.24 so far`, and how many calls' cost is unknown."""
        shown = f"${self.known_cents / 100:,.2f} so far"
        return shown + (f"; cost unknown for {self.unknown} calls" if self.unknown else "")


@dataclass(frozen=True)
class Ending:
    """What counting one ended call found."""

    counted: bool  # False: it had been counted already
    tripped: bool  # N of the last M calls failed: the campaign is to pause


@lru_cache(maxsize=1)
def _source() -> str:
    return files("dialer.store").joinpath("lua", "guards.lua").read_text()


def record_ending(
    client: redis.Redis,
    cid: str,
    call_id: str,
    *,
    cost_cents: str,
    failed: bool,
    guard: tuple[int, int] | None,
) -> Ending:
    """Count one ended call (`cost_cents`: '' unreported, `NO_CALL` for none) and its failure
    against `guard` (N of the last M; None counts no failures)."""
    n, m = guard or (0, 0)
    script = client.register_script(_source())
    keys = script_keys("guards", cid)
    counted, tripped = script(keys=keys, args=[call_id, cost_cents, int(failed), m, n])
    return Ending(bool(counted), bool(tripped))


def spend(client: redis.Redis, cid: str) -> Spend:
    """The campaign's spend so far: the calls costed are those counted less those of unknown
    cost and the endings with no call (guards.lua keeps no count of its own of them)."""
    pipe = client.pipeline(transaction=True)
    pipe.hmget(spend_key(cid), ["known_cents", "unknown", "nocall", "over"])
    pipe.scard(ended_calls_key(cid))
    (known, unknown, nocall, over), ended = pipe.execute()
    costed = int(ended) - int(unknown or 0) - int(nocall or 0)
    return Spend(float(known or 0), costed, int(unknown or 0), str(over or ""))


def stop_spending(client: redis.Redis, cid: str, why: str) -> str:
    """Record that the campaign reached its cap (the first reason given stays); returns it."""
    client.hsetnx(spend_key(cid), "over", why)
    return str(client.hget(spend_key(cid), "over") or why)
