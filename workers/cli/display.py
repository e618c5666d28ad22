"""What `dialer run`, `demo` and `status` show: the live progress and the summary table."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.table import Table

from campaigns import watch
from campaigns.model import Reject
from campaigns.progress import PACE_SAMPLE_S, Progress
from dialer.campaign import CampaignConfig, CampaignState
from dialer.store import FINAL_STATES, LIVE_STATES, ContactState, Store

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


def progress_table(now: Progress, config: CampaignConfig) -> Table:
    """The live view: dialled, in progress, done by status, waiting, the recent pace and ETA."""
    table = Table(title=f"Campaign {config.campaign_id} ({now.shown_state})", show_header=False)
    for label, value in figures(now, config):
        table.add_row(label, value)
    return table


def figures(now: Progress, config: CampaignConfig) -> list[tuple[str, str]]:
    """The live view's lines as (label, value)."""
    rows = [
        ("contacts", str(now.total)),
        ("dialled", str(now.dialled)),
        ("in progress", str(_in_progress(now))),
        ("done", f"{now.done} / {now.total}"),
    ]
    for state in sorted(FINAL_STATES, key=_ORDER.index):
        if now.counts.get(state.value):
            rows.append((f"  {state.value}", str(now.counts[state.value])))
    for wait in now.waiting:
        rows.append(("waiting", f"{wait.count} wait {wait.why}, next at {_at(wait.next_at)}"))
    sample = f"last {PACE_SAMPLE_S:.0f} s"
    rows.append(("pace", f"{now.pace_per_s:.2f} calls/s ({sample}; limit {config.rate_per_s:g}/s)"))
    if now.account:
        rows.append(("account", now.account))
    if now.cost:
        rows.append(("cost", now.cost))
    if now.reason:
        rows.append(("stopped", now.reason))
    rows.append(("ETA", eta(now, config)))
    return rows


def _in_progress(now: Progress) -> int:
    return sum(now.counts.get(s.value, 0) for s in LIVE_STATES if s is not ContactState.PENDING)


def _at(when: datetime) -> str:
    today = datetime.now(UTC).date()
    return f"{when:%H:%M} UTC" if when.date() == today else f"{when:%Y-%m-%d %H:%M} UTC"


def eta(now: Progress, config: CampaignConfig) -> str:
    """When dialling should be over, or why there is no telling."""
    if now.live == 0:
        return "done"
    if now.state is CampaignState.CANCELED:
        return "cancelled: calls in progress finish, nobody new is dialled"
    if now.state is CampaignState.PAUSED:
        return "paused: no ETA until it is resumed"
    due = max(0, now.pending - now.waiting_count)
    if due == 0 and now.waiting:
        return f"nobody due now; next dial at {_at(now.waiting[0].next_at)}"
    text = f"~{due / config.rate_per_s:.0f} s to dial the {due} due now, then calls finish"
    return text + (f"; {now.waiting_count} wait" if now.waiting else "")


def line(now: Progress, config: CampaignConfig) -> str:
    """The progress as one plain line, for logs (no terminal)."""
    finals = ", ".join(
        f"{s.value} {now.counts[s.value]}"
        for s in sorted(FINAL_STATES, key=_ORDER.index)
        if now.counts.get(s.value)
    )
    parts = [
        f"{datetime.now(UTC):%H:%M:%S} {config.campaign_id} {now.shown_state}:",
        f"dialled {now.dialled}/{now.total}, in progress {_in_progress(now)},",
        f"done {now.done}/{now.total}" + (f" ({finals})" if finals else "") + ",",
    ]
    parts += [f"{w.count} wait {w.why} (next at {_at(w.next_at)})," for w in now.waiting]
    parts.append(f"pace {now.pace_per_s:.2f}/s,")
    if now.account:
        parts.append(f"{now.account},")
    if now.cost:
        parts.append(f"cost {now.cost},")
    if now.reason:
        parts.append(f"stopped: {now.reason},")
    parts.append(f"ETA {eta(now, config)}")
    return " ".join(parts)


def follow_live(
    console: Console, store: Store, config: CampaignConfig, results: Path, every_s: float
) -> Progress:
    """Follow the campaign until it ends: a live table at a terminal, else a plain line every
    `every_s` seconds when something changed (and always the last one)."""
    if not console.is_terminal:
        return _follow_plain(console, store, config, results, every_s)
    with Live(console=console, refresh_per_second=4, transient=False) as live:

        def show(now: Progress) -> None:
            live.update(progress_table(now, config))

        final = watch.follow(store, config.campaign_id, results, show)
    console.print()
    return final


def _follow_plain(
    console: Console, store: Store, config: CampaignConfig, results: Path, every_s: float
) -> Progress:
    shown: tuple[object, ...] = ()
    printed_at = time.monotonic() - every_s

    def show(now: Progress) -> None:
        nonlocal shown, printed_at
        key = (now.shown_state, now.dialled, tuple(sorted(now.counts.items())))
        due = time.monotonic() - printed_at >= every_s
        if key != shown and (due or watch.finished(now)):
            console.print(line(now, config), highlight=False, markup=False)
            shown, printed_at = key, time.monotonic()

    return watch.follow(store, config.campaign_id, results, show)


def summary(console: Console, final: Progress, results: Path) -> None:
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
