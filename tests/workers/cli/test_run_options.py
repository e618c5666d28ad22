"""The run options, declared once: the same names and defaults on every command that takes them,
in the stored campaign config, and in schedules stored by `schedule add` (old ones included)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from campaigns.planning import campaign_config
from dialer.campaign import CampaignConfig
from dialer.run_options import RunOptions
from dialer.settings import Settings
from dialer.store import Store
from tests.support import campaign_args, dialer_cli
from workers.cli import app
from workers.scheduler import Schedule, load

DATA = Path(__file__).resolve().parents[2] / "data"
AGENT = "a0000000-0000-4000-8000-000000000000"

# What users type and what schedules store: a rename or a new default is a change for both.
OPTIONS: dict[str, object] = {
    "agent_id": None,
    "from_number": None,
    "webhook_url": None,
    "events_url": None,
    "phone_column": None,
    "default_region": "US",
    "dnc": None,
    "opt_out_outcome": None,
    "variables": None,
    "rename": None,
    "allow_types": None,
    "sheet": None,
    "country_column": None,
    "fallback_columns": None,
    "rate": "1/s",
    "max_concurrent": 10,
    "window": "08:00-21:00",
    "days": "mon-sun",
    "rules": None,
    "min_gap": "30m",
    "start_at": None,
    "deadline": None,
    "tz": None,
    "max_attempts": 1,
    "retry_on": "no_answer,failed",
    "retry_delay": "30m",
    "max_cost": None,
    "pause_on_failures": "30/50",
    "bom": True,
}


def _params(path: str) -> dict[str, Any]:
    command: Any = get_command(app)
    for name in path.split():
        command = command.commands[name]
    return {p.name: p for p in command.params}


def test_the_run_options_keep_their_names_and_defaults() -> None:
    assert RunOptions().model_dump() == OPTIONS


@pytest.mark.parametrize("command", ["run", "retry", "check", "schedule add"])
def test_every_command_that_runs_a_campaign_takes_every_run_option(command: str) -> None:
    params = _params(command)
    for name, default in OPTIONS.items():
        if command == "schedule add" and name == "tz":
            continue  # its own --tz: the zone of --cron, default UTC
        option = params[name]
        assert option.opts == [f"--{name.replace('_', '-')}"]
        assert option.default == default and option.help, name


def test_validate_takes_the_contact_options_only() -> None:
    params = _params("validate")
    assert {"phone_column", "default_region", "dnc", "sheet", "rejects"} <= set(params)
    assert "rate" not in params and "window" not in params


def test_a_default_run_stores_the_config_defaults() -> None:
    """A campaign started with no option given is configured as CampaignConfig's defaults."""
    opts = RunOptions(agent_id=AGENT, from_number="+14155550100")
    settings = Settings()
    made = campaign_config(
        opts, settings, "c", columns=(), variable_columns=(), source=Path("c.csv")
    )
    assert made == CampaignConfig(
        campaign_id="c",
        agent_id=AGENT,
        from_number="+14155550100",
        source=str(Path("c.csv").resolve()),  # a list is known by its resolved path
        account=settings.account_name(),  # the account it dials on is always named
    )


def test_a_schedule_stored_by_the_previous_version_still_loads() -> None:
    job = Schedule.model_validate_json((DATA / "schedule_stored.json").read_text())
    stored = json.loads((DATA / "schedule_stored.json").read_text())["run"]
    added_since = {
        "opt_out_outcome": None,
        "min_gap": "30m",
        "max_cost": None,
        "pause_on_failures": "30/50",
        "country_column": None,
        "fallback_columns": None,
        "bom": True,
        "events_url": None,
        "rename": None,
    }  # options added later take their defaults
    assert RunOptions.model_validate(job.run).model_dump() == stored | added_since


def test_schedule_add_stores_the_options_given(redis_url: str, tmp_path: Path) -> None:
    contacts = tmp_path / "leads.csv"
    contacts.write_text("phone\n+14155550123\n")
    (tmp_path / "dnc.txt").write_text("+14155550199\n")
    args = ["schedule", "add", "leads", str(contacts), "--cron", "0 10 * * mon-fri"]
    args += ["--tz", "Europe/Paris", "--agent-id", AGENT, "--rate", "30/m", "--days", "mon-fri"]
    args += ["--max-attempts", "3", "--dnc", "dnc.txt", "--deadline", "18:00"]
    args += ["--from-number", "+14155550100"]  # checked at add, as a run checks it
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)  # --dnc given relative: stored absolute, read when the job fires
        result = CliRunner().invoke(app, args, env={"DIALER_REDIS_URL": redis_url})
    assert result.exit_code == 0, result.output
    job = load(Store.from_url(redis_url))["leads"]
    assert job.tz == "Europe/Paris"
    assert RunOptions.model_validate(job.run) == RunOptions(
        agent_id=AGENT,
        from_number="+14155550100",
        rate="30/m",
        days="mon-fri",
        max_attempts=3,
        dnc=str(tmp_path / "dnc.txt"),
        deadline="18:00",
        tz="Europe/Paris",
    )


@pytest.mark.parametrize(
    ("option", "value"),
    [("--max-concurrent", str(2**64)), ("--max-attempts", "1000"), ("--rate", "5000/s"),
     ("--rate", "0.01/h"), ("--retry-delay", "9" * 30 + "d"), ("--min-gap", "9" * 5000 + "s"),
     ("--start-at", "9999-12-31T23:59-05:00"), ("--deadline", "0001-01-01T00:00+05:00")],
)  # fmt: skip
def test_an_absurd_value_is_refused_naming_its_option(
    tmp_path: Path, option: str, value: str
) -> None:
    (tmp_path / "c.csv").write_text("phone\n+14155550100\n")
    env = {"ONEINBOX_API_KEY": "oi_sk_test", "DIALER_STATE_DIR": str(tmp_path / "state")}
    done = dialer_cli(campaign_args("run", "c.csv", option, value), env, tmp_path, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("error: ") and option.lstrip("-") in done.stderr.split(":")[1]
    assert "Traceback" not in done.stderr
    assert len(done.stderr) < 400, "the message echoes the whole value"
