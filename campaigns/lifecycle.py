"""A campaign's lifecycle, written once: every door (`dialer run` and `retry`, the server's
create and retry, the scheduler's firing, the test call) calls these functions.

    identify   which campaign a list is (its own, found by its path, or the one named)
    load       refuse the do-not-call numbers, stream the list in (one pass), apply options;
               the campaign dials from its first batch stored while the rest is read; the
               preflight screens it as it goes (`Screen`), a door watches it (`Reading`)
    start      let it dial; pause, resume, cancel steer it afterwards

Dialling while loading: the campaign starts once its first batch is stored. Until the load ends
the store marks it as loading (it is not finished while everything stored so far is settled),
and a resumed campaign dials only the contacts this load has reached: its other pending
contacts are held, and those the list no longer has are canceled when the load ends. A load
that fails pauses the campaign; one killed part-way stops being marked as loading within
`LOAD_TTL_S`, and the next run of the list resumes it.

No door loads contacts or starts a campaign by itself (tests/test_structure.py checks it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TextIO

from campaigns import resuming
from campaigns.contacts import LoadOptions
from campaigns.model import Contact, Reject
from campaigns.planning import RunPlan, open_path, plan_run, stream
from campaigns.reselect import select_rows
from campaigns.when import add_schedule
from dialer.account import DEFAULT_ACCOUNT
from dialer.campaign import CampaignConfig, CampaignState
from dialer.errors import InputError
from dialer.private import open_private, private_dir
from dialer.run_options import RunOptions
from dialer.settings import Settings
from dialer.store import ContactState, Loaded, Store, hash_fields
from dialer.store.canceling import cancel_pending
from dialer.store.listing import Overview

OWN = {"webhook_secret", "results_path"}  # a campaign's own, never copied to its retry
FIRST_PART = 200  # contacts stored before a new load starts dialling (one run of the add script)


@dataclass(frozen=True)
class Submission:
    """What submitting a list did: its campaign as stored now, and what changed in it."""

    config: CampaignConfig
    resumed: bool  # the campaign existed already
    loaded: Loaded  # contacts added, kept, updated and removed
    changes: list[str]  # options applied to a resumed campaign, said as "rate 1/s -> 2/s"
    reopened: bool = False  # a finished campaign given new numbers to dial


def campaign_of(
    settings: Settings, contacts: Path, opts: RunOptions, campaign: str
) -> CampaignConfig:
    """The settings a campaign of `contacts` would have (the test call's), the file closed."""
    chosen = plan_run(settings, contacts, opts, campaign=campaign)
    chosen.contact_file.close()
    return chosen.config


def identify(store: Store, plan: RunPlan) -> RunPlan:
    """The plan, given its list's campaign id (asked once per run: the plan keeps it)."""
    if not plan.identified:
        plan.config = resuming.identify(store, plan.config, named=plan.named)
        plan.identified = True
    return plan


def listed_numbers(store: Store, config: CampaignConfig) -> frozenset[str]:
    """The numbers on the do-not-call list of the campaign's account (rejected at load)."""
    return store.dnc_numbers(config.account or DEFAULT_ACCOUNT)


def open_rejects(path: Path) -> TextIO:
    """The rejects file, opened private (0600) in a private folder, as every door writes it."""
    private_dir(path.parent)
    return open_private(path, "w", encoding="utf-8", newline="")


class Screen(Protocol):
    """What checks a list as it loads (the preflight's `Checking`): each valid row, which it
    may refuse, then each batch to dial once it is stored."""

    def refuse(self, contact: Contact) -> Reject | None:
        """Why this contact is not to be dialled; None when it is."""

    def stored(self, batch: Sequence[Contact]) -> None:
        """This batch is stored (counted, never kept)."""


class _Unscreened:
    """Every valid row is dialled; nothing is counted."""

    def refuse(self, contact: Contact) -> Reject | None:
        return None

    def stored(self, batch: Sequence[Contact]) -> None:
        pass


@dataclass(frozen=True)
class Reading:
    """A load as it goes, for a door to show between batches."""

    rows: int  # rows read so far: contacts and rejects
    dialling: bool  # its campaign dials already


def load(
    store: Store,
    plan: RunPlan,
    rejects: list[Reject],
    *,
    screen: Screen | None = None,
    watch: Callable[[Reading], None] | None = None,
    keep_results: bool = True,
    start: bool = True,
) -> Submission:
    """Refuse the do-not-call numbers, then read the list once, streamed, into its campaign
    (created, or resumed with the options given); the rejects file is written at the end.

    `keep_results`: store where the results file goes (a worker writes it when the campaign
    ends); `screen` refuses more rows as they stream by and counts each batch stored; `watch`
    is told how far the load is after each batch. `start`: the campaign dials from its first
    batch stored, while the rest is read (else `start` does that afterwards).
    """
    config = identify(store, plan).config
    if keep_results:
        config = config.model_copy(update={"results_path": str(plan.results.resolve())})
    plan.contact_file.refuse_also(listed_numbers(store, config))
    out = open_rejects(plan.rejects_path)
    screen = screen or _Unscreened()
    batches = stream(plan.contact_file, out, rejects, refuse=screen.refuse, bom=config.results_bom)
    under_way = _Loading(store, config.campaign_id, start, screen, watch, rejects)
    return _submit(store, config, batches, plan.given, under_way)


def submit(
    store: Store,
    config: CampaignConfig,
    batches: Iterable[Sequence[Contact]],
    *,
    named: bool = True,
    given: frozenset[str] = frozenset(),
    start: bool = False,
) -> Submission:
    """Create the list's campaign (or find it, to resume) and load its contacts by number.

    Without `named`, the campaign is the list's own (found by its path). Loading is
    idempotent, so a load cut short by a crash is completed on the next run, and a contact
    already dialled is never made pending again. A resumed campaign takes the options `given`.
    `start`: it dials from its first batch stored (else `start` does that afterwards).
    """
    config = resuming.identify(store, config, named=named)
    return _submit(store, config, batches, given, _Loading(store, config.campaign_id, start))


def _submit(
    store: Store,
    config: CampaignConfig,
    batches: Iterable[Sequence[Contact]],
    given: frozenset[str],
    under_way: _Loading,
) -> Submission:
    cid = config.campaign_id
    created = store.create_campaign(config)
    changes: list[str] = []
    if not created:
        config, changes = _apply_options(store, config, given)
    if config.source:
        store.remember_list(config.source, cid)
    loaded = _load_contacts(store, config, batches, under_way, created=created)
    under_way.reopen(loaded)  # not started: a finished campaign given new numbers
    return Submission(config, not created, loaded, changes, under_way.reopened)


@dataclass
class _Loading:
    """A load under way: whether its campaign dials yet, and whether it was reopened; what
    screens its batches and who watches it."""

    store: Store
    cid: str
    start: bool
    screen: Screen = field(default_factory=_Unscreened)
    watch: Callable[[Reading], None] | None = None
    rejects: Sequence[Reject] = ()  # the load's rejects so far
    started: bool = False
    reopened: bool = False

    def parts(self, batch: Sequence[Contact]) -> list[Sequence[Contact]]:
        """The batch in the parts to store: until the campaign dials, its first few contacts
        on their own, so that dialling starts as soon as they are stored."""
        if not self.start or self.started or len(batch) <= FIRST_PART:
            return [batch]
        return [batch[:FIRST_PART], batch[FIRST_PART:]]

    def stored(self, loaded: Loaded) -> None:
        """A part is stored (`loaded`: so far): the campaign dials from the first part with
        contacts in it, and the watcher is told how far the load is."""
        if self.start and not self.started and seen(loaded) and self.reopen(loaded):
            start(self.store, self.cid)
            self.started = True
        self.tell(loaded)

    def counted(self, batch: Sequence[Contact], loaded: Loaded) -> None:
        """A batch is stored: screened (counted now, so that the first call never waits for
        it), and the watcher told again (counting a batch takes a while)."""
        self.screen.stored(batch)
        self.tell(loaded)

    def tell(self, loaded: Loaded) -> None:
        """Tell the watcher how far the load is."""
        if self.watch is not None:
            self.watch(Reading(seen(loaded) + len(self.rejects), self.started))

    def reopen(self, loaded: Loaded) -> bool:
        """A finished campaign given new numbers is paused, to be started (False: it stays
        finished, nothing new to dial)."""
        if self.store.campaign_state(self.cid) is not CampaignState.DONE:
            return True
        self.reopened = loaded.added > 0
        if self.reopened:
            self.store.set_campaign_state(self.cid, CampaignState.PAUSED)
        return self.reopened

    def failed(self) -> None:
        """The load failed part-way: a campaign already dialling is paused."""
        if self.started:
            with contextlib.suppress(Exception):  # the load's own error is the one to report
                pause(self.store, self.cid)


def _apply_options(
    store: Store, config: CampaignConfig, given: frozenset[str]
) -> tuple[CampaignConfig, list[str]]:
    stored = store.campaign(config.campaign_id)
    config, changes = resuming.apply_options(stored, config, given)
    if changes:
        store.reconfigure(config)
    if resuming.calling_times_changed(stored, config):
        reschedule(store, config)
    return config, changes


def _load_contacts(
    store: Store,
    config: CampaignConfig,
    batches: Iterable[Sequence[Contact]],
    under_way: _Loading,
    *,
    created: bool,
) -> Loaded:
    cid = config.campaign_id
    load = store.begin_load(cid, hold=not created)  # resumed: dial only what this load reached
    schedule = add_schedule(config, datetime.now(UTC))
    loaded = Loaded()
    try:
        with store.keep_loading(cid, load):
            for batch in batches:
                for part in under_way.parts(batch):
                    loaded += store.add_contacts(cid, part, config.columns, schedule, load=load)
                    under_way.stored(loaded)
                under_way.counted(batch, loaded)
            # A campaign this load created holds only this load's rows: none to settle, and
            # reading every pending contact back cost 27 s at a million rows. A list with no
            # usable contact at all (a wrong file, an emptied export) settles nothing either:
            # it would cancel everyone (its held contacts are released as they were).
            loaded.removed = 0 if created or not seen(loaded) else store.end_load(cid, load)
    except BaseException:
        under_way.failed()
        raise
    finally:
        with contextlib.suppress(Exception):
            store.finish_load(cid, load)
    if not created and not seen(loaded):
        store.release_held(cid)
    return loaded


def seen(loaded: Loaded) -> int:
    """How many of the campaign's numbers this load's list held."""
    return loaded.added + loaded.updated + loaded.kept + loaded.unchanged


def reschedule(store: Store, config: CampaignConfig, batch: int = 1000) -> None:
    """Make the pending first attempts due by the campaign's calling times as they are now
    (changed when it resumed); retries keep their delays."""
    now = datetime.now(UTC)
    schedule = add_schedule(config, now)
    rows = store.pending_rows(config.campaign_id)
    for start_at in range(0, len(rows), batch):
        for contact in store.contacts(config.campaign_id, rows[start_at : start_at + batch]):
            if contact is None or contact.state is not ContactState.PENDING or contact.attempt > 1:
                continue
            who = Contact(contact.source_row, contact.phone, {}, timezone=contact.timezone or None)
            due, why = schedule(who) if schedule else (0, "")
            wait_ms = max(0, due - round(now.timestamp() * 1000)) if due else 0
            store.transition(
                config.campaign_id,
                contact.member,
                ContactState.PENDING,
                ready_in_ms=wait_ms,
                fields=hash_fields(waiting=why),
                read=contact,
            )


def start(store: Store, cid: str) -> None:
    """Let the campaign dial (also resumes a paused one). Contacts a load killed part-way left
    held are due again as they were (the next run of the list settles them)."""
    if store.campaign_state(cid) is not CampaignState.DONE:
        store.release_held(cid)  # none while a load is under way
        store.set_campaign_state(cid, CampaignState.RUNNING)


def pause(store: Store, cid: str) -> None:
    """Dial nobody new (calls in progress finish)."""
    store.set_campaign_state(cid, CampaignState.PAUSED)


def pause_interrupted(store: Store, cid: str) -> CampaignState | None:
    """Pause a running campaign whose run was interrupted; returns its state after.

    No reason is recorded: a person stopped it, so `dialer resume` or the same run goes on.
    """
    state = store.campaign_state(cid)
    if state is CampaignState.RUNNING:
        pause(store, cid)
        return CampaignState.PAUSED
    return state


def cancel(store: Store, cid: str) -> int:
    """Stop for good: contacts not yet dialled become canceled (returns how many); calls in
    progress finish and are followed."""
    store.set_campaign_state(cid, CampaignState.CANCELED)
    return cancel_pending(store, cid)  # in batches, one log line


def unfinished(store: Store, *, but: str = "") -> list[Overview]:
    """Campaigns with contacts still to dial or follow (not canceled), except `but`."""
    return [
        seen
        for seen in store.overviews(store.campaign_ids())
        if seen.config.campaign_id != but
        and seen.state in (CampaignState.RUNNING, CampaignState.PAUSED)
        and seen.live > 0
    ]


@dataclass(frozen=True)
class RetryList:
    """A retry's contacts, selected from an earlier campaign's results into a list of its own."""

    contacts: Path
    rows: int


def select_retry(results: Path, statuses: set[str], contacts: Path) -> RetryList:
    """Copy the rows of `results` that ended with one of `statuses` to `contacts` (removed when
    none did)."""
    rows = select_rows(results, statuses, contacts)[0]
    if rows == 0:
        contacts.unlink(missing_ok=True)
    return RetryList(contacts, rows)


def retry_plan(earlier: CampaignConfig, new: str, picked: RetryList, folder: Path) -> RunPlan:
    """The plan of a retry campaign: the earlier campaign's settings (but what the store gives
    a campaign of its own), the selected list, its files in `folder`."""
    try:
        contact_file = open_path(picked.contacts, LoadOptions())
    except InputError:
        picked.contacts.unlink(missing_ok=True)
        raise
    settings: dict[str, Any] = {
        **earlier.model_dump(exclude=OWN),
        "campaign_id": new,
        "columns": tuple(contact_file.columns),
        "variable_columns": tuple(contact_file.variable_columns),
        "source": str(picked.contacts),
    }
    config = CampaignConfig.model_validate(settings)
    return RunPlan(
        config,
        contact_file,
        picked.contacts,
        folder / "rejects.csv",
        folder / "results.csv",
        LoadOptions(),
        named=True,
    )
