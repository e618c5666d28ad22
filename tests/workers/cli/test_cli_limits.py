"""`dialer limits set|show|clear` as a user runs them, against a real redis-server; and what
`dialer status` says while a campaign waits for its account."""

from __future__ import annotations

import threading
from pathlib import Path

import redis

from campaigns import lifecycle
from campaigns.model import Contact
from dialer.account import AccountLimits, fingerprint
from dialer.campaign import CampaignConfig
from dialer.pace import Pace
from dialer.store import Store
from tests.support import dialer_cli

KEY = "oi_sk_limits_test_key"


def _env(redis_url: str, **extra: str) -> dict[str, str]:
    return {"DIALER_REDIS_URL": redis_url, "ONEINBOX_API_KEY": KEY, **extra}


def test_limits_are_set_kept_shown_and_cleared_per_account(redis_url: str, tmp_path: Path) -> None:
    store = Store(redis.Redis.from_url(redis_url, decode_responses=True))
    account = fingerprint(KEY)
    env = _env(redis_url)
    done = dialer_cli(["limits", "set", "--rate", "5/s"], env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"Account {account}: 5/s" in done.stdout and KEY not in done.stdout
    dialer_cli(["limits", "set", "--max-concurrent", "20"], env, cwd=tmp_path)
    assert store.limits(account) == AccountLimits(5.0, 20)  # the rate set before is kept
    shown = dialer_cli(["limits", "show"], env | {"DIALER_ACCOUNT_RATE": "2/s"}, cwd=tmp_path)
    assert "5/s, 20 at once" in shown.stdout and "2/s" in shown.stdout
    named = _env(redis_url, DIALER_ACCOUNT="acme")
    dialer_cli(["limits", "set", "--rate", "1/s"], named, cwd=tmp_path)
    assert store.limits("acme") == AccountLimits(1.0, None)
    assert store.limits(account) == AccountLimits(5.0, 20)  # another account's are untouched
    dialer_cli(["limits", "clear"], env, cwd=tmp_path)
    assert store.limits(account) == AccountLimits()


def test_limits_set_without_a_limit_says_what_to_give(redis_url: str, tmp_path: Path) -> None:
    done = dialer_cli(["limits", "set"], _env(redis_url), cwd=tmp_path)
    assert done.returncode != 0 and "--rate" in done.stderr
    bad = dialer_cli(["limits", "set", "--rate", "fast"], _env(redis_url), cwd=tmp_path)
    assert bad.returncode != 0 and "1/s" in bad.stdout + bad.stderr
    assert "Traceback" not in bad.stdout + bad.stderr


def test_status_says_the_campaign_waits_for_its_account(redis_url: str, tmp_path: Path) -> None:
    store = Store(redis.Redis.from_url(redis_url, decode_responses=True))
    for cid in ("first", "second"):
        config = CampaignConfig(
            campaign_id=cid,
            agent_id="a",
            from_number="+14155550100",
            account="acme",
            window="always",
        )
        lifecycle.submit(
            store, config, [[Contact(1, "+14155550001", {}), Contact(2, "+14155550002", {})]]
        )
        lifecycle.start(store, cid)
    store.set_limits("acme", AccountLimits(max_concurrent=1))
    claim = dict(pace=Pace(interval_s=1e-6), max_concurrent=5, lease_s=60, stuck_s=30)
    assert store.claim("first", 1, **claim).won  # type: ignore[arg-type]
    assert store.claim("second", 1, **claim).reason == "account_busy"  # type: ignore[arg-type]
    # A campaign waits for its account while its claims keep being refused (a refusal older
    # than 3 s is no wait any more): keep refusing, as its worker would, while `status` starts
    # (seconds on a busy machine).
    stop = threading.Event()

    def keep_refused() -> None:
        while not stop.wait(0.5):
            assert store.claim("second", 1, **claim).reason == "account_busy"  # type: ignore[arg-type]

    refusing = threading.Thread(target=keep_refused, daemon=True)
    refusing.start()
    try:
        shown = dialer_cli(["status", "second"], _env(redis_url, COLUMNS="200"), cwd=tmp_path)
    finally:
        stop.set()
        refusing.join()
    assert "waits for account acme's calls at once limit (1 at once)" in shown.stdout, shown.stdout
    assert "shared with first" in shown.stdout
