"""`dialer limits set|show|clear`: what all the campaigns of one OneInbox account may do
together (its rate and its calls at once), kept in Redis for every worker and campaign."""

from __future__ import annotations

import contextlib
from typing import Annotated

import typer

from dialer.account import AccountLimits
from dialer.campaign import parse_rate
from dialer.settings import Settings, load_settings
from dialer.store import Store
from workers import stack
from workers.cli.app import Out, app

console = Out()
limits_app = typer.Typer(
    help="The account's limits, shared by all its campaigns (the account: DIALER_ACCOUNT, "
    "else a fingerprint of ONEINBOX_API_KEY)."
)
app.add_typer(limits_app, name="limits")


def open_account_store(settings: Settings) -> contextlib.AbstractContextManager[Store]:
    """DIALER_REDIS_URL's store; else the embedded Redis, joined if running, started if not."""
    return stack.open_store(settings, workers=0, join=True)


@limits_app.command("set")
def set_limits(
    rate: Annotated[
        str | None, typer.Option(help="Most creates per time for the account, e.g. 5/s, 300/m.")
    ] = None,
    max_concurrent: Annotated[
        int | None, typer.Option(min=1, help="Most calls in progress at once for the account.")
    ] = None,
) -> None:
    """Set the account's rate and/or concurrency. A limit not given is kept as it was."""
    if rate is None and max_concurrent is None:
        raise typer.BadParameter("give --rate, --max-concurrent or both", param_hint="limits set")
    settings = load_settings()
    account = settings.account_name()
    with open_account_store(settings) as store:
        now = store.limits(account)
        new = AccountLimits(
            parse_rate(rate) if rate is not None else now.rate_per_s,
            max_concurrent if max_concurrent is not None else now.max_concurrent,
        )
        store.set_limits(account, new)
    console.print(f"Account {account}: {new.describe()} (every campaign, from its next call).")


@limits_app.command("show")
def show() -> None:
    """Show the account's limits and what is in use. Also the deployment's defaults."""
    settings = load_settings()
    account = settings.account_name()
    with open_account_store(settings) as store:
        limits = store.limits(account)
        in_use = store.account_inflight(account)
        campaigns = store.account_campaigns(account)
    defaults = settings.account_defaults()
    console.print(f"Account {account}", highlight=False)
    console.print(f"  limits set:      {limits.describe()}", highlight=False)
    console.print(
        f"  defaults (env):  {defaults.describe()} (used while no limits are set)", highlight=False
    )
    console.print(f"  calls now:       {in_use} in progress", highlight=False)
    console.print(f"  campaigns:       {', '.join(campaigns) or 'none yet'}", highlight=False)


@limits_app.command("clear")
def clear() -> None:
    """Remove the account's limits. The deployment's defaults, if any, apply again."""
    settings = load_settings()
    account = settings.account_name()
    with open_account_store(settings) as store:
        store.clear_limits(account)
    console.print(f"Account {account}: limits removed.")
