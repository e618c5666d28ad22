"""`dialer setup|numbers|agents`: connect a carrier, register numbers, look at agents.

Secrets (the carrier's API key, the SIP trunk password) are read from the environment or a
hidden prompt, never from the command line, and are never printed. Every listing is a rich
table, or JSON with `--json` for scripts.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import warnings
from collections.abc import Iterator, Sequence
from enum import StrEnum
from typing import Annotated, Any

import typer
from pydantic import AliasChoices, BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from rich.console import Console
from rich.table import Table
from rich.text import Text

from dialer.client import OneInboxClient
from dialer.errors import InputError, InvalidNumber
from dialer.http import NUMBER_HINT, make_http_client
from dialer.models import Agent, AvailableNumber, Credential, PhoneNumber
from dialer.phone import normalize
from dialer.settings import load_settings
from workers.cli.app import Group, Out, app
from workers.cli.plain import print_table

setup_app = typer.Typer(
    help="One-time account setup: carrier credentials.", no_args_is_help=True, rich_markup_mode=None
)
numbers_app = typer.Typer(
    help="Phone numbers: search, register, list.", no_args_is_help=True, rich_markup_mode=None
)
agents_app = typer.Typer(
    help="Voice agents on your OneInbox account.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(setup_app, name="setup", cls=Group)
app.add_typer(numbers_app, name="numbers", cls=Group)
app.add_typer(agents_app, name="agents", cls=Group)

AGENT_PAGE = 100


class Carrier(StrEnum):
    """The carriers OneInbox can dial through."""

    TWILIO = "twilio"
    TELNYX = "telnyx"


class Secrets(BaseSettings):
    """The setup commands' secrets: environment or `.env` only (a prompt asks otherwise)."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    carrier_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DIALER_CARRIER_API_KEY")
    )
    sip_password: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DIALER_SIP_PASSWORD")
    )


AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
CarrierOption = Annotated[Carrier, typer.Option(help="The carrier the account or number is on.")]


@contextlib.contextmanager
def _client() -> Iterator[OneInboxClient]:
    """A client on ONEINBOX_BASE_URL with ONEINBOX_API_KEY (the key is checked first)."""
    settings = load_settings()
    key = settings.require_api_key()
    with make_http_client(
        settings.base_url,
        key,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
    ) as http:
        yield OneInboxClient(http)


def _secret(value: SecretStr | None, env: str, prompt: str) -> str:
    """The secret from the environment, or asked for without echo; never empty."""
    text = value.get_secret_value() if value is not None else ""
    if not text.strip():
        asked = f"{prompt} (input hidden; or set {env})"
        with warnings.catch_warnings():
            warnings.simplefilter("error", getpass.GetPassWarning)  # no terminal to hide input on
            try:
                text = str(typer.prompt(asked, hide_input=True, err=True))
            except getpass.GetPassWarning:
                raise InputError(
                    f"{env} is not set and there is no terminal to ask on: set {env}"
                ) from None
    if not text.strip():
        raise InputError(f"an empty value was given; set {env} or type it at the prompt")
    return text.strip()


def _out() -> Console:
    # Built per command so the terminal width (COLUMNS) in effect at the time applies.
    return Out(highlight=False)


def _emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def _dump(models: Sequence[BaseModel]) -> list[dict[str, Any]]:
    return [m.model_dump(mode="json") for m in models]


def _table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Table:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(Text("" if cell is None else str(cell)) for cell in row))
    return table


def _show(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], empty: str) -> None:
    out = _out()
    if rows:
        print_table(out, _table(title, columns, rows))
    else:
        out.print(empty)


# -- setup --------------------------------------------------------------------------------------


@setup_app.command("credentials")
def setup_credentials(
    name: Annotated[str, typer.Option(help="A name for the credential, e.g. 'twilio-prod'.")],
    provider: CarrierOption,
    as_json: AsJson = False,
) -> None:
    """Store your carrier's API key with OneInbox (from DIALER_CARRIER_API_KEY or a prompt)."""
    with _client() as client:
        key = _secret(Secrets().carrier_api_key, "DIALER_CARRIER_API_KEY", "Carrier API key")
        credential = client.create_credential(name, provider.value, SecretStr(key))
    if as_json:
        _emit_json(credential.model_dump(mode="json"))
        return
    _show_credentials([credential], "Credential stored")
    _out().print("Use its id with `dialer numbers register --credential-id ...`.")


def _show_credentials(credentials: Sequence[Credential], title: str) -> None:
    rows = [(c.id, c.name, c.provider, c.created_at) for c in credentials]
    _show(title, ("id", "name", "provider", "created_at"), rows, "No credentials.")


# -- numbers ------------------------------------------------------------------------------------


