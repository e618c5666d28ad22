"""Following a campaign to its end, and writing its results file (now, or as it goes)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path

from campaigns.excel import CsvStyle
from campaigns.progress import Progress, progress
from campaigns.results import write_results
from dialer.campaign import CampaignState
from dialer.store import ContactRecord, Store

RESULTS_EVERY_S = 5.0
FOLLOW_EVERY_S = 0.5


def export(
    store: Store,
    cid: str,
    path: Path,
    *,
    attempts: bool = False,
    amend: Callable[[Iterable[ContactRecord]], Iterable[ContactRecord]] | None = None,
) -> int:
    """Write the campaign's results file now; returns the number of rows in it.

    One row per contact (its latest attempt), or with `attempts` one row per attempt made;
    `amend` may change the rows on their way (fresh recording links).
    """
    config = store.campaign(cid)
    contacts: Iterable[ContactRecord] = store.iter_contacts(cid)
    if attempts:
        contacts = every_attempt(store, cid, contacts)
    style = CsvStyle(config.delimiter, config.results_bom)
    rows = amend(contacts) if amend else contacts
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
    on_trouble: Callable[[str], None] = lambda _: None,
) -> Progress:
    """Watch the campaign until it is done or stopped, refreshing the results file as it goes.

    A results file that cannot be written stops nothing: `on_trouble` is told why (once per
    change, '' when it is written again) and the dialling goes on.
    """
    last_write = time.monotonic()
    said = ""
    while True:
        now = progress(store, cid)
        on_progress(now)
        if finished(now) or time.monotonic() - last_write >= RESULTS_EVERY_S:
            why = _export(store, cid, results)
            if why != said:
                on_trouble(why)
            said, last_write = why, time.monotonic()
        if finished(now):
            return now
        sleep(FOLLOW_EVERY_S)


def _export(store: Store, cid: str, results: Path) -> str:
    """Write the results file; '' when it was written, else why not in one line."""
    try:
        export(store, cid, results)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return (
            f"results not written to {results} ({reason}); dialling goes on, and "
            f"`dialer export {cid} --results OTHER.csv` writes them"
        )
    return ""
