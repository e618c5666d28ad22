"""`dialer check`: the preflight on its own; `dialer run` runs it first (unless --no-preflight)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from campaigns.estimate import Estimate, estimate
from dialer.client import OneInboxClient
from dialer.http import make_http_client
from dialer.settings import Settings, env_file, load_settings
from dialer.store import Store
from workers import preflight
from workers.celery_app import make_app
from workers.cli.app import app
from workers.cli.runopts import run_options, run_options_command
from workers.embedded import redis_server_binary
from workers.planning import RunPlan, open_path, plan_run
from workers.preflight import Check, Level, Preflight

console = Console()
_STYLE = {Level.OK: "green", Level.WARN: "yellow", Level.FAIL: "bold red"}


def _contacts(chosen: RunPlan) -> list[dict[str, str]]:
    """The file's valid contacts, read once more (phone and time zone only)."""
    found: list[dict[str, str]] = []
    with open_path(chosen.source, chosen.load_options) as contact_file:
        for good, _ in contact_file.batches():
            found.extend(
                {"phone": c.phone_e164, "timezone": c.timezone or "", "from": c.from_number or ""}
                for c in good
            )
    return found


def _infrastructure(settings: Settings) -> list[Check]:
    if not settings.redis_url:
        redis_server_binary()
        return [Check("redis", Level.OK, "a private redis-server will be started")]
    control = make_app(settings.redis_url).control
    return preflight.check_workers(
        Store.from_url(settings.redis_url), lambda: control.ping(timeout=1.0)
    )


def _account(
    settings: Settings, chosen: RunPlan, phones: list[str], store: Store | None
) -> list[Check]:
    """The account's limits, do-not-call list and gap, when its Redis is at hand."""
    if store is None and settings.redis_url:
        store = Store.from_url(settings.redis_url)
    if store is None:
        return [Check("account", Level.OK, "limits, do-not-call list and gap: checked at run")]
    defaults = settings.account_defaults()
    return preflight.check_account_rules(store, chosen.config, phones, defaults)


def run_preflight(settings: Settings, chosen: RunPlan, store: Store | None = None) -> Preflight:
    """Every check, then the estimate (the account's, on `store` or DIALER_REDIS_URL's)."""
    contacts = _contacts(chosen)
    http = make_http_client(
        settings.base_url,
        settings.require_api_key(),
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
    )
    checks = [preflight.check_endpoint(settings.base_url, env_file())]
    with http:
        own = {c["from"] for c in contacts if c["from"]}
        checks += preflight.check_account(
            OneInboxClient(http), chosen.config, len(contacts), row_numbers=own
        )
    if not any(c.level is Level.FAIL for c in checks):
        checks += _infrastructure(settings)
        checks.append(
            preflight.check_countries(chosen.config.from_number, (c["phone"] for c in contacts))
        )
    if not any(c.level is Level.FAIL for c in checks):  # Redis answers
        checks += _account(settings, chosen, [c["phone"] for c in contacts], store)
    return Preflight(checks, estimate(chosen.config, contacts, datetime.now(UTC)))


def show(result: Preflight) -> None:
    """The checks as a table, then the estimate."""
    table = Table("check", "result", "detail", title="Preflight")
    for check in result.checks:
        style = _STYLE[check.level]
        table.add_row(check.name, f"[{style}]{check.level.value}[/]", check.detail)
    console.print(table)
    if result.estimate is not None:
        console.print(describe(result.estimate))


def describe(est: Estimate) -> str:
    """The estimate in one sentence."""
    if est.last_dial is None:
        return "Estimate: no contact can be dialled before the deadline."
    when = f"{est.last_dial:%Y-%m-%d %H:%M} UTC"
    starts = f"{est.first_dial:%Y-%m-%d %H:%M} UTC" if est.first_dial else "now"
    text = (
        f"Estimate: dialling starts {starts} and ends about {when}, at "
        f"{est.pace_per_s:.2f} calls/s (limited by {est.limited_by}); "
        f"{est.rolled_over} contacts roll over to a later day"
    )
    if est.never:
        text += f"; {est.never} have no calling time before the deadline and would expire"
    return text + "."


@app.command("check", cls=run_options_command())
def check_command(
    ctx: typer.Context,
    contacts: Annotated[Path, typer.Argument(help="Contacts file (CSV or .xlsx).")],
) -> None:
    """Check a campaign before dialling: key, agent, from-number, quota, Redis and workers,
    countries; then estimate when it would finish. Exits 1 when something must be fixed."""
    settings = load_settings()
    chosen = plan_run(settings, contacts, run_options(ctx), campaign="preflight")
    result = run_preflight(settings, chosen)
    show(result)
    console.print(f"Checked at {datetime.now(UTC):%H:%M:%S} UTC; nothing was dialled.")
    raise typer.Exit(1 if result.failed else 0)
