"""What `dialer run`, `demo` and `status` show: the live progress and the summary table."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.table import Table

from campaigns.model import Reject
from dialer.campaign import CampaignConfig
from dialer.store import FINAL_STATES, LIVE_STATES, ContactState, Store
from workers import session

_ORDER = [s.value for s in ContactState]


def loaded(
    console: Console,
    path: Path,
    contacts: int,
    rejects: list[Reject],
    out: Path,
    warnings: list[str] | None = None,
) -> None:
    """One line on what the file gave, its warnings, and the rejects by reason."""
    console.print(f"[bold]{path}[/]: {contacts} contacts to dial, {len(rejects)} rejected.")
    for warning in warnings or ():
        console.print(f"  [bold yellow]warning:[/] {warning}", highlight=False)
    if rejects:
        reasons = Counter(r.reason.value for r in rejects)
        listed = ", ".join(f"{reason} {n}" for reason, n in reasons.most_common())
        console.print(f"  rejected: {listed}; details in {out}")


def progress_table(now: session.Progress, config: CampaignConfig, elapsed: float) -> Table:
    """The live view: how many dialled, in progress, done by status, pace and ETA."""
    table = Table(title=f"Campaign {config.campaign_id} ({now.state.value})", show_header=False)
    dialled = now.total - now.counts.get(ContactState.PENDING.value, 0)
    in_progress = sum(
        now.counts.get(s.value, 0) for s in LIVE_STATES if s is not ContactState.PENDING
    )
    pace = dialled / elapsed if elapsed > 0 else 0.0
    table.add_row("contacts", str(now.total))
    table.add_row("dialled", str(dialled))
    table.add_row("in progress", str(in_progress))
    table.add_row("done", f"{now.done} / {now.total}")
    for state in sorted(FINAL_STATES, key=_ORDER.index):
        if now.counts.get(state.value):
            table.add_row(f"  {state.value}", str(now.counts[state.value]))
    table.add_row("pace", f"{pace:.2f} calls/s (limit {config.rate_per_s:g}/s)")
    if now.account:
        table.add_row("account", now.account)
    table.add_row("ETA", _eta(now, config))
    return table


def _eta(now: session.Progress, config: CampaignConfig) -> str:
    pending = now.counts.get(ContactState.PENDING.value, 0)
    if now.live == 0:
        return "done"
    seconds = pending / config.rate_per_s
    return f"~{seconds:.0f} s to dial the rest, then calls finish"


def follow_live(
    console: Console, store: Store, config: CampaignConfig, results: Path
) -> session.Progress:
    """Follow the campaign with a live table until it ends."""
    started = time.monotonic()
    with Live(console=console, refresh_per_second=4, transient=False) as live:

        def show(now: session.Progress) -> None:
            live.update(progress_table(now, config, time.monotonic() - started))

        final = session.follow(store, config.campaign_id, results, show)
    console.print()
    return final


def summary(console: Console, final: session.Progress, results: Path) -> None:
    """The closing table: contacts per final status, and where the results are."""
    table = Table(title="Summary")
    table.add_column("status")
    table.add_column("contacts", justify="right")
    for state in _ORDER:
        if final.counts.get(state):
            table.add_row(state, str(final.counts[state]))
    table.add_row("[bold]total[/]", f"[bold]{final.total}[/]")
    console.print(table)
    console.print(f"Results: [bold]{results}[/]")
