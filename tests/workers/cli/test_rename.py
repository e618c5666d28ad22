"""`dialer run --rename`: the agent receives the new names, the results keep the headers."""

from __future__ import annotations

import csv
from pathlib import Path

import httpx
import pytest

from dialer.simulator.config import DEFAULT_API_KEY
from dialer.simulator.server import RunningSimulator
from tests.support import campaign_args, cli_env, dialer_cli, sim_get

pytestmark = pytest.mark.integration

CONTACTS = "Phone,First Name,Company\n+14155550101,Ana,Acme\n+14155550102,Ben,Initech\n"


@pytest.mark.timeout(120)
def test_a_run_sends_the_variables_under_their_new_names(
    simulator: RunningSimulator, tmp: Path
) -> None:
    (tmp / "contacts.csv").write_text(CONTACTS, encoding="utf-8")
    args = campaign_args("run", "contacts.csv", "--rate", "20/s", "--rename", "first name=name")
    done = dialer_cli([*args, "--rename", "Company=company"], cli_env(simulator, tmp), cwd=tmp)
    assert done.returncode == 0, done.stdout + done.stderr
    with (tmp / "contacts.results.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["First Name"] for r in rows] == ["Ana", "Ben"], "the results keep the headers"
    key = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
    sent = [
        httpx.get(f"{simulator.url}/v1/calls/{r['call_id']}", headers=key).json()["variables"]
        for r in rows
    ]
    assert sent == [{"name": "Ana", "company": "Acme"}, {"name": "Ben", "company": "Initech"}]


def test_a_rename_to_a_name_taken_refuses_the_run_naming_both(
    simulator: RunningSimulator, tmp: Path
) -> None:
    (tmp / "contacts.csv").write_text(CONTACTS, encoding="utf-8")
    args = campaign_args("run", "contacts.csv", "--rename", "First Name=Company")
    done = dialer_cli(args, cli_env(simulator, tmp), cwd=tmp)
    assert done.returncode == 2, done.stdout + done.stderr
    said = done.stdout + done.stderr
    assert "--rename: 'First Name' and 'Company' would both reach the agent as 'Company'" in said
    assert "Traceback" not in said
    assert sim_get(simulator.url, "creates") == []
