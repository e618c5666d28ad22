"""What `dialer run`, `demo` and `status` show: the live progress and the summary table."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.table import Table

from campaigns import watch
from campaigns.model import Reject
from campaigns.progress import PACE_SAMPLE_S, Progress
from dialer.campaign import CampaignConfig
from dialer.store import FINAL_STATES, LIVE_STATES, ContactState, Store
from workers.cli.plain import print_table

_ORDER = [s.value for s in ContactState]
QUIET_LINE_S = 60.0  # without a terminal, a line at least this often while nothing changes


def loaded(
    console: Console,
    path: Path,
    contacts: int,
    rejects: list[Reject],
    out: Path,
    warnings: list[str] | None = None,
    dialled: int = 0,
) -> None:
    """One line on what the file gave, its warnings, and the rejects by reason.

    `contacts` are the file's; `dialled` of them were dialled or ended already (a campaign
    resumed), so are not to dial."""
    given = f"{contacts} contacts to dial"
    if dialled:
        given = f"{contacts} contacts, {contacts - dialled} to dial ({dialled} dialled or final)"
    console.print(f"[bold]{path}[/]: {given}, {len(rejects)} rejected.")
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
    if now.trouble:
        rows.append(("OneInbox", now.trouble))
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
    """When dialling should be over and what binds it (`campaigns.estimate.finish`)."""
    if now.finish is not None:
        return now.finish.text
    return "done" if now.live == 0 else "no estimate yet"


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
    if now.trouble:
        parts.append(f"{now.trouble},")
    if now.cost:
        parts.append(f"cost {now.cost},")
    if now.reason:
        parts.append(f"stopped: {now.reason},")
    parts.append(f"ETA {eta(now, config)}")
    return " ".join(parts)


@dataclass
class Trouble:
    """What went wrong while following, said once as a line of its own ('' = nothing now)."""

    console: Console
    results: str = ""

    def __call__(self, why: str) -> None:
        """Say a new trouble with the results file, or that it is written again."""
        if why:
            self.console.print(f"Warning: {why}", highlight=False, markup=False, soft_wrap=True)
        elif self.results:
            self.console.print("The results file is written again.", highlight=False)
        self.results = why


def follow_live(
    console: Console,
    store: Store,
    config: CampaignConfig,
    results: Path,
    every_s: float,
    trouble: Trouble | None = None,
) -> Progress:
    """Follow the campaign until it ends: a live table at a terminal, else a plain line every
    `every_s` seconds when something changed (and always the last one)."""
    said = trouble or Trouble(console)
    if not console.is_terminal:
        return _follow_plain(console, store, config, results, every_s, said)
    with Live(console=console, refresh_per_second=4, transient=False) as live:

        def show(now: Progress) -> None:
            live.update(progress_table(now, config))

        final = watch.follow(store, config.campaign_id, results, show, on_trouble=said)
    console.print()
    return final


def _follow_plain(
    console: Console,
    store: Store,
    config: CampaignConfig,
    results: Path,
    every_s: float,
    trouble: Trouble,
) -> Progress:
    shown: tuple[object, ...] = ()
    printed_at = time.monotonic() - every_s

    def show(now: Progress) -> None:
        nonlocal shown, printed_at
        key = (now.shown_state, now.dialled, tuple(sorted(now.counts.items())), bool(now.trouble))
        since = time.monotonic() - printed_at
        changed = key != shown and (since >= every_s or watch.finished(now))
        if changed or since >= max(every_s, QUIET_LINE_S):  # a line a minute while nothing moves
            console.print(line(now, config), highlight=False, markup=False)
            shown, printed_at = key, time.monotonic()

    return watch.follow(store, config.campaign_id, results, show, on_trouble=trouble)


def summary(console: Console, final: Progress, results: Path) -> None:
    """The closing table: contacts per final status, and where the results are."""
    table = Table(title="Summary")
    table.add_column("status")
    table.add_column("contacts", justify="right")
    for state in _ORDER:
        if final.counts.get(state):
            table.add_row(state, str(final.counts[state]))
    table.add_row("[bold]total[/]", f"[bold]{final.total}[/]")
    print_table(console, table)
    console.print(f"Results: [bold]{results}[/]")
