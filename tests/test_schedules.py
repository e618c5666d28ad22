"""Scheduled jobs: cron read in a zone (DST included), occurrences fired once however often the
scheduler runs, and a missing file failing one occurrence, not the scheduler."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis

from campaigns.schedules import next_occurrence, occurrence_id, occurrences, parse_cron
from dialer.campaign import CampaignState
from dialer.errors import ConfigError
from dialer.settings import Settings
from dialer.store import Store
from tests.support import Stack, dialer_cli, wait_until
from workers.scheduler import Schedule, beat_once, start_occurrence
from workers.simulator.config import DEFAULT_AGENT_ID, DEFAULT_FROM_NUMBER

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


def test_weekdays_at_ten_in_paris() -> None:
    cron = parse_cron("0 10 * * mon-fri")
    friday = datetime(2026, 11, 27, 12, tzinfo=UTC)
    assert next_occurrence(cron, PARIS, friday) == datetime(2026, 11, 30, 9, tzinfo=UTC)


def test_the_local_hour_holds_across_a_dst_change() -> None:
    cron = parse_cron("0 10 * * *")
    before = next_occurrence(cron, NEW_YORK, datetime(2026, 3, 7, 16, tzinfo=UTC))
    after = next_occurrence(cron, NEW_YORK, datetime(2026, 3, 8, 16, tzinfo=UTC))
    assert before == datetime(2026, 3, 8, 14, tzinfo=UTC)  # 10:00 EDT, the first day of DST
    assert after == datetime(2026, 3, 9, 14, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "minutes", "weekdays"),
    [
        ("*/15 * * * *", {0, 15, 30, 45}, set(range(7))),
        ("5,35 9-17 * * sat,sun", {5, 35}, {0, 6}),
        ("0 8 * * 7", {0}, {0}),
    ],
)
def test_cron_fields(text: str, minutes: set[int], weekdays: set[int]) -> None:
    cron = parse_cron(text)
    assert cron.minutes == minutes and cron.weekdays == weekdays


@pytest.mark.parametrize("bad", ["0 10 * *", "61 * * * *", "0 10 * * funday", "*/0 * * * *"])
def test_bad_cron_is_refused_with_the_option_named(bad: str) -> None:
    with pytest.raises(ConfigError, match="--cron"):
        parse_cron(bad)


def test_occurrences_in_a_span() -> None:
    cron = parse_cron("*/10 * * * *")
    found = occurrences(
        cron, PARIS, datetime(2026, 1, 1, 9, 0, tzinfo=UTC), datetime(2026, 1, 1, 9, 30, tzinfo=UTC)
    )
    assert [t.minute for t in found] == [10, 20, 30]


@pytest.fixture
def store(redis_url: str) -> Store:
    return Store(redis.Redis.from_url(redis_url, decode_responses=True))


def _job(contacts: Path, tmp: Path) -> Schedule:
    return Schedule(
        name="daily",
        cron="0 10 * * *",
        tz="Europe/Paris",
        contacts=str(contacts),
        results=str(tmp / "{name}-{date}.csv"),
        run={
            "agent_id": "a0000000-0000-4000-8000-000000000000",
            "from_number": "+14155550100",
            "window": "always",
        },
    )


def test_an_occurrence_fired_by_two_schedulers_starts_one_campaign(
    store: Store, tmp_path: Path
) -> None:
    contacts = tmp_path / "c.csv"
    contacts.write_text("phone,name\n+14155550123,Ana\n+14155550124,Ben\n")
    store.save_schedule("daily", _job(contacts, tmp_path).model_dump_json())
    fired: list[tuple[str, str]] = []
    at = datetime(2026, 12, 1, 9, 0, 30, tzinfo=UTC)  # 10:00:30 in Paris
    assert beat_once(store, lambda n, o: fired.append((n, o)), at) == 1
    assert beat_once(store, lambda n, o: fired.append((n, o)), at) == 0  # a second beat
    [(name, payload)] = fired
    occurrence, when = json.loads(payload)
    assert occurrence == occurrence_id("daily", datetime(2026, 12, 1, 9, tzinfo=UTC), PARIS)

    settings = Settings(redis_url="redis://unused")
    for _ in range(2):  # the task delivered twice
        start_occurrence(store, settings, name, occurrence, datetime.fromisoformat(when))
    assert store.campaign_state(occurrence) is CampaignState.RUNNING
    assert store.total(occurrence) == 2
    assert store.campaign(occurrence).results_path == str(tmp_path / "daily-2026-12-01.csv")


def test_a_missing_file_fails_that_occurrence_only(store: Store, tmp_path: Path) -> None:
    store.save_schedule("daily", _job(tmp_path / "gone.csv", tmp_path).model_dump_json())
    start_occurrence(
        store,
        Settings(redis_url="redis://unused"),
        "daily",
        "daily-x",
        datetime(2026, 12, 1, 9, tzinfo=UTC),
    )
    occurrence, error = store.last_occurrences()["daily"]
    assert occurrence == "daily-x" and "gone.csv" in error and "no such file" in error
    assert store.campaign_state("daily-x") is None


@pytest.mark.integration
@pytest.mark.timeout(120)
def test_run_now_starts_the_job_on_a_worker(stack: Stack, tmp_path: Path) -> None:
    """`schedule add` then `run-now`: a worker's task reads the file and dials the campaign."""
    contacts = tmp_path / "c.csv"
    contacts.write_text("phone,name\n+14155550123,Ana\n+14155550124,Ben\n")
    stack.worker()
    add = ["schedule", "add", "daily", str(contacts), "--cron", "0 10 * * *", "--window"]
    add += ["always", "--agent-id", DEFAULT_AGENT_ID, "--from-number", DEFAULT_FROM_NUMBER]
    assert dialer_cli(add, stack.env, cwd=tmp_path).returncode == 0
    done = dialer_cli(["schedule", "run-now", "daily"], stack.env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    occurrence = done.stdout.split("Started ", 1)[1].split(";", 1)[0]
    wait_until(
        lambda: stack.store.campaign_state(occurrence) is CampaignState.DONE, 90, "the campaign"
    )
    assert stack.store.total(occurrence) == 2
