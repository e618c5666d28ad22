"""Preflight: the usual mistakes are reported before anyone is dialled; the estimate is sane."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from campaigns.estimate import estimate
from dialer.campaign import CampaignConfig
from tests.support import dialer_cli, sim_get
from workers.embedded import free_port
from workers.simulator.config import DEFAULT_AGENT_ID, DEFAULT_API_KEY, DEFAULT_FROM_NUMBER
from workers.simulator.server import RunningSimulator

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
    est = estimate(
        _config(rate_per_s=1.0, max_concurrent=1000, window="08:00-21:00"), contacts, now
    )
    assert est.limited_by == "pace"
    assert est.last_dial is not None and abs((est.last_dial - now).total_seconds() - 3599) < 2
    assert est.rolled_over == 0


def test_estimate_rolls_contacts_over_to_the_next_day() -> None:
    now = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 20:00 in New York: one hour left
    contacts = [{"phone": f"+1212555{1000 + i}", "timezone": ""} for i in range(7200)]
    est = estimate(_config(rate_per_s=1.0, max_concurrent=1000), contacts, now)
    assert 3500 <= est.rolled_over <= 3700
    assert est.last_dial == datetime(2026, 12, 1, 13, 59, 59, tzinfo=UTC)  # 08:59 next morning


def test_a_rows_own_from_number_that_is_not_registered_fails_the_preflight(
    simulator: RunningSimulator, tmp: Path
) -> None:
    env = _setup(tmp, simulator)
    (tmp / "c.csv").write_text("phone,from_number\n+14155550111,+14155550199\n")
    done = dialer_cli(_args("check"), env, cwd=tmp)
    assert done.returncode == 1
    assert "+14155550199" in done.stdout and "not among your registered" in done.stdout


def test_the_preflight_reports_the_accounts_limits_list_and_gap(redis_url: str) -> None:
    from campaigns.model import Contact
    from dialer.account import AccountLimits, NumberRules
    from dialer.pace import Pace
    from dialer.store import Store
    from workers import session
    from workers.preflight import Level, check_account_rules

    store = Store.from_url(redis_url)
    first = CampaignConfig(
        campaign_id="first", agent_id="a", from_number="+14155550100", account="acme"
    )
    session.submit(store, first, [[Contact(1, "+14155550001", {})]])
    session.start(store, "first")
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
