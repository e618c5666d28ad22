"""Placing one call, as plain functions over the store and client (`dialer.following` follows it).

Celery tasks call `place` and `following.follow`; so do the tests, without Celery. Every step that
changes a contact goes through a compare-and-set transition: a duplicate, late or redelivered
task finds the contact already moved on and does nothing.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from dialer.campaign import CampaignConfig, State
from dialer.client import OneInboxClient
from dialer.errors import (
    Ambiguous,
    AuthError,
    ProviderError,
    RateLimited,
    Retryable,
)
from dialer.models import Call, CallRequest
from dialer.pace import pace_for
from dialer.policy import (
    Anytime,
    Timing,
    When,
    next_poll_s,
)
from dialer.store import Claim, Store

log = logging.getLogger("dialer.calls")

RETRY_SOON_MS = 2000  # a create that never reached OneInbox is tried again after this


@dataclass
class Dispatcher:
    """What one worker process needs to place and follow calls."""

    store: Store
    client: OneInboxClient
    timing: Timing = field(default_factory=Timing)
    when: When = field(default_factory=Anytime)
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    clock: Callable[[], float] = time.monotonic  # for sleeping until an instant
    _configs: dict[str, CampaignConfig] = field(default_factory=dict)

    def campaign(self, cid: str) -> CampaignConfig:
        """The campaign's settings, read once per process (they never change)."""
        if cid not in self._configs:
            if len(self._configs) > 256:
                self._configs.clear()
            self._configs[cid] = self.store.campaign(cid)
        return self._configs[cid]


def ms(seconds: float) -> int:
    """Seconds as whole milliseconds, never negative."""
    return max(0, round(seconds * 1000))


def note(event: str, cid: str, row: int, **extra: object) -> None:
    """Why a transition happened (the store logs the transition itself)."""
    log.debug(event, extra={"campaign": cid, "row": row, **extra})


# -- placing ---------------------------------------------------------------------------------


def place_many(d: Dispatcher, cid: str, rows: list[int]) -> None:
    """`place` each row in turn; their contacts are read in one round trip."""
    for row, contact in zip(rows, d.store.contacts(cid, rows), strict=True):
        place(d, cid, row, contact)


def place(d: Dispatcher, cid: str, row: int, contact: dict[str, str] | None = None) -> None:
    """Dial one pending contact: check its calling time, claim it, send the create, record.

    `contact` (read just before) decides only whether to try; the create is built from the
    fields the claim itself returns.
    """
    config = d.campaign(cid)
    if contact is None:
        contact = d.store.contact(cid, row)
    if not _time_to_call(d, config, row, contact):
        return
    claim = _claim(d, config, row)
    if not claim.won:
        if claim.reason != "not_pending":
            d.store.transition(cid, row, State.PENDING, ready_in_ms=ms(claim.wait_s), seen=contact)
        return
    request = build_request(config, row, claim.contact, send=claim.send)
    if not claim.guard_passed:
        _pass_send_guard(d, config)
    sent_at = d.now()
    dialing = {"state": State.DIALING.value, "attempt": claim.contact.get("attempt", "1")}
    try:
        call = d.client.create_call(request)
    except ProviderError as exc:
        _create_failed(d, config, row, exc, sent_at, dialing)
        return
    record_placed(d, cid, row, call, polls=0, seen=dialing)


def _time_to_call(d: Dispatcher, config: CampaignConfig, row: int, contact: dict[str, str]) -> bool:
    """True when the contact may be dialled now; otherwise it waits (or expires)."""
    if contact.get("state") != State.PENDING:
        return False
    now = d.now()
    at, why = d.when.dial_at(config, contact, now)
    if at is None:
        d.store.transition(
            config.campaign_id, row, State.EXPIRED, fields={"waiting": why}, seen=contact
        )
        note("contact expired", config.campaign_id, row, reason=why)
        return False
    if at > now:
        wait_ms = ms((at - now).total_seconds())
        d.store.transition(
            config.campaign_id,
            row,
            State.PENDING,
            ready_in_ms=wait_ms,
            fields={"waiting": why, "due_at": at.isoformat()},
            seen=contact,
        )
        return False
    return True


def _claim(d: Dispatcher, config: CampaignConfig, row: int) -> Claim:
    """Claim the contact and its send slot; wait for the slot (at most the pace's `max_wait_s`),
    counted from when the claim was sent: a reply read late in a busy process does not delay the
    send."""
    pace = pace_for(config.rate_per_s)
    asked = d.clock()
    claim = d.store.claim(
        config.campaign_id,
        row,
        pace=pace,
        max_concurrent=config.max_concurrent,
        lease_s=d.timing.lease_s,
        stuck_s=d.timing.stuck_s + pace.max_wait_s,  # its wait for the slot is not "stuck"
    )
    if claim.won:
        _sleep_until(d, asked + claim.wait_s)
    return claim


