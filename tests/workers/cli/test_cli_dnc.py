"""`dialer dnc add|import|remove|list|check` as a user runs them, against a real redis-server,
and a list loaded afterwards: its listed numbers are rejected with reason `dnc`."""

from __future__ import annotations

import csv
from pathlib import Path

import redis

from dialer.simulator.server import RunningSimulator
from dialer.store import Store
from tests.support import campaign_args, cli_env, dialer_cli


def _env(redis_url: str) -> dict[str, str]:
    return {"DIALER_REDIS_URL": redis_url, "DIALER_ACCOUNT": "acme", "COLUMNS": "200"}


def test_numbers_are_listed_normalised_with_when_and_why(redis_url: str, tmp_path: Path) -> None:
    env = _env(redis_url)
    added = dialer_cli(
        ["dnc", "add", "(415) 555-0101", "+1 415 555 0102", "--reason", "asked"], env, tmp_path
    )
    assert added.returncode == 0, added.stderr
    assert "2 added" in added.stdout
    (tmp_path / "dnc.csv").write_text("phone\n415-555-0103\n+14155550101\n")
    imported = dialer_cli(["dnc", "import", "dnc.csv"], env, tmp_path)
    assert "1 added" in imported.stdout and "1 already on it" in imported.stdout
    listed = dialer_cli(["dnc", "list"], env, tmp_path).stdout
    assert "+14155550101" in listed and "asked" in listed and "import dnc.csv" in listed
    assert "3 numbers" in listed
    checked = dialer_cli(["dnc", "check", "415.555.0102"], env, tmp_path).stdout
    assert "+14155550102 is on the do-not-call list since" in checked and "asked" in checked
    removed = dialer_cli(["dnc", "remove", "4155550102"], env, tmp_path)
    assert "1 removed" in removed.stdout
    assert (
        "not on the do-not-call list"
        in dialer_cli(["dnc", "check", "4155550102"], env, tmp_path).stdout
    )


def test_a_number_that_cannot_be_read_is_named_and_nothing_is_added(
    redis_url: str, tmp_path: Path
) -> None:
    done = dialer_cli(["dnc", "add", "+14155550101", "12"], _env(redis_url), tmp_path)
    assert done.returncode != 0
    assert "'12'" in done.stdout + done.stderr and "Traceback" not in done.stdout + done.stderr
    store = Store(redis.Redis.from_url(redis_url, decode_responses=True))
    assert store.dnc_size("acme") == 0


def test_a_list_loaded_later_rejects_listed_numbers_with_reason_dnc(
    redis_url: str, sim: RunningSimulator, tmp_path: Path
) -> None:
    env = cli_env(sim, tmp_path, DIALER_REDIS_URL=redis_url, DIALER_ACCOUNT="acme")
    dialer_cli(["dnc", "add", "+14155550102"], env, tmp_path)
    (tmp_path / "leads.csv").write_text("phone\n+14155550101\n+14155550102\n")
    run = dialer_cli(campaign_args("run", "leads.csv", "--detach"), env, tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    with (tmp_path / "leads.rejects.csv").open(encoding="utf-8-sig") as handle:
        rejects = list(csv.DictReader(handle))
    assert [(r["phone"], r["reason"]) for r in rejects] == [("+14155550102", "dnc")]
