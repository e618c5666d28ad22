"""One `dialer run`: submit a campaign to Redis, make sure workers serve it, follow it to the end.

The CLI owns the display; this module owns the sequence. With DIALER_REDIS_URL unset it starts
the embedded stack (a private redis-server and one worker process) and stops it afterwards;
with it set, it submits to that Redis and relies on `dialer worker` processes.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from campaigns import resuming
from campaigns.excel import CsvStyle
from campaigns.model import Contact
from campaigns.progress import PACE_SAMPLE_S as PACE_SAMPLE_S  # re-exported: callers say session.*
from campaigns.progress import Progress as Progress
from campaigns.progress import Waiting as Waiting
from campaigns.progress import account_wait as account_wait
from campaigns.progress import progress as progress
from campaigns.progress import recent_pace as recent_pace
from campaigns.progress import waiting as waiting
from campaigns.results import write_results
from campaigns.when import add_schedule
from dialer.account import DEFAULT_ACCOUNT
from dialer.campaign import CampaignConfig, CampaignState
from dialer.errors import ConfigError
from dialer.private import private_dir
from dialer.settings import Settings
from dialer.store import (
    ContactRecord,
    ContactState,
    Loaded,
    Store,
    durability,
    hash_fields,
)
from dialer.store.listing import Overview
from workers.stack import embedded_redis, embedded_worker, served_url

RESULTS_EVERY_S = 5.0
FOLLOW_EVERY_S = 0.5


def worker_env(settings: Settings, redis_url: str, *, only: str = "") -> dict[str, str]:
    """The environment an embedded worker needs (the key travels here, never in argv).

    `only`: the one campaign its tick serves (a `dialer run`'s); empty, every campaign.
    """
    env = {
        "DIALER_REDIS_URL": redis_url,
        "DIALER_SERVE_ONLY": only,
        "ONEINBOX_BASE_URL": settings.base_url,
        "DIALER_CONNECT_TIMEOUT": str(settings.connect_timeout),
        "DIALER_READ_TIMEOUT": str(settings.read_timeout),
        "DIALER_TIMING": settings.timing,
        "DIALER_LOG_FORMAT": settings.log_format,
    }
    if settings.account_rate:
        env["DIALER_ACCOUNT_RATE"] = settings.account_rate
    if settings.account_max_concurrent:
        env["DIALER_ACCOUNT_MAX_CONCURRENT"] = str(settings.account_max_concurrent)
    if settings.api_key is not None:
        env["ONEINBOX_API_KEY"] = settings.api_key.get_secret_value()
    return env


def embedded(settings: Settings) -> bool:
    """True when `open_store` starts the embedded stack (no DIALER_REDIS_URL, no `dialer serve`
    running on the state folder)."""
    return not (settings.redis_url or served_url(settings.state_dir))


@contextlib.contextmanager
def open_store(
    settings: Settings,
    *,
    workers: int = 1,
    concurrency: int = 16,
    only: str | Callable[[Store], str] = "",
) -> Iterator[Store]:
    """The campaign store, with the embedded stack started around it when needed.

    A running `dialer serve` on the same state folder lends its Redis and its worker. The
    embedded workers serve only campaign `only` when it is given (or `only(store)`, asked once
    Redis is up): other unfinished campaigns of the state folder wait for their own run.
    """
    url = settings.redis_url or served_url(settings.state_dir)
    if url:
        store = Store.from_url(url)
        store.ping()
        yield store
        return
    private_dir(settings.state_dir)
    with embedded_redis(settings.state_dir) as server, contextlib.ExitStack() as stack:
        served = only(Store.from_url(server.url)) if callable(only) else only
        env = worker_env(settings, server.url, only=served)
        for n in range(workers):
            log = settings.state_dir / "logs" / f"worker-{n}.log"
            stack.enter_context(embedded_worker(env, log, concurrency))
        yield Store.from_url(server.url)


def require_durable(store: Store, settings: Settings) -> str:
    """Refuse to dial on a Redis that may lose an acknowledged claim (a crash would then dial its
    contact twice), unless the operator allowed it; returns the warning to show in that case."""
    found = durability(store, settings.redis_wait_replicas)
    if found.durable:
        return ""
    risk = (
        f"Redis at {found.server} can lose a claim: {found.problem}. A lost claim makes its "
        "contact pending again, and it is dialled twice."
    )
    if settings.allow_unsafe_redis:
        return f"{risk} Dialling anyway (--allow-unsafe-redis / DIALER_ALLOW_UNSAFE_REDIS)."
    raise ConfigError(
        f"{risk} Nothing was dialled. To fix it, {found.fix}; or, to accept the risk, pass "
        "--allow-unsafe-redis (or set DIALER_ALLOW_UNSAFE_REDIS=1)."
    )


def listed_numbers(store: Store, config: CampaignConfig) -> frozenset[str]:
    """The numbers on the do-not-call list of the campaign's account (rejected at load)."""
    return store.dnc_numbers(config.account or DEFAULT_ACCOUNT)


@dataclass(frozen=True)
class Submission:
    """What submitting a list did: its campaign as stored now, and what changed in it."""

    config: CampaignConfig
    resumed: bool  # the campaign existed already
    loaded: Loaded  # contacts added, kept, updated and removed
    changes: list[str]  # options applied to a resumed campaign, said as "rate 1/s -> 2/s"
    reopened: bool = False  # a finished campaign given new numbers to dial


def submit(
    store: Store,
    config: CampaignConfig,
    batches: Iterable[Sequence[Contact]],
    *,
    named: bool = True,
    given: frozenset[str] = frozenset(),
) -> Submission:
    """Create the list's campaign (or find it, to resume) and load its contacts by number.

    Without `named`, the campaign is the list's own (found by its path). Loading is
    idempotent, so a load cut short by a crash is completed on the next run, and a contact
    already dialled is never made pending again. A resumed campaign takes the options `given`.
    """
    config = resuming.identify(store, config, named=named)
    cid = config.campaign_id
    created = store.create_campaign(config)
    changes: list[str] = []
    if not created:
        stored = store.campaign(cid)
        config, changes = resuming.apply_options(stored, config, given)
        if changes:
            store.reconfigure(config)
        if resuming.calling_times_changed(stored, config):
            reschedule(store, config)
    if config.source:
        store.remember_list(config.source, cid)
    load = store.begin_load(cid)
    schedule = add_schedule(config, datetime.now(UTC))
    loaded = Loaded()
    for batch in batches:
        loaded += store.add_contacts(cid, batch, config.columns, schedule, load=load)
    loaded.removed = store.end_load(cid, load)
    reopened = loaded.added > 0 and store.campaign_state(cid) is CampaignState.DONE
    if reopened:
        store.set_campaign_state(cid, CampaignState.PAUSED)
    return Submission(config, not created, loaded, changes, reopened)


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
    """Let the campaign dial (also resumes a paused one)."""
    if store.campaign_state(cid) is not CampaignState.DONE:
        store.set_campaign_state(cid, CampaignState.RUNNING)


def pause_interrupted(store: Store, cid: str) -> CampaignState | None:
    """Pause a running campaign whose run was interrupted; returns its state after.

    No reason is recorded: a person stopped it, so `dialer resume` or the same run goes on.
    """
    state = store.campaign_state(cid)
    if state is CampaignState.RUNNING:
        store.set_campaign_state(cid, CampaignState.PAUSED)
        return CampaignState.PAUSED
    return state


def unfinished(store: Store, *, but: str = "") -> list[Overview]:
    """Campaigns with contacts still to dial or follow (not canceled), except `but`."""
    return [
        seen
        for seen in store.overviews(store.campaign_ids())
        if seen.config.campaign_id != but
        and seen.state in (CampaignState.RUNNING, CampaignState.PAUSED)
        and seen.live > 0
    ]


def cancel(store: Store, cid: str) -> int:
    """Stop for good: contacts not yet dialled become canceled (returns how many); calls in
    progress finish and are followed."""
    store.set_campaign_state(cid, CampaignState.CANCELED)
    return sum(
        1
        for row in store.pending_rows(cid)
        if store.transition(cid, row, ContactState.CANCELED) is not None
    )


def export(store: Store, cid: str, path: Path, *, attempts: bool = False) -> int:
    """Write the campaign's results file now; returns the number of rows in it.

    One row per contact (its latest attempt), or with `attempts` one row per attempt made.
    """
    config = store.campaign(cid)
    contacts = store.iter_contacts(cid)
    rows = every_attempt(store, cid, contacts) if attempts else contacts
    style = CsvStyle(config.delimiter, config.results_bom)
    return write_results(path, list(config.columns), rows, style)


def every_attempt(
    store: Store, cid: str, contacts: Iterable[ContactRecord]
) -> Iterator[ContactRecord]:
    """Each contact's finished attempts, then its current one if it was dialled."""
    for contact in contacts:
        earlier = store.attempts(cid, contact.member, contact.attempt)
        for number, old in enumerate(earlier, start=1):
            yield replace(old, attempt=number, sends=1)
        if contact.sends > 0 or contact.attempt == 1:
            yield contact


def finished(now: Progress) -> bool:
    """True when following should stop: all final, cancelled, or stopped by the dialer (a
    campaign paused by a person is still followed: its calls in progress finish)."""
    stopped = now.state is CampaignState.PAUSED and bool(now.reason)
    return now.live == 0 or now.state is CampaignState.CANCELED or stopped


def follow(
    store: Store,
    cid: str,
    results: Path,
    on_progress: Callable[[Progress], None],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Progress:
    """Watch the campaign until it is done or stopped, refreshing the results file as it goes."""
    last_write = time.monotonic()
    while True:
        now = progress(store, cid)
        on_progress(now)
        if finished(now):
            export(store, cid, results)
            return now
        if time.monotonic() - last_write >= RESULTS_EVERY_S:
            export(store, cid, results)
            last_write = time.monotonic()
        sleep(FOLLOW_EVERY_S)