@numbers_app.command("search")
def numbers_search(
    country: Annotated[str, typer.Option(help="ISO country code, e.g. US or GB.")] = "US",
    area_code: Annotated[str | None, typer.Option(help="Area code, e.g. 415.")] = None,
    contains: Annotated[str | None, typer.Option(help="Digits the number must contain.")] = None,
    credential_id: Annotated[
        str | None, typer.Option(help="Search your own carrier account (a credential id).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100, help="How many numbers (1-100).")] = 10,
    as_json: AsJson = False,
) -> None:
    """Find phone numbers available to buy or register."""
    with _client() as client:
        found = client.search_numbers(
            country.upper(),
            area_code=area_code,
            contains=contains,
            credential_id=credential_id,
            limit=limit,
        )
    if as_json:
        _emit_json(_dump(found))
        return
    _show_available(found)


def _show_available(found: Sequence[AvailableNumber]) -> None:
    rows = [(n.phone_number, n.friendly_name, n.locality, n.region, n.country) for n in found]
    columns = ("phone_number", "friendly_name", "locality", "region", "country")
    _show("Available numbers", columns, rows, "No numbers match.")


def _provider_config(
    trunk_address: str | None, sip_username: str | None, credential_id: str | None
) -> dict[str, str] | None:
    """The SIP trunk settings, or None when a credential id is used; exactly one route."""
    trunk = trunk_address is not None or sip_username is not None
    if trunk == (credential_id is not None):
        raise InputError(
            "give either --credential-id, or --trunk-address with --sip-username (not both)",
            field="credential_id",
        )
    if not trunk:
        return None
    if not trunk_address or not sip_username:
        raise InputError("--trunk-address and --sip-username go together", field="trunk_address")
    password = _secret(Secrets().sip_password, "DIALER_SIP_PASSWORD", "SIP trunk password")
    return {
        "trunk_address": trunk_address,
        "auth_username": sip_username,
        "auth_password": password,
    }


def _e164(raw: str) -> str:
    try:
        return normalize(raw)
    except InvalidNumber as exc:
        raise InputError(f"{exc} ({NUMBER_HINT})", where="phone number") from exc


@numbers_app.command("register")
def numbers_register(
    phone_number: Annotated[str, typer.Argument(help="The number, in E.164: +14155551234.")],
    agent_id: Annotated[str, typer.Option(help="Agent that answers and places its calls.")],
    provider: CarrierOption,
    credential_id: Annotated[
        str | None, typer.Option(help="Carrier credential id (from `dialer setup credentials`).")
    ] = None,
    trunk_address: Annotated[
        str | None, typer.Option(help="SIP trunk host, e.g. example.pstn.twilio.com.")
    ] = None,
    sip_username: Annotated[
        str | None,
        typer.Option(help="SIP trunk user name (the password: DIALER_SIP_PASSWORD or a prompt)."),
    ] = None,
    friendly_name: Annotated[str | None, typer.Option(help="A label for the number.")] = None,
    as_json: AsJson = False,
) -> None:
    """Register a Twilio or Telnyx number with OneInbox so campaigns can call from it."""
    number = _e164(phone_number)
    with _client() as client:
        config = _provider_config(trunk_address, sip_username, credential_id)
        registered = client.register_number(
            number,
            provider.value,
            agent_id,
            friendly_name=friendly_name,
            credential_id=credential_id,
            provider_config=config,
        )
    if as_json:
        _emit_json(registered.model_dump(mode="json"))
        return
    _show_numbers([registered], "Number registered")


@numbers_app.command("list")
def numbers_list(as_json: AsJson = False) -> None:
    """List the numbers registered with OneInbox (usable as --from-number)."""
    with _client() as client:
        numbers = client.list_numbers()
    if as_json:
        _emit_json(_dump(numbers))
        return
    _show_numbers(numbers, "Registered numbers")


def _show_numbers(numbers: Sequence[PhoneNumber], title: str) -> None:
    rows = [
        (n.phone_number, n.id, n.provider, n.agent_id, n.status, n.friendly_name) for n in numbers
    ]
    columns = ("phone_number", "id", "provider", "agent_id", "status", "friendly_name")
    _show(title, columns, rows, "No numbers registered.")


# -- agents -------------------------------------------------------------------------------------


def _all_agents(client: OneInboxClient) -> list[Agent]:
    agents: list[Agent] = []
    while True:
        page = client.list_agents(limit=AGENT_PAGE, offset=len(agents))
        agents.extend(page.items)
        if not page.items or page.total is None or len(agents) >= page.total:
            return agents


@agents_app.command("list")
def agents_list(as_json: AsJson = False) -> None:
    """List your agents (their ids go in --agent-id)."""
    with _client() as client:
        agents = _all_agents(client)
    if as_json:
        _emit_json(_dump(agents))
        return
    rows = [(a.id, a.name, a.language, a.max_duration_seconds) for a in agents]
    _show("Agents", ("id", "name", "language", "max_duration_seconds"), rows, "No agents.")


@agents_app.command("show")
def agents_show(
    agent_id: Annotated[str, typer.Argument(help="The agent's id (see `dialer agents list`).")],
    as_json: AsJson = False,
) -> None:
    """Show one agent's settings."""
    with _client() as client:
        agent = client.get_agent(agent_id)
    data = agent.model_dump(mode="json")
    if as_json:
        _emit_json(data)
        return
    table = Table(title=f"Agent {agent.name or agent.id}", show_header=False)
    table.add_column("field")
    table.add_column("value", overflow="fold")
    for field, value in data.items():
        shown = value if isinstance(value, str) else json.dumps(value, default=str)
        table.add_row(field, Text(shown))
    print_table(_out(), table)
