"""`dialer schedule add|list|run-now`: every option checked when a job is added, a run-now that
says whether it started, and the last error with its time in `schedule list`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dialer.campaign import CampaignState
from dialer.errors import DialerError
from dialer.store import Store
from tests.support import dialer_cli
from workers.cli.app import app
from workers.scheduler import Schedule, clock

AGENT = "a0000000-0000-4000-8000-000000000000"
NUMBER = "+14155550100"


@pytest.fixture
def env(redis_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    monkeypatch.chdir(tmp_path)  # no stray .env file is read
    return {
        "DIALER_REDIS_URL": redis_url,
        "DIALER_AGENT_ID": None,
        "DIALER_FROM_NUMBER": None,
        "COLUMNS": "250",
    }


@pytest.fixture
def store(redis_url: str) -> Iterator[Store]:
    store = Store.from_url(redis_url)
    yield store
    store.redis.close()


@pytest.fixture
def contacts(tmp_path: Path) -> Path:
    path = tmp_path / "leads.csv"
    path.write_text("phone,name\n+14155550123,Ana\n")
    return path


def _add(env: dict[str, Any], contacts: Path, *extra: str) -> Any:
    args = ["schedule", "add", "daily", str(contacts), "--cron", "0 10 * * *"]
    agent = ["--agent-id", AGENT, "--from-number", NUMBER]
    return CliRunner().invoke(app, [*args, *agent, *extra], env=env)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--rate", "fast"], "rate 'fast' is not valid"),
        (["--window", "25:00-26:00"], "--window"),
        (["--days", "funday"], "--days"),
        (["--deadline", "tomorrowish"], "'tomorrowish' is not ISO 8601"),
        (["--max-attempts", "3", "--retry-delay", "soon"], "--retry-delay"),
        (["--retry-on", "busy"], "--retry-on"),
        (["--from-number", "12"], "--from-number"),
        (["--dnc", "missing.csv"], "no such file"),
        (["--results", "out/{nme}.csv"], "unknown placeholder {nme}; use {name}, {date}"),
        (["--cron", "0 25 * * *"], "--cron"),
        (["--tz", "Mars/Base"], "--tz"),
    ],
)
def test_add_refuses_a_bad_option_and_stores_nothing(
    env: dict[str, Any], contacts: Path, store: Store, extra: list[str], message: str
) -> None:
    result = _add(env, contacts, *extra)
    assert isinstance(result.exception, DialerError), result.output
    assert message in str(result.exception)
    assert store.schedules() == {}


def test_add_without_an_agent_anywhere_is_refused(
    env: dict[str, Any], contacts: Path, store: Store
) -> None:
    args = ["schedule", "add", "daily", str(contacts), "--cron", "0 10 * * *"]
    result = CliRunner().invoke(app, args, env=env)
    assert "no agent" in str(result.exception)
    assert store.schedules() == {}


def test_add_stores_the_job_stamped_with_when_it_was_added(
    env: dict[str, Any], contacts: Path, store: Store
) -> None:
    before = clock(store)
    result = _add(env, contacts, "--rate", "30/m")
    assert result.exit_code == 0, (result.output, result.exception)
    assert "Scheduled daily: 0 10 * * * (UTC); next run" in result.stdout
    job = Schedule.model_validate_json(store.schedules()["daily"])
    assert job.changed is not None and before <= job.changed <= clock(store)
    listed = CliRunner().invoke(app, ["schedule", "list"], env=env).stdout
    assert "daily" in listed and "No scheduler has run yet" in listed


def test_run_now_starts_the_campaign_and_says_so(
    env: dict[str, Any], contacts: Path, store: Store
) -> None:
    assert _add(env, contacts).exit_code == 0
    result = CliRunner().invoke(app, ["schedule", "run-now", "daily"], env=env)
    assert result.exit_code == 0, (result.output, result.exception)
    campaign = result.stdout.split()[1].rstrip(";")  # "Started daily-20261201-0959-now; ..."
    assert campaign.startswith("daily-") and campaign.endswith("-now")
    assert store.campaign_state(campaign) is CampaignState.RUNNING
    assert store.total(campaign) == 1


def test_run_now_says_why_it_did_not_start_and_list_shows_the_error(
    env: dict[str, Any], contacts: Path, store: Store, tmp_path: Path
) -> None:
    assert _add(env, contacts).exit_code == 0
    contacts.unlink()
    cli_env = {k: v for k, v in env.items() if v is not None}
    result = dialer_cli(["schedule", "run-now", "daily"], cli_env, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "did not start" in result.stderr and "no such file" in result.stderr
    assert not list(store.redis.scan_iter("dialer:camp:daily-*"))
    listed = dialer_cli(["schedule", "list"], cli_env, cwd=tmp_path).stdout
    error = store.last_errors()["daily"]
    assert error.at[:16].replace("T", " ") in listed and "no such file" in listed
