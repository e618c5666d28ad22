"""The scheduler on a real Redis: each occurrence after a job was added fires once, a scheduler
that was down fires only the latest missed one, and any error in a firing is kept for
`schedule list`. Time is injected; one test runs a real `dialer beat` with its pass interval
shrunk."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis

from campaigns.schedules import occurrence_id
from dialer.campaign import CampaignState
from dialer.settings import Settings
from dialer.simulator.config import DEFAULT_AGENT_ID, DEFAULT_FROM_NUMBER
from dialer.store import RunStatus, Store
from dialer.store.keys import SCHEDULES
from tests.support import Stack, dialer_cli, dialer_env, dialer_exe, wait_until
from workers.celery_app import make_app
from workers.queues import DIAL_QUEUE
from workers.scheduler import Schedule, beat_once, clock, send_start, start_occurrence

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
LATENESS = timedelta(minutes=15)
AGENT = "a0000000-0000-4000-8000-000000000000"


@pytest.fixture
def store(redis_url: str) -> Iterator[Store]:
    store = Store(redis.Redis.from_url(redis_url, decode_responses=True))
    yield store
    store.redis.close()


def _job(
    tmp: Path,
    *,
    name: str = "daily",
    cron: str = "0 10 * * *",
    changed: datetime | None,
    results: str = "{name}-{date}.csv",
    **run: object,
) -> Schedule:
    return Schedule(
        name=name,
        cron=cron,
        tz="Europe/Paris",
        contacts=str(tmp / "c.csv"),
        results=str(tmp / results),
        run={"agent_id": AGENT, "from_number": "+14155550100", "window": "always", **run},
        changed=changed,
    )


def _save(store: Store, job: Schedule) -> None:
    store.save_schedule(job.name, job.model_dump_json())


class Beat:
    """`beat_once` on an injected clock, keeping what it fired."""

    def __init__(self, store: Store, lateness: timedelta = LATENESS) -> None:
        self.store, self.lateness = store, lateness
        self.fired: list[str] = []

    def __call__(self, now: datetime) -> int:
        return beat_once(self.store, self._fire, now, self.lateness)

    def _fire(self, name: str, payload: str) -> None:
        self.fired.append(json.loads(payload)[0])

    def every(self, start: datetime, end: datetime, step: timedelta) -> None:
        while start <= end:
            self(start)
            start += step


def _utc(hour: int, minute: int, second: int = 0, day: int = 1) -> datetime:
    return datetime(2026, 12, day, hour, minute, second, tzinfo=UTC)


def _paris(at: datetime, name: str = "daily") -> str:
    return occurrence_id(name, at, PARIS)


# -- the firing rule, on an injected clock ---------------------------------------------------


def test_an_every_minute_job_fires_each_minute_after_it_was_added_once(
    store: Store, tmp_path: Path
) -> None:
    _save(store, _job(tmp_path, name="m", cron="* * * * *", changed=_utc(10, 29, 30)))
    beat = Beat(store)
    beat.every(_utc(10, 29, 30), _utc(10, 31, 50), timedelta(seconds=5))
    assert beat.fired == [_paris(_utc(10, 30), "m"), _paris(_utc(10, 31), "m")]


def test_a_beat_that_was_down_fires_only_the_latest_missed_occurrence(
    store: Store, tmp_path: Path
) -> None:
    _save(store, _job(tmp_path, name="m", cron="* * * * *", changed=_utc(10, 29, 30)))
    beat = Beat(store)
    beat(_utc(10, 29, 40))
    beat.every(_utc(10, 44, 10), _utc(10, 44, 50), timedelta(seconds=5))  # back after 15 min
    assert beat.fired == [_paris(_utc(10, 44), "m")]


def test_a_daily_job_added_after_its_time_waits_for_the_next_day(
    store: Store, tmp_path: Path
) -> None:
    _save(store, _job(tmp_path, changed=_utc(9, 5)))  # 10:05 in Paris
    beat = Beat(store)
    beat.every(_utc(9, 5), _utc(9, 30), timedelta(minutes=1))
    assert beat.fired == []
    beat.every(_utc(8, 59, day=2), _utc(9, 2, day=2), timedelta(seconds=20))
    assert beat.fired == [_paris(_utc(9, 0, day=2))]


def test_an_occurrence_missed_by_more_than_the_lateness_limit_is_skipped(
    store: Store, tmp_path: Path
) -> None:
    _save(store, _job(tmp_path, changed=_utc(8, 0)))
    beat = Beat(store, lateness=timedelta(seconds=30))
    beat(_utc(9, 0, 31))
    assert beat.fired == []


def test_a_changed_job_does_not_fire_occurrences_from_before_the_change(
    store: Store, tmp_path: Path
) -> None:
    _save(store, _job(tmp_path, name="q", cron="*/15 * * * *", changed=_utc(8, 0)))
    beat = Beat(store)
    _save(store, _job(tmp_path, name="q", cron="*/15 * * * *", changed=_utc(9, 5)))
    beat.every(_utc(9, 6), _utc(9, 15), timedelta(minutes=1))  # 10:00 Paris is before the change
    assert beat.fired == [_paris(_utc(9, 15), "q")]


def test_a_fall_back_hour_fires_its_local_time_once(store: Store, tmp_path: Path) -> None:
    job = _job(tmp_path, name="n", cron="30 1 * * *", changed=datetime(2026, 10, 31, tzinfo=UTC))
    _save(store, job.model_copy(update={"tz": "America/New_York"}))
    beat = Beat(store)
    start = datetime(2026, 11, 1, 5, tzinfo=UTC)  # 01:00 EDT; 01:30 comes at 05:30 and 06:30
    beat.every(start, start + timedelta(hours=2), timedelta(minutes=1))
    assert beat.fired == ["n-20261101-0130"]


def test_a_job_stored_by_the_previous_version_loads_and_fires_no_past_occurrence(
    store: Store, tmp_path: Path
) -> None:
    old = json.dumps(  # exactly what the previous version stored: no "changed"
        {
            "name": "old",
            "cron": "* * * * *",
            "tz": "UTC",
            "contacts": str(tmp_path / "c.csv"),
            "results": str(tmp_path / "{name}.csv"),
            "run": {"agent_id": AGENT, "rate": "1/s", "window": "always"},
        }
    )
    store.redis.hset(SCHEDULES, "old", old)
    beat = Beat(store)
    beat.every(_utc(10, 0, 30), _utc(10, 0, 50), timedelta(seconds=10))  # 10:00 is within lateness
    assert beat.fired == []
    assert Schedule.model_validate_json(store.schedules()["old"]).changed == _utc(10, 0, 30)
    beat(_utc(10, 1, 5))
    assert beat.fired == ["old-20261201-1001"]


def test_an_occurrence_fired_by_two_schedulers_starts_one_campaign(
    store: Store, tmp_path: Path
) -> None:
    (tmp_path / "c.csv").write_text("phone,name\n+14155550123,Ana\n+14155550124,Ben\n")
    _save(store, _job(tmp_path, changed=_utc(8, 0)))
    fired: list[tuple[str, str]] = []
    at = _utc(9, 0, 30)  # 10:00:30 in Paris
    assert beat_once(store, lambda n, o: fired.append((n, o)), at, LATENESS) == 1
    assert beat_once(store, lambda n, o: fired.append((n, o)), at, LATENESS) == 0  # a 2nd beat
    [(name, payload)] = fired
    occurrence, when = json.loads(payload)
    assert occurrence == _paris(_utc(9, 0))
    assert store.last_runs()["daily"].status is RunStatus.FIRED

    settings = Settings(redis_url="redis://unused")
    for _ in range(2):  # the task delivered twice
        start_occurrence(store, settings, name, occurrence, datetime.fromisoformat(when))
    assert store.campaign_state(occurrence) is CampaignState.RUNNING
    assert store.total(occurrence) == 2
    assert store.campaign(occurrence).results_path == str(tmp_path / "daily-2026-12-01.csv")
    assert store.last_runs()["daily"].status is RunStatus.STARTED


# -- errors in a firing ----------------------------------------------------------------------


def test_a_send_that_fails_is_noted_the_other_jobs_fire_and_the_next_pass_retries(
    store: Store, tmp_path: Path
) -> None:
    for name in ("a", "b"):
        _save(store, _job(tmp_path, name=name, changed=_utc(8, 0)))
    sent: list[str] = []
    failed: list[str] = []

    def fire(name: str, payload: str) -> None:
        if name == "a" and not failed:
            failed.append(name)
            raise RuntimeError("broker gone")
        sent.append(name)

    assert beat_once(store, fire, _utc(9, 0, 5), LATENESS) == 1
    error = store.last_errors()["a"]
    assert error.error == "RuntimeError: broker gone" and error.at.startswith("2026-12-01T09:00")
    assert beat_once(store, fire, _utc(9, 0, 10), LATENESS) == 1
    assert sorted(sent) == ["a", "b"]


def test_a_bad_template_stored_earlier_fails_that_occurrence_with_the_reason_kept(
    store: Store, tmp_path: Path
) -> None:
    (tmp_path / "c.csv").write_text("phone\n+14155550123\n")
    _save(store, _job(tmp_path, changed=_utc(8, 0), results="{nme}.csv"))
    run = start_occurrence(store, Settings(), "daily", "daily-x", _utc(9, 0))
    assert run.status is RunStatus.FAILED
    assert "unknown placeholder {nme}" in store.last_errors()["daily"].error
    assert store.last_errors()["daily"].at
    assert store.campaign_state("daily-x") is None


def test_an_unexpected_error_in_a_start_is_caught_and_kept(store: Store, tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("phone\n+14155550123\n")
    _save(store, _job(tmp_path, changed=_utc(8, 0), max_concurrent="many"))
    run = start_occurrence(store, Settings(), "daily", "daily-x", _utc(9, 0))
    assert run.status is RunStatus.FAILED and run.error.startswith("ValidationError")
    assert store.last_runs()["daily"] == run


def test_a_missing_file_fails_that_occurrence_only(store: Store, tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("phone\n+14155550123\n")
    _save(store, _job(tmp_path, name="gone", changed=_utc(8, 0)))
    _save(store, _job(tmp_path, name="here", changed=_utc(8, 0)))
    (tmp_path / "c.csv").unlink()
    start_occurrence(store, Settings(), "gone", "gone-x", _utc(9, 0))
    run = store.last_runs()["gone"]
    assert run.occurrence == "gone-x" and "c.csv" in run.error and "no such file" in run.error
    assert store.campaign_state("gone-x") is None


def test_runs_noted_by_the_previous_version_still_read(store: Store) -> None:
    store.redis.hset("dialer:schedule-runs", mapping={"a": '["a-1", ""]', "b": '["b-1", "boom"]'})
    runs = store.last_runs()
    assert (runs["a"].status, runs["b"].status, runs["b"].error) == (
        RunStatus.STARTED,
        RunStatus.FAILED,
        "boom",
    )


# -- a real `dialer beat` --------------------------------------------------------------------


def _fired_occurrences(store: Store) -> list[str]:
    return sorted(key.split(":", 2)[2] for key in store.redis.scan_iter("dialer:occurrence:*"))


@pytest.mark.integration
def test_a_real_beat_back_from_an_outage_fires_one_occurrence_per_job(
    store: Store, redis_url: str, tmp_path: Path
) -> None:
    now = clock(store)
    five_ago = now - timedelta(minutes=5)
    daily = f"{five_ago.minute} {five_ago.hour} * * *"
    for job in (
        _job(tmp_path, name="every", cron="* * * * *", changed=now - timedelta(minutes=10)),
        _job(tmp_path, name="late", cron=daily, changed=now - timedelta(hours=1)),
        _job(tmp_path, name="new", cron=daily, changed=now),
    ):
        _save(store, job.model_copy(update={"tz": "UTC"}))
    env = {"DIALER_REDIS_URL": redis_url, "DIALER_BEAT_EVERY_S": "0.05"}
    beat = subprocess.Popen(
        [dialer_exe(), "beat"], env=dialer_env(env), stdout=subprocess.DEVNULL, cwd=tmp_path
    )
    try:
        wait_until(lambda: store.beat_seen() is not None, 30, "the beat's first pass")
        first = datetime.fromisoformat(store.beat_seen() or "")
        seen = lambda: datetime.fromisoformat(store.beat_seen() or "")  # noqa: E731
        wait_until(lambda: seen() > first + timedelta(seconds=0.5), 30, "ten more passes")
    finally:
        beat.terminate()
        assert beat.wait(timeout=20) == 0
    last = seen()
    start = first.replace(second=0, microsecond=0)
    minutes = {  # the minutes the beat ran in: the one it came back in, and any turned since
        occurrence_id("every", start + timedelta(minutes=n), ZoneInfo("UTC"))
        for n in range(int((last - start).total_seconds() // 60) + 1)
    }
    fired = _fired_occurrences(store)
    late = occurrence_id("late", five_ago.replace(second=0, microsecond=0), ZoneInfo("UTC"))
    assert late in fired and not any(o.startswith("new-") for o in fired)
    every = [o for o in fired if o.startswith("every-")]
    # none of the ten minutes missed: the minute it came back in, and one more only if a
    # minute turned during the test; each once
    assert every and set(every) <= minutes and len(every) == len(set(every))
    assert store.redis.llen(DIAL_QUEUE) == len(fired)  # one task sent per occurrence


@pytest.mark.integration
@pytest.mark.timeout(120)
def test_a_fired_occurrence_is_started_and_dialled_by_a_worker(
    stack: Stack, tmp_path: Path
) -> None:
    """`schedule add`, then the occurrence sent as `dialer beat` sends it: a worker's task reads
    the file and dials the campaign."""
    contacts = tmp_path / "c.csv"
    contacts.write_text("phone,name\n+14155550123,Ana\n+14155550124,Ben\n")
    stack.worker()
    add = ["schedule", "add", "daily", str(contacts), "--cron", "0 10 * * *", "--window"]
    add += ["always", "--agent-id", DEFAULT_AGENT_ID, "--from-number", DEFAULT_FROM_NUMBER]
    added = dialer_cli(add, stack.env, cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    at = clock(stack.store)
    occurrence = occurrence_id("daily", at, ZoneInfo("UTC"))
    send_start(
        make_app(stack.env["DIALER_REDIS_URL"]), "daily", json.dumps([occurrence, at.isoformat()])
    )
    wait_until(
        lambda: stack.store.campaign_state(occurrence) is CampaignState.DONE, 90, "the campaign"
    )
    assert stack.store.total(occurrence) == 2
    assert stack.store.last_runs()["daily"].status is RunStatus.STARTED
