"""Fresh recording links for an export: OneInbox signs a call's `recording_url` for about four
hours from when the call is read, and signs a new one on every read.

An expired link is found by reading its expiry from the link itself: `expires`/`Expires` (a unix
time, as S3's older links and CloudFront's give it) or `X-Amz-Date` + `X-Amz-Expires` (S3's
SigV4). A link that says neither is read again too: it cannot be told to work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from dialer.errors import ProviderError
from dialer.models import Call
from dialer.store import ContactRecord, hash_fields

MARGIN = timedelta(minutes=5)  # a link this close to its expiry is fetched again too


def link_expiry(url: str) -> datetime | None:
    """When the signed link stops working, or None when it does not say."""
    query = {k.lower(): v[-1] for k, v in parse_qs(urlsplit(url).query).items()}
    try:
        if "expires" in query:
            return datetime.fromtimestamp(int(query["expires"]), UTC)
        if "x-amz-date" in query and "x-amz-expires" in query:
            signed = datetime.strptime(query["x-amz-date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            return signed + timedelta(seconds=int(query["x-amz-expires"]))
    except (ValueError, OverflowError, OSError):
        return None
    return None


def link_expired(url: str, now: datetime) -> bool:
    """Whether the link is expired (or about to be, or cannot be told)."""
    expiry = link_expiry(url)
    return expiry is None or expiry - MARGIN <= now


@dataclass
class Refreshed:
    """What a refresh did: links fetched again, and calls that could not be read."""

    fetched: int = 0
    failed: int = 0
    last_error: str = ""


def refresh_recordings(
    contacts: Iterable[ContactRecord],
    get_call: Callable[[str], Call],
    now: datetime,
    tally: Refreshed,
) -> Iterator[ContactRecord]:
    """The contacts, each expired recording link replaced by a fresh one from its call (a call
    that cannot be read keeps its old link, counted in `tally`)."""
    for contact in contacts:
        if not (contact.call_id and contact.recording_url) or not link_expired(
            contact.recording_url, now
        ):
            yield contact
        else:
            yield _fresh(contact, get_call, tally)


def _fresh(
    contact: ContactRecord, get_call: Callable[[str], Call], tally: Refreshed
) -> ContactRecord:
    try:
        call = get_call(contact.call_id)
    except ProviderError as exc:
        tally.failed += 1
        tally.last_error = f"call {contact.call_id}: {exc}"
        return contact
    tally.fetched += 1
    return contact.with_fields(hash_fields(recording_url=call.recording_url))
