"""The store's scheduled jobs, leases and clock: what beat and the tick share across processes."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import cast

import redis

from dialer.errors import StateError
from dialer.store.keys import (
    BEAT_SEEN,
    SCHEDULE_ERRORS,
    SCHEDULE_RUNS,
    SCHEDULES,
    TICK_LEASE,
    occurrence_key,
)

OCCURRENCE_TTL_S = 7 * 24 * 3600


class RunStatus(StrEnum):
    """How far a scheduled job's occurrence got."""

    FIRED = "fired"  # the scheduler sent it to the workers
    STARTED = "started"  # a worker (or `run-now`) started its campaign
    FAILED = "failed"  # it did not start: see the error


@dataclass(frozen=True)
class JobRun:
    """One occurrence of a scheduled job and how it went (`at`: ISO time, '' if not recorded)."""

    occurrence: str
    status: RunStatus
    error: str = ""
    at: str = ""

    @classmethod
    def from_json(cls, text: str) -> JobRun:
        """Read one back; `[occurrence, error]` is how the first version stored it."""
        value = json.loads(text)
        if isinstance(value, list):
            occurrence, error = value
            status = RunStatus.FAILED if error else RunStatus.STARTED
            return cls(occurrence, status, error)
        return cls(value["occurrence"], RunStatus(value["status"]), value["error"], value["at"])


class SchedulerStore:
    """Part of `Store`: the server clock, the tick and beat leases, and the scheduled jobs;
    everything here lives outside any one campaign."""

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

    def replace_schedule(self, name: str, old: str, new: str) -> bool:
        """Replace a job's spec only if it is still `old` (False when it changed meanwhile)."""
        with self.redis.pipeline() as pipe:
            try:
                pipe.watch(SCHEDULES)  # type: ignore[no-untyped-call]
                if pipe.hget(SCHEDULES, name) != old:
                    return False
                pipe.multi()
                pipe.hset(SCHEDULES, name, new)
                pipe.execute()
            except redis.WatchError:
                return False
        return True

    def forget_schedule(self, name: str) -> None:
        """Drop a removed job's last run and last error."""
        self.redis.hdel(SCHEDULE_RUNS, name)
        self.redis.hdel(SCHEDULE_ERRORS, name)

    def claim_occurrence(self, occurrence: str) -> bool:
        """True for the first caller only: one start per occurrence, however often it fires."""
        return bool(self.redis.set(occurrence_key(occurrence), "1", nx=True, ex=OCCURRENCE_TTL_S))

    def release_occurrence(self, occurrence: str) -> None:
        """Let an occurrence that could not be sent or started be fired again."""
        self.redis.delete(occurrence_key(occurrence))

    def note_run(self, name: str, run: JobRun) -> None:
        """Remember a job's last occurrence and how it went (and its last error apart)."""
        text = json.dumps(asdict(run))
        self.redis.hset(SCHEDULE_RUNS, name, text)
        if run.error:
            self.redis.hset(SCHEDULE_ERRORS, name, text)

    def last_runs(self) -> dict[str, JobRun]:
        """For each job: its last occurrence and how it went."""
        raw = cast(dict[str, str], self.redis.hgetall(SCHEDULE_RUNS))
        return {name: JobRun.from_json(text) for name, text in raw.items()}

    def last_errors(self) -> dict[str, JobRun]:
        """For each job that ever failed: its last failure."""
        raw = cast(dict[str, str], self.redis.hgetall(SCHEDULE_ERRORS))
        return {name: JobRun.from_json(text) for name, text in raw.items()}

    def note_beat(self, at: str) -> None:
        """The active scheduler looked for due occurrences at `at` (ISO time)."""
        self.redis.set(BEAT_SEEN, at)

    def beat_seen(self) -> str | None:
        """When the active scheduler last looked for due occurrences (None: never)."""
        return cast(str | None, self.redis.get(BEAT_SEEN))

    def ping(self) -> None:
        """Raise StateError when Redis cannot be reached."""
        try:
            self.redis.ping()
        except redis.RedisError as exc:
            raise StateError(f"Redis is not reachable: {exc}") from exc
