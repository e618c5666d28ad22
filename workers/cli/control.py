"""`dialer status|pause|resume|cancel|export`: look at and steer a campaign from anywhere."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from campaigns import lifecycle, watch
from campaigns.progress import progress
from campaigns.recordings import Refreshed, refresh_recordings
from dialer.campaign import CampaignState
from dialer.client import OneInboxClient
from dialer.errors import NoSuchCampaign, StateError
from dialer.http import make_http_client
from dialer.settings import load_settings
from dialer.store import ContactRecord, Store
from workers import stack
from workers.cli import display
from workers.cli.app import Out, app
from workers.cli.plain import print_table

console = Out()
Campaign = Annotated[str, typer.Argument(help="Campaign id (shown by `dialer run`).")]
Amend = Callable[[Iterable[ContactRecord]], Iterable[ContactRecord]]


def _store() -> contextlib.AbstractContextManager[Store]:
    """DIALER_REDIS_URL's store; else the embedded Redis, joined if running, started if not."""
    return stack.open_store(load_settings(), workers=0, join=True)


def _config(store: Store, cid: str) -> None:
    if store.campaign_state(cid) is None:
        raise NoSuchCampaign(f"no campaign named {cid!r}")


def _unfinished(store: Store, cid: str, verb: str) -> None:
    """Refuse to steer a campaign that has finished (done or cancelled): its state stays."""
    state = store.campaign_state(cid)
    if state is None:
        raise NoSuchCampaign(f"no campaign named {cid!r}")
    if state is CampaignState.DONE:
        raise StateError(f"campaign {cid} has finished: nothing to {verb}")
    if state is CampaignState.CANCELED:
        raise StateError(f"campaign {cid} was cancelled: nothing to {verb}")


@app.command()
def status(
    campaign: Annotated[
        str | None, typer.Argument(help="Campaign id; without it, every campaign is listed.")
    ] = None,
) -> None:
    """Show how far a campaign has got: contacts per status, and why it stopped if it did.

    Without a campaign id: every campaign, with its list, state, counts and last activity.
    """
    with _store() as store:
        if campaign is None:
            _list_campaigns(store)
            return
        now = progress(store, campaign)
        config = store.campaign(campaign)
        if console.is_terminal:
            print_table(console, display.progress_table(now, config))
        else:
            console.print(display.line(now, config), highlight=False, markup=False)
        if now.reason:
            console.print(f"[bold red]Stopped:[/] {now.reason}")
        if now.cost:
            console.print(f"Cost: {now.cost}", highlight=False, markup=False)
        _, reasons = store.waiting(campaign)
        for reason, (count, _due) in sorted(reasons.items(), key=lambda item: -item[1][0])[:5]:
            said = reason.removeprefix("waiting: ")
            console.print(f"  {count} waiting: {said}", highlight=False, soft_wrap=True)


def _list_campaigns(store: Store) -> None:
    seen = store.overviews(store.campaign_ids())
    if not seen:
        console.print("No campaign yet: `dialer run FILE` starts one.")
        return
    table = Table(title="Campaigns")
    table.add_column("id", no_wrap=True)
    table.add_column("list", overflow="fold")
    for column in ("state", "done", "left"):
        table.add_column(column, no_wrap=True)
    table.add_column("last activity (UTC)")
    for one in sorted(seen, key=lambda o: -o.last_activity_ms):
        table.add_row(
            one.config.campaign_id,
            one.config.source,
            one.state.value,
            f"{one.total - one.live}/{one.total}",
            str(one.live),
            _when(one.last_activity_ms),
        )
    print_table(console, table)


def _when(ms: int) -> str:
    return f"{datetime.fromtimestamp(ms / 1000, UTC):%Y-%m-%d %H:%M:%S}" if ms else ""


@app.command()
def pause(campaign: Campaign) -> None:
    """Dial nobody new; calls in progress finish and are followed."""
    with _store() as store:
        _unfinished(store, campaign, "pause")
        store.set_campaign_state(campaign, CampaignState.PAUSED)
    console.print(f"Paused {campaign}.")


@app.command()
def resume(campaign: Campaign) -> None:
    """Dial again after a pause (workers must be running: `dialer run` or `dialer worker`)."""
    with _store() as store:
        _unfinished(store, campaign, "resume")
        lifecycle.start(store, campaign)
    console.print(f"Resumed {campaign}.")


@app.command()
def cancel(campaign: Campaign) -> None:
    """Stop for good: contacts not yet dialled become `canceled`; calls in progress finish."""
    with _store() as store:
        _unfinished(store, campaign, "cancel")
        quiet = logging.getLogger("dialer.store")
        level = quiet.level
        quiet.setLevel(logging.WARNING)  # one summary, not a line per contact
        try:
            canceled = lifecycle.cancel(store, campaign)
        finally:
            quiet.setLevel(level)
    console.print(f"Canceled {campaign}: {canceled} contacts will not be dialled.")


@app.command()
def export(
    campaign: Campaign,
    results: Annotated[Path, typer.Option(help="Where to write the results file.")],
    attempts: Annotated[
        bool,
        typer.Option("--attempts", help="One row per attempt (with retries), not per contact."),
    ] = False,
    refresh_recordings: Annotated[
        bool,
        typer.Option(
            "--refresh-recordings",
            help="Read again from OneInbox the calls whose recording link has expired (links "
            "are signed for about 4 hours), so the file's links work. Needs ONEINBOX_API_KEY.",
        ),
    ] = False,
) -> None:
    """Write the campaign's results file now (complete or not)."""
    tally = Refreshed()
    with _store() as store, _recordings(refresh_recordings, tally) as amend:
        _config(store, campaign)
        count = watch.export(store, campaign, results, attempts=attempts, amend=amend)
    console.print(f"Wrote {count} rows to {results}")
    if refresh_recordings:
        console.print(f"Recording links fetched again: {tally.fetched}", highlight=False)
    if tally.failed:
        console.print(
            f"[bold yellow]Could not read {tally.failed} calls[/] (their old links are kept); "
            f"last: {escape(tally.last_error)}"
        )


@contextlib.contextmanager
def _recordings(refresh: bool, tally: Refreshed) -> Iterator[Amend | None]:
    """With `refresh`, what replaces expired recording links (through a OneInbox client)."""
    if not refresh:
        yield None
        return
    settings = load_settings()
    key = settings.require_api_key()
    with make_http_client(
        settings.base_url,
        key,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
    ) as http:
        client = OneInboxClient(http)
        now = datetime.now(UTC)
        yield lambda rows: refresh_recordings(rows, client.get_call, now, tally)
