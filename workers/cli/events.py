"""`dialer events secret|list|replay`: the signed events sent to a CRM (`--events-url`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from dialer.errors import StateError
from dialer.settings import load_settings
from dialer.store.outbox import Outbox
from workers.cli.app import Group, Out, app
from workers.cli.limits import open_account_store
from workers.cli.plain import print_table

console = Out()
events_app = typer.Typer(
    cls=Group, help="Signed events sent to a CRM: the secret, what was sent, resend."
)
app.add_typer(events_app, name="events")


@events_app.command("secret")
def secret(
    rotate: Annotated[
        bool, typer.Option("--rotate", help="Make a new secret (receivers need the new one).")
    ] = False,
) -> None:
    """Show the secret events are signed with, once; give it to the receiver.

    It is kept in Redis and never shown again: `--rotate` makes a new one (events already
    signed with the old one are signed again with the new one when they are resent)."""
    with open_account_store(load_settings()) as store:
        shown = Outbox(store.redis).reveal_secret(rotate=rotate)
    if shown is None:
        raise StateError("the events secret was already shown; `--rotate` makes a new one")
    console.print(shown, markup=False, highlight=False, soft_wrap=True)


@events_app.command("list")
def list_events(
    campaign: Annotated[str | None, typer.Option(help="Only this campaign's events.")] = None,
    last: Annotated[int, typer.Option(min=1, help="How many, newest first.")] = 20,
) -> None:
    """The latest events: id, type, campaign, status, attempts and the last error."""
    with open_account_store(load_settings()) as store:
        events = Outbox(store.redis).recent(last, campaign)
    table = Table("id", "recorded", "type", "campaign", "status", "attempts", "error")
    for event in events:
        when = datetime.fromtimestamp(event.created_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
        row = (event.id, when, event.type, event.campaign, event.status, str(event.attempts))
        table.add_row(*row, event.last_error)
    if not events:
        console.print("No events.")
        return
    print_table(console, table)


@events_app.command("replay")
def replay(
    ids: Annotated[list[str] | None, typer.Argument(help="Event ids (from `events list`).")] = None,
    campaign: Annotated[str | None, typer.Option(help="Every kept event of this campaign.")] = None,
) -> None:
    """Send events again, under their own ids (receivers that saw them may skip them)."""
    if not ids and not campaign:
        raise typer.BadParameter("give event ids, or --campaign", param_hint="events replay")
    with open_account_store(load_settings()) as store:
        outbox = Outbox(store.redis)
        wanted = list(ids or []) + [e.id for e in outbox.recent(1 << 30, campaign) if campaign]
        resent = outbox.replay(wanted)
    missing = sorted(set(wanted) - set(resent))
    console.print(f"{len(resent)} event(s) will be sent again.")
    if missing:
        raise StateError(f"no such event (or no longer kept): {', '.join(missing)}")
