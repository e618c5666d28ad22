"""What `dialer run`, `demo` and `status` show: what a load gave and did, the live progress
(from the list's first batch stored, while the rest loads) and the summary table."""

from __future__ import annotations

import shlex
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from campaigns import watch
from campaigns.lifecycle import Reading, Submission, seen, unfinished
from campaigns.model import Reject
from campaigns.planning import RunPlan
from campaigns.progress import PACE_SAMPLE_S, Progress, progress
from dialer.campaign import CampaignConfig, CampaignState
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


def after_load(
    console: Console,
    store: Store,
    plan: RunPlan,
    submitted: Submission,
    rejects: list[Reject],
    *,
    orphans: bool,
) -> bool:
    """What the load gave and did, said once it ends (above the live view); False when there
    is nobody to dial (`orphans`: name the state folder's other unfinished campaigns)."""
    cid = submitted.config.campaign_id
    loaded(
        console,
        plan.source,
        seen(submitted.loaded),  # the file's, not every contact the campaign had
        rejects,
        plan.rejects_path,
        plan.contact_file.warnings,
        dialled=submitted.loaded.kept,
    )
    if store.total(cid) == 0:
        console.print("[bold red]No valid contact to dial[/]; nothing was dialled.")
        return False
    _announce(console, store.campaign_state(cid), submitted, store.total(cid))
    if orphans:
        _name_orphans(console, store, cid)
    return True


def _announce(
    console: Console, state: CampaignState | None, submitted: Submission, total: int
) -> None:
    """Say what running the list again did to its campaign."""
    cid, loaded = submitted.config.campaign_id, submitted.loaded
    if not submitted.resumed:
        return
    console.print(
        f"Resuming campaign [bold]{cid}[/]: added {loaded.added}, kept {loaded.kept} (already "
        f"dialled or final), updated {loaded.updated}, removed {loaded.removed} (no longer in "
        "the list); nobody already dialled is dialled again."
    )
    for change in submitted.changes:
        console.print(f"  {change}")
    if state is CampaignState.DONE:
        console.print(
            f"Campaign [bold]{cid}[/] is finished ({total} contacts); writing its results. To "
            "dial this list again on purpose, give a new --campaign name."
        )


def _name_orphans(console: Console, store: Store, cid: str) -> None:
    """Other unfinished campaigns of this state folder: this run does not dial them."""
    for other in unfinished(store, but=cid):
        again = shlex.join(
            ["dialer", "run", other.config.source or "FILE", "--campaign", other.config.campaign_id]
        )
        console.print(
            f"[bold yellow]Not dialled by this run:[/] campaign {other.config.campaign_id} "
            f"({escape(other.config.source or 'list unknown')}, {other.state.value}), "
            f"{other.live} contacts left.",
            highlight=False,
            soft_wrap=True,
        )
        console.print(
            f"  To resume: {again}   (with its options)",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        console.print(
            f"  To cancel: dialer cancel {other.config.campaign_id}",
            highlight=False,
            soft_wrap=True,
        )


def progress_table(now: Progress, config: CampaignConfig, reading: int | None = None) -> Table:
    """The live view: dialled, in progress, done by status, waiting, the recent pace and ETA
    (and, while the list still loads, the `reading` rows read so far)."""
    table = Table(
        title=f"Campaign {config.campaign_id} ({_state(now, reading)})", show_header=False
    )
    for label, value in figures(now, config, reading):
        table.add_row(label, value)
    return table


def _loading(reading: int) -> str:
    return f"loading the list: {reading} rows read so far"


def _state(now: Progress, reading: int | None) -> str:
    """The state shown: never `done` while the list still loads (more rows may come)."""
    return now.shown_state if reading is None else now.state.value


def figures(
    now: Progress, config: CampaignConfig, reading: int | None = None
) -> list[tuple[str, str]]:
    """The live view's lines as (label, value); `reading`: rows read while the list loads."""
    rows = [("list", _loading(reading))] if reading is not None else []
    rows += [
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


def line(now: Progress, config: CampaignConfig, reading: int | None = None) -> str:
    """The progress as one plain line, for logs (no terminal); `reading`: rows read while the
    list loads."""
    finals = ", ".join(
        f"{s.value} {now.counts[s.value]}"
        for s in sorted(FINAL_STATES, key=_ORDER.index)
        if now.counts.get(s.value)
    )
    parts = [
        f"{datetime.now(UTC):%H:%M:%S} {config.campaign_id} {_state(now, reading)}:",
        *([f"{_loading(reading)},"] if reading is not None else []),
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


class LiveView:
    """One campaign followed live: a table at a terminal (rich's `Live`: what is printed
    meanwhile goes above it), else a plain line every `every_s` seconds when something changed
    (and always the last one). Open while the list still loads: `loading` is told of each
    batch, and the view starts once the campaign dials; `follow` then goes on to the end."""

    def __init__(
        self,
        console: Console,
        store: Store,
        config: CampaignConfig,
        every_s: float,
        trouble: Trouble | None = None,
    ) -> None:
        self.console, self.store, self.config, self.every_s = console, store, config, every_s
        self.trouble = trouble or Trouble(console)
        self.reading: int | None = None  # rows read while the list loads; None once loaded
        self._live: Live | None = None
        self._read_at = -watch.FOLLOW_EVERY_S  # when the progress was last read while loading
        self._shown: tuple[object, ...] = ()
        self._printed_at = time.monotonic() - every_s

    def __enter__(self) -> LiveView:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def loading(self, reading: Reading) -> None:
        """Between two batches of the load: once the campaign dials, the view shows it and how
        many rows were read (the store is read at most every `watch.FOLLOW_EVERY_S`)."""
        if not reading.dialling:
            return
        self.reading = reading.rows
        if time.monotonic() - self._read_at >= watch.FOLLOW_EVERY_S:
            self._read_at = time.monotonic()
            self.show(progress(self.store, self.config.campaign_id))

    def follow(self, results: Path) -> Progress:
        """Follow the campaign until it ends (its list loaded), its results file written."""
        self.reading = None
        cid = self.config.campaign_id
        return watch.follow(self.store, cid, results, self.show, on_trouble=self.trouble)

    def show(self, now: Progress) -> None:
        """Show this progress: the table, or a plain line when it is due."""
        if not self.console.is_terminal:
            self._line(now)
            return
        if self._live is None:
            self._live = Live(console=self.console, refresh_per_second=4, transient=False)
            self._live.start()
        self._live.update(progress_table(now, self.config, self.reading))

    def _line(self, now: Progress) -> None:
        key: tuple[object, ...] = (now.shown_state, now.dialled, tuple(sorted(now.counts.items())))
        key += (bool(now.trouble), self.reading)
        since = time.monotonic() - self._printed_at
        changed = key != self._shown and (since >= self.every_s or watch.finished(now))
        if changed or since >= max(self.every_s, QUIET_LINE_S):  # a line a minute when still
            text = line(now, self.config, self.reading)
            self.console.print(text, highlight=False, markup=False)
            self._shown, self._printed_at = key, time.monotonic()

    def close(self) -> None:
        """Leave the table as it was last shown."""
        if self._live is not None:
            self._live.stop()
            self._live = None
            self.console.print()


def follow_live(
    console: Console,
    store: Store,
    config: CampaignConfig,
    results: Path,
    every_s: float,
    trouble: Trouble | None = None,
) -> Progress:
    """Follow the campaign until it ends (`LiveView`)."""
    with LiveView(console, store, config, every_s, trouble) as view:
        return view.follow(results)


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
