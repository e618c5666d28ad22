"""The store's scheduled jobs, leases and clock: what beat and the tick share across processes."""

from __future__ import annotations

import json
from typing import cast

import redis

from dialer.errors import StateError
from dialer.store.keys import SCHEDULE_RUNS, SCHEDULES, TICK_LEASE, occurrence_key

OCCURRENCE_TTL_S = 7 * 24 * 3600


class Jobs:
    """Part of `Store`: everything here lives outside any one campaign."""

    redis: redis.Redis

    # -- time and leases ---------------------------------------------------------------------

    def server_ms(self) -> int:
        """The Redis server's clock in milliseconds."""
        seconds, micros = self.redis.time()
        return int(seconds) * 1000 + int(micros) // 1000

    def try_tick_lease(self, owner: str, ms: int, key: str = TICK_LEASE) -> bool:
        """Take (or keep) a lease for `ms`; only its holder ticks (or schedules)."""
        if self.redis.set(key, owner, nx=True, px=ms):
            return True
        if self.redis.get(key) == owner:
            self.redis.pexpire(key, ms)
            return True
        return False

    # -- scheduled jobs ----------------------------------------------------------------------

    def save_schedule(self, name: str, spec: str) -> None:
        """Create or replace a scheduled job (its spec is JSON)."""
        self.redis.hset(SCHEDULES, name, spec)

    def schedules(self) -> dict[str, str]:
        """Every scheduled job's spec by name."""
        return cast(dict[str, str], self.redis.hgetall(SCHEDULES))

    def remove_schedule(self, name: str) -> bool:
        """Delete a scheduled job; False when there was none."""
        return bool(self.redis.hdel(SCHEDULES, name))

    def claim_occurrence(self, occurrence: str) -> bool:
        """True for the first caller only: one start per occurrence, however often it fires."""
        return bool(self.redis.set(occurrence_key(occurrence), "1", nx=True, ex=OCCURRENCE_TTL_S))

    def note_occurrence(self, name: str, occurrence: str, error: str = "") -> None:
        """Remember the last occurrence of a job and how it went."""
        self.redis.hset(SCHEDULE_RUNS, mapping={name: json.dumps([occurrence, error])})

    def last_occurrences(self) -> dict[str, tuple[str, str]]:
        """For each job: its last occurrence and its error ('' when it started)."""
        raw = cast(dict[str, str], self.redis.hgetall(SCHEDULE_RUNS))
        return {name: (json.loads(v)[0], json.loads(v)[1]) for name, v in raw.items()}

    def ping(self) -> None:
        """Raise StateError when Redis cannot be reached."""
        try:
            self.redis.ping()
        except redis.RedisError as exc:
            raise StateError(f"Redis is not reachable: {exc}") from exc
