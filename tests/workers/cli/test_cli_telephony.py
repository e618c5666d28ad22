"""`dialer setup|numbers|agents` against the simulator over real HTTP."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from dialer.errors import AuthError, ConfigError, InputError, NotFound, Permanent
from dialer.http import AGENT_HINT, AUTH_HINT, NUMBER_HINT
from dialer.simulator import DEFAULT_AGENT_ID, DEFAULT_API_KEY, SimulatorConfig
from dialer.simulator.config import DEFAULT_AGENT_NAME, DEFAULT_FROM_NUMBER
from dialer.simulator.server import RunningSimulator, start_in_thread
from workers import cli
from workers.cli.app import app

CARRIER_KEY = "AC-carrier-secret-7f3a9b21"
SIP_PASSWORD = "sip-pass-d41d8cd98f"


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[RunningSimulator]:
    monkeypatch.chdir(tmp_path)  # no stray .env file is read
    with start_in_thread(SimulatorConfig(speed=100.0)) as running:
        yield running


def env_for(sim: RunningSimulator, **extra: str | None) -> dict[str, str | None]:
    env: dict[str, str | None] = {
        "ONEINBOX_BASE_URL": sim.url,
        "ONEINBOX_API_KEY": DEFAULT_API_KEY,
        "COLUMNS": "200",
        "DIALER_CARRIER_API_KEY": None,
        "DIALER_SIP_PASSWORD": None,
    }
    env.update(extra)
    return env


def invoke(
    sim: RunningSimulator, args: list[str], input: str | None = None, **env: str | None
) -> Any:
    return CliRunner().invoke(app, args, env=env_for(sim, **env), input=input)


def ok_json(
    sim: RunningSimulator, args: list[str], input: str | None = None, **env: str | None
) -> Any:
    result = invoke(sim, [*args, "--json"], input=input, **env)
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


def flat(text: str) -> str:
    return " ".join(text.split())


# -- agents --------------------------------------------------------------------------------


def test_agents_list_table_and_json(sim: RunningSimulator) -> None:
    result = invoke(sim, ["agents", "list"])
    assert result.exit_code == 0, result.output
    assert DEFAULT_AGENT_ID in result.stdout
    assert DEFAULT_AGENT_NAME in result.stdout
    agents = ok_json(sim, ["agents", "list"])
    assert [a["id"] for a in agents] == [DEFAULT_AGENT_ID]


def test_agents_list_walks_every_page(sim: RunningSimulator) -> None:
    for n in range(120):
        sim.state.agents[f"agent-{n:03d}"] = {
            **sim.state.agents[DEFAULT_AGENT_ID],
            "id": f"agent-{n:03d}",
        }
    assert len(ok_json(sim, ["agents", "list"])) == 121


def test_agents_show(sim: RunningSimulator) -> None:
    agent = ok_json(sim, ["agents", "show", DEFAULT_AGENT_ID])
    assert agent["id"] == DEFAULT_AGENT_ID
    assert agent["effective_system_prompt"] == ""  # undocumented-by-model fields are kept
    result = invoke(sim, ["agents", "show", DEFAULT_AGENT_ID])
    assert DEFAULT_AGENT_NAME in result.stdout
    assert "max_duration_seconds" in result.stdout


def test_agent_text_is_not_read_as_markup(sim: RunningSimulator) -> None:
    sim.state.agents[DEFAULT_AGENT_ID]["name"] = "[bold]Sales[/] [/oops]"
    result = invoke(sim, ["agents", "list"])
    assert result.exit_code == 0, result.exception
    assert "[bold]Sales[/] [/oops]" in result.stdout


def test_unknown_agent_is_404_with_hint(sim: RunningSimulator) -> None:
    result = invoke(sim, ["agents", "show", str(uuid.uuid4())])
    assert isinstance(result.exception, NotFound)
    assert AGENT_HINT in str(result.exception)


# -- auth --------------------------------------------------------------------------------------


def test_bad_key_is_401_with_dashboard_hint(sim: RunningSimulator) -> None:
    result = invoke(sim, ["numbers", "list"], ONEINBOX_API_KEY="oi_sk_wrong_key_123")
    assert isinstance(result.exception, AuthError)
    assert result.exception.status_code == 401
    assert AUTH_HINT in str(result.exception)
    assert "oi_sk_wrong_key_123" not in str(result.exception) + result.output


def test_missing_key_fails_before_any_prompt(sim: RunningSimulator) -> None:
    result = invoke(
        sim, ["setup", "credentials", "--name", "x", "--provider", "twilio"], ONEINBOX_API_KEY=None
    )
    assert isinstance(result.exception, ConfigError)
    assert "ONEINBOX_API_KEY" in str(result.exception)
    assert "Carrier API key" not in result.output


def test_errors_reach_the_user_as_error_lines_and_exit_2(
    sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ONEINBOX_BASE_URL", sim.url)
    monkeypatch.setenv("ONEINBOX_API_KEY", "oi_sk_wrong_key_123")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(sys, "argv", ["dialer", "agents", "list"])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == cli.EXIT_USER_ERROR
    err = flat(capsys.readouterr().err)
    # after the one warning that the key goes to the simulator, not to OneInbox
    assert err.split("error: ", 1)[1].startswith("GET /v1/agents answered HTTP 401")
    assert AUTH_HINT in err


# -- setup credentials -------------------------------------------------------------------------


def test_credentials_from_env_never_printed(sim: RunningSimulator) -> None:
    args = ["setup", "credentials", "--name", "twilio-prod", "--provider", "twilio"]
    result = invoke(sim, args, DIALER_CARRIER_API_KEY=CARRIER_KEY)
    assert result.exit_code == 0, result.output
    assert "twilio-prod" in result.stdout
    assert CARRIER_KEY not in result.output
    (stored,) = sim.state.credentials.values()
    assert stored["provider"] == "twilio"
    assert stored["masked_key"] == f"{CARRIER_KEY[:3]}...{CARRIER_KEY[-4:]}"  # the key was sent


def test_credentials_from_hidden_prompt(sim: RunningSimulator) -> None:
    args = ["setup", "credentials", "--name", "tw", "--provider", "twilio"]
    created = ok_json(sim, args, input=f"{CARRIER_KEY}\n")
    assert created["name"] == "tw"
    assert CARRIER_KEY not in json.dumps(created)
    result = invoke(sim, args, input=f"{CARRIER_KEY}\n")
    assert "Carrier API key (input hidden; or set DIALER_CARRIER_API_KEY)" in result.output
    assert CARRIER_KEY not in result.output


def test_credentials_empty_prompt_is_refused(sim: RunningSimulator) -> None:
    args = ["setup", "credentials", "--name", "tw", "--provider", "twilio"]
    result = invoke(sim, args, input=" \n")
    assert isinstance(result.exception, InputError)
    assert not sim.state.credentials


def test_credentials_key_is_not_an_option(sim: RunningSimulator) -> None:
    args = ["setup", "credentials", "--name", "tw", "--provider", "twilio", "--api-key", "x"]
    result = invoke(sim, args, DIALER_CARRIER_API_KEY=CARRIER_KEY)
    assert result.exit_code == 2
    assert not sim.state.credentials


def test_telnyx_credential_is_refused_by_the_documented_enum(sim: RunningSimulator) -> None:
    # The credentials enum lists twilio but not telnyx; the provider's refusal is shown as is.
    args = ["setup", "credentials", "--name", "tx", "--provider", "telnyx"]
    result = invoke(sim, args, DIALER_CARRIER_API_KEY=CARRIER_KEY)
    assert isinstance(result.exception, Permanent)
    assert result.exception.status_code == 422
    assert CARRIER_KEY not in str(result.exception) + result.output


# -- numbers -----------------------------------------------------------------------------------


def test_numbers_search_filters(sim: RunningSimulator) -> None:
    args = [
        "numbers",
        "search",
        "--country",
        "us",
        "--area-code",
        "212",
        "--contains",
        "0042",
        "--limit",
        "3",
    ]
    found = ok_json(sim, args)
    assert 1 <= len(found) <= 3
    assert all(n["phone_number"].startswith("+1212") and "0042" in n["phone_number"] for n in found)
    result = invoke(sim, ["numbers", "search", "--limit", "2"])
    assert "Available numbers" in result.stdout
    assert "+1415555" in result.stdout


def test_numbers_search_with_unknown_credential(sim: RunningSimulator) -> None:
    result = invoke(sim, ["numbers", "search", "--credential-id", str(uuid.uuid4())])
    assert isinstance(result.exception, NotFound)


def test_numbers_search_limit_is_bounded(sim: RunningSimulator) -> None:
    assert invoke(sim, ["numbers", "search", "--limit", "101"]).exit_code == 2


def _credential(sim: RunningSimulator) -> str:
    args = ["setup", "credentials", "--name", "tw", "--provider", "twilio"]
    return str(ok_json(sim, args, DIALER_CARRIER_API_KEY=CARRIER_KEY)["id"])


def test_register_with_credential_then_list(sim: RunningSimulator) -> None:
    cred = _credential(sim)
    args = [
        "numbers",
        "register",
        "+1 (212) 555-0199",
        "--agent-id",
        DEFAULT_AGENT_ID,
        "--provider",
        "twilio",
        "--credential-id",
        cred,
        "--friendly-name",
        "NY line",
    ]
    registered = ok_json(sim, args)
    assert registered["phone_number"] == "+12125550199"
    assert registered["friendly_name"] == "NY line"
    listed = ok_json(sim, ["numbers", "list"])
    assert {n["phone_number"] for n in listed} >= {"+12125550199"}
    result = invoke(sim, ["numbers", "list"])
    assert "+12125550199" in result.stdout


def test_register_with_sip_trunk_password_from_env(sim: RunningSimulator) -> None:
    args = [
        "numbers",
        "register",
        "+12125550177",
        "--agent-id",
        DEFAULT_AGENT_ID,
        "--provider",
        "telnyx",
        "--trunk-address",
        "sip.example.com",
        "--sip-username",
        "u1",
    ]
    result = invoke(sim, args, DIALER_SIP_PASSWORD=SIP_PASSWORD)
    assert result.exit_code == 0, (result.output, result.exception)
    assert "Number registered" in result.stdout
    assert SIP_PASSWORD not in result.output
    assert sim.state.numbers["+12125550177"]["provider"] == "telnyx"


def test_register_with_sip_trunk_password_prompt(sim: RunningSimulator) -> None:
    args = [
        "numbers",
        "register",
        "+12125550178",
        "--agent-id",
        DEFAULT_AGENT_ID,
        "--provider",
        "twilio",
        "--trunk-address",
        "sip.example.com",
        "--sip-username",
        "u1",
    ]
    result = invoke(sim, args, input=f"{SIP_PASSWORD}\n")
    assert result.exit_code == 0, (result.output, result.exception)
    assert "SIP trunk password (input hidden; or set DIALER_SIP_PASSWORD)" in result.output
    assert SIP_PASSWORD not in result.output


@pytest.mark.parametrize("number", ["12345", "not a number", "+999123", "4.15555E+10"])
def test_register_invalid_number_has_e164_hint(sim: RunningSimulator, number: str) -> None:
    args = [
        "numbers",
        "register",
        number,
        "--agent-id",
        DEFAULT_AGENT_ID,
        "--provider",
        "twilio",
        "--credential-id",
        str(uuid.uuid4()),
    ]
    result = invoke(sim, args)
    assert isinstance(result.exception, InputError)
    assert NUMBER_HINT in str(result.exception)
    assert list(sim.state.numbers) == [DEFAULT_FROM_NUMBER]  # nothing was sent


@pytest.mark.parametrize(
    "route",
    [
        [],
        ["--credential-id", "c1", "--trunk-address", "sip.example.com", "--sip-username", "u"],
        ["--trunk-address", "sip.example.com"],
        ["--sip-username", "u"],
    ],
)
def test_register_needs_exactly_one_route(sim: RunningSimulator, route: list[str]) -> None:
    args = [
        "numbers",
        "register",
        "+12125550150",
        "--agent-id",
        DEFAULT_AGENT_ID,
        "--provider",
        "twilio",
        *route,
    ]
    result = invoke(sim, args, DIALER_SIP_PASSWORD=SIP_PASSWORD)
    assert isinstance(result.exception, InputError)
    assert "--" in str(result.exception)


def test_register_unknown_agent_is_404_with_hint(sim: RunningSimulator) -> None:
    cred = _credential(sim)
    args = [
        "numbers",
        "register",
        "+12125550160",
        "--agent-id",
        str(uuid.uuid4()),
        "--provider",
        "twilio",
        "--credential-id",
        cred,
    ]
    result = invoke(sim, args)
    assert isinstance(result.exception, NotFound)
    assert AGENT_HINT in str(result.exception)


def test_register_twice_is_refused(sim: RunningSimulator) -> None:
    cred = _credential(sim)
    args = [
        "numbers",
        "register",
        "+12125550161",
        "--agent-id",
        DEFAULT_AGENT_ID,
        "--provider",
        "twilio",
        "--credential-id",
        cred,
    ]
    assert invoke(sim, args).exit_code == 0
    result = invoke(sim, args)
    assert isinstance(result.exception, Permanent)
    assert result.exception.status_code == 409


# -- help --------------------------------------------------------------------------------------


@pytest.mark.parametrize("group", ["setup", "numbers", "agents"])
def test_every_option_has_help(group: str) -> None:
    root: Any = typer.main.get_command(app)
    sub = root.commands[group]
    assert sub.help
    for name, command in sub.commands.items():
        assert command.help, name
        for param in command.params:
            assert getattr(param, "help", None), f"{group} {name} {param.name}"
