"""`dialer events secret|list|replay` as a user runs them, against a real redis-server."""

from __future__ import annotations

from pathlib import Path

import redis

from dialer.store.outbox import Outbox
from tests.support import campaign_args, dialer_cli


def test_the_secret_is_shown_once_and_never_lands_in_argv(redis_url: str, tmp_path: Path) -> None:
    env = {"DIALER_REDIS_URL": redis_url, "DIALER_STATE_DIR": str(tmp_path)}
    first = dialer_cli(["events", "secret"], env, tmp_path)
    assert first.returncode == 0, first.stderr
    secret = first.stdout.strip()
    assert secret.startswith("whsec_")
    again = dialer_cli(["events", "secret"], env, tmp_path)
    assert again.returncode != 0
    assert "already shown" in again.stderr and "whsec_" not in again.stdout + again.stderr
    assert "Traceback" not in again.stderr
    rotated = dialer_cli(["events", "secret", "--rotate"], env, tmp_path)
    assert rotated.stdout.strip().startswith("whsec_") and rotated.stdout.strip() != secret


def test_list_shows_the_events_and_replay_makes_them_due_again(
    redis_url: str, tmp_path: Path
) -> None:
    env = {"DIALER_REDIS_URL": redis_url, "DIALER_STATE_DIR": str(tmp_path)}
    outbox = Outbox(redis.Redis.from_url(redis_url, decode_responses=True))
    outbox.record("msg_a", "campaign.started", "camp1", "https://crm.example/h", "{}")
    outbox.record("msg_b", "contact.finished", "camp2", "https://crm.example/h", "{}")
    outbox.delivered("msg_a")
    listed = dialer_cli(["events", "list", "--campaign", "camp1"], env, tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "msg_a" in listed.stdout and "delivered" in listed.stdout
    assert "msg_b" not in listed.stdout
    resent = dialer_cli(["events", "replay", "msg_a", "msg_zz"], env, tmp_path)
    assert resent.returncode != 0, "an unknown id is named"
    assert "1 event(s) will be sent again" in resent.stdout and "msg_zz" in resent.stderr
    assert [e.status for e in outbox.recent(10, "camp1")] == ["pending"]


def test_a_run_given_a_plain_http_events_url_elsewhere_stops_before_anything(
    tmp_path: Path,
) -> None:
    (tmp_path / "c.csv").write_text("phone\n+14155550100\n")
    env = {"ONEINBOX_API_KEY": "oi_sk_test", "DIALER_STATE_DIR": str(tmp_path / "state")}
    args = campaign_args("run", "c.csv", "--events-url", "http://crm.example.com/hooks")
    done = dialer_cli(args, env, tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "--events-url" in done.stderr and "https" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_plain_http_events_url_elsewhere_in_the_environment_is_named(tmp_path: Path) -> None:
    env = {"DIALER_EVENTS_URL": "http://crm.example.com/hooks", "DIALER_STATE_DIR": str(tmp_path)}
    done = dialer_cli(["events", "list"], env, tmp_path)
    assert done.returncode != 0
    assert "DIALER_EVENTS_URL" in done.stderr and "Traceback" not in done.stderr
