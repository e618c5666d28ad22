"""`dialer check`: the preflight on its own; `dialer run` runs it first (unless --no-preflight)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from campaigns import preflight
from campaigns.estimate import Estimate, estimate
from campaigns.planning import RunPlan, open_path, plan_run
from campaigns.preflight import Check, Level, Preflight
from dialer.campaign import CampaignConfig
from dialer.client import OneInboxClient
from dialer.http import make_http_client
from dialer.settings import Settings, env_file, load_settings
from dialer.store import Store
from workers.celery_app import make_app
from workers.cli.app import Out, app
from workers.cli.runopts import run_options, run_options_command
from workers.stack import redis_server_binary

EXIT_NOTHING = 3  # nothing can be dialled (as `dialer run` exits)

console = Out()
_STYLE = {Level.OK: "green", Level.WARN: "yellow", Level.FAIL: "bold red"}


@dataclass
class _FileRead:
    """What the preflight needs from the contacts file, read once more."""

    contacts: list[dict[str, str]] = field(default_factory=list)
    agents: set[str] = field(default_factory=set)
    rejects: Counter[str] = field(default_factory=Counter)


def _read(chosen: RunPlan) -> _FileRead:
    """The file's valid contacts (phone, time zone, from-number), rows' agents, rejects."""
    found = _FileRead()
    with open_path(chosen.source, chosen.load_options) as contact_file:
        for good, bad in contact_file.batches():
            found.contacts.extend(
                {
                    "phone": c.phone_e164,
                    "timezone": c.timezone or "",
                    "from": c.from_number or "",
                    "agent": c.agent_id or "",
                }
                for c in good
            )
            found.agents.update(c.agent_id for c in good if c.agent_id)
            found.rejects.update(r.reason.value for r in bad)
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
    now = datetime.now(UTC)
    read = _read(chosen)
    config = chosen.config
    checks = [preflight.check_endpoint(settings.base_url, env_file())]
    checks += preflight.check_outputs(chosen.results, chosen.rejects_path)
    checks += preflight.check_deadline(config, now)
    http = make_http_client(
        settings.base_url,
        settings.require_api_key(),
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
    )
    with http:
        client = OneInboxClient(http)
        checks += preflight.check_account(client, config, len(read.contacts))
        numbers = {c["from"] for c in read.contacts if c["from"]} - {config.from_number}
        rows, unknown = preflight.check_rows(client, read.agents - {config.agent_id}, numbers)
    checks += rows
    if not any(c.level is Level.FAIL for c in checks):
        checks += _infrastructure(settings)
        checks.append(
            preflight.check_countries(config.from_number, (c["phone"] for c in read.contacts))
        )
    if not any(c.level is Level.FAIL for c in checks):  # Redis answers
        checks += _account(settings, chosen, [c["phone"] for c in read.contacts], store)
    dialable = [
        c
        for c in read.contacts
        if c["from"] not in unknown.numbers and c["agent"] not in unknown.agents
    ]
    return Preflight(
        checks, estimate(config, dialable, now), unknown, len(read.contacts), read.rejects
    )


def show(result: Preflight, config: CampaignConfig) -> None:
    """The checks as a table (one plain line each without a terminal), then the estimate."""
    if console.is_terminal:
        table = Table("check", "result", "detail", title="Preflight")
        for check in result.checks:
            style = _STYLE[check.level]
            table.add_row(check.name, f"[{style}]{check.level.value}[/]", check.detail)
        console.print(table)
    else:
        for check in result.checks:
            line = f"Preflight {check.name}: {check.level.value}: {check.detail}"
            console.print(line, markup=False, highlight=False)
    if result.estimate is not None:
        console.print(describe(result.estimate, deadline=bool(config.deadline)))


def show_file(result: Preflight, source: Path, rejects: Path) -> None:
    """What the contacts file gave: contacts to dial, rejects by reason (nothing is written)."""
    rejected = sum(result.rejects.values())
    console.print(
        f"[bold]{source}[/]: {result.contacts} contacts to dial, {rejected} rejected.",
    )
    if rejected:
        listed = ", ".join(f"{reason} {n}" for reason, n in result.rejects.most_common())
        console.print(
            f"  rejected: {listed} (`dialer validate` writes them to {rejects})",
            highlight=False,
        )


def describe(est: Estimate, *, deadline: bool = False) -> str:
    """The estimate in one sentence."""
    if est.last_dial is None:
        if deadline:
            return "Estimate: no contact can be dialled before the deadline."
        return "Estimate: there is no contact to dial."
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
    show_file(result, chosen.source, chosen.rejects_path)
    show(result, chosen.config)
    console.print(f"Checked at {datetime.now(UTC):%H:%M:%S} UTC; nothing was dialled.")
    raise typer.Exit(check_exit(result))


def check_exit(result: Preflight) -> int:
    """1 when something must be fixed; 3 when nothing could be dialled (like `run`); else 0."""
    if result.failed:
        return 1
    return EXIT_NOTHING if result.contacts == 0 else 0
