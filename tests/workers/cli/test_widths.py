"""Without a terminal, every command writes whole lines: its output is the same whatever
`COLUMNS` says (tables become plain lines, nothing is wrapped or cut)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dialer.simulator.server import RunningSimulator
from tests.support import campaign_args, cli_env, dialer_cli

pytestmark = pytest.mark.integration

LONG = "Europe/Paris-and-a-very-long-note-that-would-wrap-at-forty-columns"
CONTACTS = (
    "phone,first_name,timezone,note\n"
    f"+14155550101,Ana,Europe/Paris,{LONG}\n"
    f"+14155550102,Ben,America/New_York,{LONG}\n"
    "not a phone,Dev,,x\n"
)
RESULTS = (
    "phone,source_row,phone_e164,status,attempts,call_status,duration_seconds,ended_at\n"
    "+14155550101,2,+14155550101,completed,1,completed,61,2026-12-01T10:00:00+00:00\n"
    "+14155550102,3,+14155550102,no_answer,2,no_answer,0,2026-12-01T10:05:00+00:00\n"
)


def _commands(tmp: Path) -> list[list[str]]:
    deep = tmp / ("a-folder-with-a-long-name-" * 3) / "out.results.csv"
    return [
        ["validate", "contacts.csv"],
        campaign_args("check", "contacts.csv", "--results", str(deep)),
        campaign_args("run", "contacts.csv", "--dry-run", "--results", str(deep)),
        ["limits", "show"],
        ["dnc", "check", "+14155550101"],
        ["dnc", "list"],
        ["schedule", "list"],
        ["status"],
        ["report", "results.csv", "--out", str(tmp / "report.html")],
    ]


def _same_moment(text: str) -> str:
    return re.sub(r"\d\d:\d\d:\d\d", "HH:MM:SS", text)


@pytest.mark.timeout(240)
def test_every_command_says_the_same_at_40_and_500_columns(
    simulator: RunningSimulator, redis_url: str, tmp: Path
) -> None:
    (tmp / "contacts.csv").write_text(CONTACTS, encoding="utf-8")
    (tmp / "results.csv").write_text(RESULTS, encoding="utf-8")
    env = cli_env(simulator, tmp, DIALER_REDIS_URL=redis_url)
    dialer_cli(["dnc", "add", "+14155550101", "--reason", LONG], env, cwd=tmp)
    for args in _commands(tmp):
        narrow = dialer_cli(args, {**env, "COLUMNS": "40"}, cwd=tmp)
        wide = dialer_cli(args, {**env, "COLUMNS": "500"}, cwd=tmp)
        said = narrow.stdout + narrow.stderr
        assert "Traceback" not in said, (args, said)
        assert narrow.returncode == wide.returncode, (args, said)
        assert _same_moment(narrow.stdout) == _same_moment(wide.stdout), args
        assert _same_moment(narrow.stderr) == _same_moment(wide.stderr), args
