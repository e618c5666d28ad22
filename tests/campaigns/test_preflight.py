"""Preflight: the usual mistakes are reported before anyone is dialled; the estimate is sane."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from campaigns.estimate import estimate, zones_of
from dialer.campaign import CampaignConfig
from dialer.simulator.config import DEFAULT_AGENT_ID, DEFAULT_API_KEY, DEFAULT_FROM_NUMBER
from dialer.simulator.server import RunningSimulator
from tests.support import dialer_cli, sim_get
from workers.processes import free_port

pytestmark = pytest.mark.timeout(60)
UNKNOWN_AGENT = "11111111-2222-4333-8444-555555555555"


def _setup(tmp: Path, sim: RunningSimulator, **env: str) -> dict[str, str]:
    (tmp / "c.csv").write_text("phone,name\n+14155550111,A\n+14155550112,B\n+14155550113,C\n")
    return {
        "ONEINBOX_API_KEY": DEFAULT_API_KEY,
        "ONEINBOX_BASE_URL": sim.url,
        "DIALER_STATE_DIR": str(tmp / "state"),
        **env,
    }


def _args(command: str, agent: str = DEFAULT_AGENT_ID, *extra: str) -> list[str]:
    return [
        command,
        "c.csv",
        "--agent-id",
        agent,
        "--from-number",
        DEFAULT_FROM_NUMBER,
        "--window",
        "always",
        *extra,
    ]


def test_a_bad_key_stops_run_before_anyone_is_dialled(
    simulator: RunningSimulator, tmp: Path
) -> None:
    env = _setup(tmp, simulator, ONEINBOX_API_KEY="oi_sk_wrong_key")
    done = dialer_cli(_args("run"), env, cwd=tmp)
    assert done.returncode == 3
    assert "api_key" in done.stdout and "dashboard" in done.stdout
    assert "oi_sk_wrong_key" not in done.stdout + done.stderr
    assert sim_get(simulator.url, "creates") == []


def test_an_unknown_agent_stops_run_before_anyone_is_dialled(
    simulator: RunningSimulator, tmp: Path
) -> None:
    done = dialer_cli(_args("run", UNKNOWN_AGENT), _setup(tmp, simulator), cwd=tmp)
    assert done.returncode == 3
    assert "no agent" in done.stdout and "re-copy the agent_id" in done.stdout
    assert sim_get(simulator.url, "creates") == []


def test_a_quota_smaller_than_the_campaign_is_announced_with_numbers(
    simulator: RunningSimulator, tmp: Path
) -> None:
    httpx.patch(f"{simulator.url}/_sim/config", json={"max_calls_per_day": 2}).raise_for_status()
    done = dialer_cli(_args("check"), _setup(tmp, simulator), cwd=tmp)
    assert done.returncode == 0, done.stdout
    assert "2 calls left today" in done.stdout and "3 contacts" in done.stdout
    assert sim_get(simulator.url, "creates") == []


def test_redis_down_is_reported_clearly(simulator: RunningSimulator, tmp: Path) -> None:
    env = _setup(tmp, simulator, DIALER_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    done = dialer_cli(_args("check"), env, cwd=tmp)
    assert done.returncode == 1
    assert "Redis is not reachable" in done.stdout
    assert "Traceback" not in done.stderr


def test_dry_run_checks_and_dials_nobody(simulator: RunningSimulator, tmp: Path) -> None:
    done = dialer_cli(_args("run", DEFAULT_AGENT_ID, "--dry-run"), _setup(tmp, simulator), cwd=tmp)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Preflight" in done.stdout and "Dry run" in done.stdout
    assert sim_get(simulator.url, "creates") == []


def _config(**kw: object) -> CampaignConfig:
    return CampaignConfig.model_validate(
        {"campaign_id": "e", "agent_id": "a", "from_number": "+14155550100", **kw}
    )


def test_estimate_at_the_pace_within_the_window() -> None:
    now = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 10:00 in New York
    contacts = [{"phone": f"+1212555{1000 + i}", "timezone": ""} for i in range(3600)]
    config = _config(rate_per_s=1.0, max_concurrent=1000, window="08:00-21:00")
    est = estimate(config, zones_of(config, contacts), now)
    assert est.limited_by == "pace"
    assert est.last_dial is not None and abs((est.last_dial - now).total_seconds() - 3599) < 2
    assert est.rolled_over == 0


def test_estimate_rolls_contacts_over_to_the_next_day() -> None:
    now = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 20:00 in New York: one hour left
    contacts = [{"phone": f"+1212555{1000 + i}", "timezone": ""} for i in range(7200)]
    config = _config(rate_per_s=1.0, max_concurrent=1000)
    est = estimate(config, zones_of(config, contacts), now)
    assert 3500 <= est.rolled_over <= 3700
    assert est.last_dial == datetime(2026, 12, 1, 13, 59, 59, tzinfo=UTC)  # 08:59 next morning


def test_a_rows_own_agent_or_from_number_that_is_unknown_rejects_that_row_only(
    simulator: RunningSimulator, tmp: Path
) -> None:
    env = _setup(tmp, simulator)
    (tmp / "c.csv").write_text(
        "phone,from_number,agent_id\n"
        "+14155550111,+14155550199,\n"  # a from-number the account does not have
        f"+14155550112,,{UNKNOWN_AGENT}\n"  # no such agent (404)
        "+14155550113,,agent-typo\n"  # not even an agent id (422)
        f"+14155550114,{DEFAULT_FROM_NUMBER},{DEFAULT_AGENT_ID}\n"
        "+14155550115,,\n"
    )
    done = dialer_cli(_args("run", DEFAULT_AGENT_ID, "--rate", "20/s"), env, cwd=tmp)
    assert done.returncode == 0, done.stdout + done.stderr
    creates = sim_get(simulator.url, "creates")
    assert isinstance(creates, list)
    assert sorted(c["to_number"] for c in creates) == ["+14155550114", "+14155550115"]
    with (tmp / "c.rejects.csv").open(encoding="utf-8-sig", newline="") as handle:
        rejects = {r["source_row"]: r for r in csv.DictReader(handle)}
    assert rejects["2"]["reason"] == "unregistered_from_number"
    assert "+14155550199" in rejects["2"]["detail"]
    assert rejects["3"]["reason"] == rejects["4"]["reason"] == "unknown_agent"
    assert "agent-typo" in rejects["4"]["detail"]
    assert "unregistered_from_number 1" in done.stdout and "unknown_agent 2" in done.stdout


def test_a_mistyped_campaign_agent_is_a_failed_check_and_nobody_is_dialled(
    simulator: RunningSimulator, tmp: Path
) -> None:
    done = dialer_cli(_args("run", "agent-typo"), _setup(tmp, simulator), cwd=tmp)
    assert done.returncode == 3, done.stdout + done.stderr
    # One line for the check, however long (no terminal: nothing is hard-wrapped).
    (line,) = [line for line in done.stdout.splitlines() if "no agent agent-typo" in line]
    assert line.startswith("Preflight agent: fail:") and "dialer agents list" in line
    assert sim_get(simulator.url, "creates") == []


@pytest.mark.parametrize(
    ("flag", "path", "says"),
    [
        ("--results", "c.csv/out.csv", "c.csv is a file, not a folder"),
        ("--rejects", "c.csv/rejects.csv", "c.csv is a file, not a folder"),
        ("--results", ".", "is a folder"),
    ],
)
def test_an_output_that_cannot_be_written_stops_the_run_before_anyone_is_dialled(
    simulator: RunningSimulator, tmp: Path, flag: str, path: str, says: str
) -> None:
    done = dialer_cli(_args("run", DEFAULT_AGENT_ID, flag, path), _setup(tmp, simulator), cwd=tmp)
    assert done.returncode == 3, done.stdout + done.stderr
    assert says in done.stdout and "Preflight failed" in done.stdout
    assert "Traceback" not in done.stderr
    assert sim_get(simulator.url, "creates") == []


def test_a_past_deadline_is_refused(simulator: RunningSimulator, tmp: Path) -> None:
    past = "2020-01-01T09:00Z"
    done = dialer_cli(
        _args("run", DEFAULT_AGENT_ID, "--deadline", past), _setup(tmp, simulator), cwd=tmp
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "--deadline 2020-01-01T09:00Z has passed" in done.stdout + done.stderr
    assert sim_get(simulator.url, "creates") == []


def test_check_exits_3_like_run_when_the_file_has_nothing_to_dial(
    simulator: RunningSimulator, tmp: Path
) -> None:
    env = _setup(tmp, simulator)
    (tmp / "c.csv").write_text("phone,name\nnot a phone,A\n")
    done = dialer_cli(_args("check"), env, cwd=tmp)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "0 contacts to dial, 1 rejected" in done.stdout
    dry = dialer_cli(_args("run", DEFAULT_AGENT_ID, "--dry-run"), env, cwd=tmp)
    assert dry.returncode == 3, dry.stdout + dry.stderr
    assert "there is no contact to dial" in dry.stdout and "deadline" not in dry.stdout


def test_dry_run_shows_the_files_counts_and_says_nothing_of_a_deadline_not_set(
    simulator: RunningSimulator, tmp: Path
) -> None:
    env = _setup(tmp, simulator)
    (tmp / "c.csv").write_text("phone\n+14155550111\n+14155550111\nnope\n")
    done = dialer_cli(_args("run", DEFAULT_AGENT_ID, "--dry-run"), env, cwd=tmp)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 contacts to dial, 2 rejected" in done.stdout
    assert "duplicate 1" in done.stdout and "not_a_number 1" in done.stdout
    assert "deadline" not in done.stdout
    assert sim_get(simulator.url, "creates") == []


def test_the_preflight_reports_the_accounts_limits_list_and_gap(redis_url: str) -> None:
    from campaigns import lifecycle
    from campaigns.checks import Level, check_account_rules
    from campaigns.model import Contact
    from dialer.account import AccountLimits, NumberRules
    from dialer.pace import Pace
    from dialer.store import Store

    store = Store.from_url(redis_url)
    first = CampaignConfig(
        campaign_id="first", agent_id="a", from_number="+14155550100", account="acme"
    )
    lifecycle.submit(store, first, [[Contact(1, "+14155550001", {})]])
    lifecycle.start(store, "first")
    store.claim(
        "first", 1, pace=Pace(interval_s=1e-6), max_concurrent=5, lease_s=60, stuck_s=30,
        number="+14155550001", rules=NumberRules(min_gap_s=1800),
    )  # fmt: skip
    store.dnc_add("acme", ["+14155550002", "+14155550009"])
    store.set_limits("acme", AccountLimits(rate_per_s=5, max_concurrent=20))
    second = first.model_copy(update={"campaign_id": "second"})
    phones = ["+14155550001", "+14155550002", "+14155550003"]
    account, dnc, gap = check_account_rules(store, second, phones, AccountLimits())
    assert "5/s, 20 at once" in account.detail and "shared with 1 other" in account.detail
    assert dnc.level is Level.WARN
    assert "2 numbers on the list; 1 of these contacts are on it" in dnc.detail
    assert gap.level is Level.WARN and "1 contacts called by another campaign" in gap.detail
    off = second.model_copy(update={"min_gap_s": 0})
    assert check_account_rules(store, off, phones, AccountLimits())[2].level is Level.OK