def _sleep_until(d: Dispatcher, deadline: float) -> None:
    left = deadline - d.clock()
    if left > 0:
        d.sleep(left)


def _pass_send_guard(d: Dispatcher, config: CampaignConfig) -> None:
    """Wait until the send guard lets this create go (at once, unless the sends bunched up)."""
    pace = pace_for(config.rate_per_s)
    while (wait := d.store.pass_send_guard(config.campaign_id, pace)) > 0:
        d.sleep(wait)


def attempt_id(cid: str, row: int, attempt: int) -> str:
    """The identity of one attempt, carried in the create's metadata."""
    return f"{cid}:{row}:{attempt}"


def build_request(
    config: CampaignConfig, row: int, contact: dict[str, str], *, send: int
) -> CallRequest:
    """The create for this contact: the row's own agent and from-number win over the campaign's."""
    attempt = int(contact.get("attempt", "1"))
    values = json.loads(contact.get("row", "[]"))
    by_column = dict(zip(config.columns, values, strict=False))
    variables = {name: str(by_column.get(name, "")) for name in config.variable_columns}
    return CallRequest(
        agent_id=contact.get("agent_id") or config.agent_id,
        to_number=contact["phone"],
        from_number=contact.get("from_number") or config.from_number,
        variables=variables,
        webhook_url=config.webhook_target,
        metadata={
            "dialer_attempt_id": attempt_id(config.campaign_id, row, attempt),
            "dialer_campaign": config.campaign_id,
            "dialer_row": str(row),
            "dialer_attempt": str(attempt),
            "dialer_send": str(send),
        },
    )


def _create_failed(
    d: Dispatcher,
    config: CampaignConfig,
    row: int,
    exc: ProviderError,
    sent_at: datetime,
    seen: dict[str, str],
) -> None:
    cid = config.campaign_id
    move = functools.partial(d.store.transition, cid, row, seen=seen)
    if isinstance(exc, RateLimited):
        d.store.slow_down(cid, exc.retry_after or 1.0)
        move(State.PENDING, ready_in_ms=ms(exc.retry_after or 1.0))
        note("create rate limited", cid, row)
    elif isinstance(exc, Retryable):
        move(State.PENDING, ready_in_ms=RETRY_SOON_MS, fields={"error": str(exc)})
        note("create not sent", cid, row, error=str(exc))
    elif isinstance(exc, AuthError):
        move(State.PENDING, ready_in_ms=0)
        d.store.abort(cid, f"OneInbox refused the API key: {exc}")
        note("campaign stopped: API key refused", cid, row)
    elif isinstance(exc, Ambiguous):
        move(
            State.RECONCILING,
            lease_ms=ms(d.timing.lease_s),
            watch_in_ms=1000,
            fields={"sent_at": sent_at.isoformat(), "error": f"create uncertain: {exc}"},
        )
        note("create uncertain, reconciling", cid, row, error=str(exc))
    else:
        move(State.ERROR, fields={"error": str(exc)})
        note("create refused", cid, row, error=str(exc))


def record_placed(
    d: Dispatcher, cid: str, row: int, call: Call, *, polls: int, seen: dict[str, str]
) -> None:
    """The create was answered (or found): the contact is placed and its call followed."""
    fields = call_fields(call)
    fields.update(placed_at=d.now().isoformat(), polls=str(polls), error="")
    if d.store.transition(
        cid,
        row,
        State.PLACED,
        lease_ms=ms(d.timing.lease_s),
        watch_in_ms=ms(next_poll_s(polls, d.timing)),
        fields=fields,
        seen=seen,
    ):
        if d.campaign(cid).webhook_url:  # only webhooks need to find a contact by call id
            d.store.index_call(call.id, cid, row)
        note("call placed", cid, row, call_id=call.id)


def call_fields(call: Call) -> dict[str, str]:
    def text(value: object) -> str:
        return "" if value is None else str(value)

    return {
        "call_id": call.id,
        "call_status": call.status,
        "end_reason": text(call.end_reason),
        "outcome": text(call.outcome_label()),
        "duration_seconds": text(call.duration_seconds),
        "started_at": call.started_at.isoformat() if call.started_at else "",
        "ended_at": call.ended_at.isoformat() if call.ended_at else "",
        "summary": text(call.summary_text()),
        "transcript": call.transcript_text(),
    }
