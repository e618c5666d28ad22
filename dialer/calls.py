"""Placing one call and following it to its end, as plain functions over the store and client.

Celery tasks call `place` and `follow`; so do the tests, without Celery. Every step that
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
from datetime import UTC, datetime, timedelta

from dialer.campaign import CampaignConfig, State
from dialer.client import OneInboxClient
from dialer.errors import (
    Ambiguous,
    AuthError,
    NotFound,
    Permanent,
    ProviderError,
    RateLimited,
    Retryable,
)
from dialer.models import Call, CallRequest
from dialer.policy import (
    SEND_AHEAD_S,
    Anytime,
    Timing,
    When,
    final_state,
    next_poll_s,
    send_limit,
)
from dialer.store import Claim, Store

log = logging.getLogger("dialer.calls")

MAX_PATIENCE_S = SEND_AHEAD_S  # a dial task waits this long at most for its send slot
RETRY_SOON_MS = 2000  # a create that never reached OneInbox is tried again after this
RECONCILE_PAGES = 50  # pages of the call list searched for an uncertain create


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


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def _log(event: str, cid: str, row: int, **extra: object) -> None:
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
            d.store.transition(
                cid, row, State.PENDING, ready_in_ms=_ms(claim.wait_s), seen=contact
            )
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
    _placed(d, cid, row, call, polls=0, seen=dialing)


def _time_to_call(
    d: Dispatcher, config: CampaignConfig, row: int, contact: dict[str, str]
) -> bool:
    """True when the contact may be dialled now; otherwise it waits (or expires)."""
    if contact.get("state") != State.PENDING:
        return False
    now = d.now()
    at, why = d.when.dial_at(config, contact, now)
    if at is None:
        d.store.transition(
            config.campaign_id, row, State.EXPIRED, fields={"waiting": why}, seen=contact
        )
        _log("contact expired", config.campaign_id, row, reason=why)
        return False
    if at > now:
        wait_ms = _ms((at - now).total_seconds())
        d.store.transition(
            config.campaign_id, row, State.PENDING, ready_in_ms=wait_ms,
            fields={"waiting": why, "due_at": at.isoformat()}, seen=contact,
        )
        return False
    return True


def _claim(d: Dispatcher, config: CampaignConfig, row: int) -> Claim:
    """Claim the contact and its send slot; wait for the slot (at most MAX_PATIENCE_S), counted
    from when the claim was sent: a reply read late in a busy process does not delay the send."""
    asked = d.clock()
    claim = d.store.claim(
        config.campaign_id,
        row,
        max_concurrent=config.max_concurrent,
        interval_us=config.interval_us,
        lease_ms=_ms(d.timing.lease_s),
        stuck_ms=_ms(d.timing.stuck_s + MAX_PATIENCE_S),
        max_wait_us=round(MAX_PATIENCE_S * 1_000_000),
        send_limit=send_limit(config.rate_per_s),
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
    limit = send_limit(config.rate_per_s)
    while (wait := d.store.pass_send_guard(config.campaign_id, limit=limit)) > 0:
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
        webhook_url=config.webhook_url,
        metadata={
            "dialer_attempt_id": attempt_id(config.campaign_id, row, attempt),
            "dialer_campaign": config.campaign_id,
            "dialer_row": str(row),
            "dialer_attempt": str(attempt),
            "dialer_send": str(send),
        },
    )


def _create_failed(
    d: Dispatcher, config: CampaignConfig, row: int, exc: ProviderError, sent_at: datetime,
    seen: dict[str, str],
) -> None:
    cid = config.campaign_id
    move = functools.partial(d.store.transition, cid, row, seen=seen)
    if isinstance(exc, RateLimited):
        d.store.slow_down(cid, exc.retry_after or 1.0)
        move(State.PENDING, ready_in_ms=_ms(exc.retry_after or 1.0))
        _log("create rate limited", cid, row)
    elif isinstance(exc, Retryable):
        move(State.PENDING, ready_in_ms=RETRY_SOON_MS, fields={"error": str(exc)})
        _log("create not sent", cid, row, error=str(exc))
    elif isinstance(exc, AuthError):
        move(State.PENDING, ready_in_ms=0)
        d.store.abort(cid, f"OneInbox refused the API key: {exc}")
        _log("campaign stopped: API key refused", cid, row)
    elif isinstance(exc, Ambiguous):
        move(
            State.RECONCILING, lease_ms=_ms(d.timing.lease_s), watch_in_ms=1000,
            fields={"sent_at": sent_at.isoformat(), "error": f"create uncertain: {exc}"},
        )
        _log("create uncertain, reconciling", cid, row, error=str(exc))
    else:
        move(State.ERROR, fields={"error": str(exc)})
        _log("create refused", cid, row, error=str(exc))


def _placed(
    d: Dispatcher, cid: str, row: int, call: Call, *, polls: int, seen: dict[str, str]
) -> None:
    fields = _call_fields(call)
    fields.update(placed_at=d.now().isoformat(), polls=str(polls), error="")
    if d.store.transition(
        cid, row, State.PLACED, lease_ms=_ms(d.timing.lease_s),
        watch_in_ms=_ms(next_poll_s(polls, d.timing)), fields=fields, seen=seen,
    ):
        if d.campaign(cid).webhook_url:  # only webhooks need to find a contact by call id
            d.store.index_call(call.id, cid, row)
        _log("call placed", cid, row, call_id=call.id)


def _call_fields(call: Call) -> dict[str, str]:
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


# -- following -------------------------------------------------------------------------------


def follow(d: Dispatcher, cid: str, row: int) -> None:
    """Do whatever follow-up the contact is due: reconcile a create, or poll its call."""
    contact = d.store.contact(cid, row)
    state = contact.get("state")
    if state == State.DIALING:
        _stuck(d, cid, row, contact)
    elif state == State.RECONCILING:
        reconcile(d, d.campaign(cid), row, contact)
    elif state == State.PLACED:
        poll(d, d.campaign(cid), row, contact)
    else:
        d.store.forget_watch(cid, row)


def _stuck(d: Dispatcher, cid: str, row: int, contact: dict[str, str]) -> None:
    """A create claimed long ago never recorded its answer: its worker died. Reconcile it."""
    d.store.transition(
        cid, row, State.RECONCILING, lease_ms=_ms(d.timing.lease_s), watch_in_ms=0,
        fields={
            "sent_at": (d.now() - timedelta(seconds=d.timing.stuck_s)).isoformat(),
            "error": "the worker sending the create stopped before recording its answer",
        },
        seen=contact,
    )
    _log("create stuck, reconciling", cid, row)


def reconcile(d: Dispatcher, config: CampaignConfig, row: int, contact: dict[str, str]) -> None:
    """Find an uncertain create in OneInbox's call list; dial again only once it surely never
    landed."""
    cid = config.campaign_id
    sent_at = datetime.fromisoformat(contact["sent_at"])
    waited = (d.now() - sent_at).total_seconds()
    key = attempt_id(cid, row, int(contact.get("attempt", "1")))
    try:
        call = d.client.find_call_by_metadata(
            contact.get("agent_id") or config.agent_id, "dialer_attempt_id", key,
            created_after=sent_at - timedelta(minutes=2), max_pages=RECONCILE_PAGES,
        )
    except ProviderError as exc:
        _reconcile_later(d, cid, row, contact, waited, f"cannot search the call list: {exc}")
        return
    if call is not None:
        _placed(d, cid, row, call, polls=0, seen=contact)
    elif waited >= d.timing.reconcile_grace_s:
        if d.store.transition(
            cid, row, State.PENDING, ready_in_ms=0, fields={"error": ""}, seen=contact
        ):
            _log("uncertain create never landed, dialling again", cid, row)
    else:
        _reconcile_later(d, cid, row, contact, waited, contact.get("error", ""))


def _reconcile_later(
    d: Dispatcher, cid: str, row: int, contact: dict[str, str], waited: float, why: str
) -> None:
    if waited >= d.timing.reconcile_limit_s:
        d.store.transition(
            cid, row, State.UNKNOWN,
            fields={
                "error": f"could not tell whether the call was placed after {waited:.0f} s "
                f"({why}); not dialled again automatically"
            },
            seen=contact,
        )
        return
    d.store.transition(
        cid, row, State.RECONCILING, lease_ms=_ms(d.timing.lease_s), watch_in_ms=2000,
        fields={"error": why}, seen=contact,
    )


def poll(d: Dispatcher, config: CampaignConfig, row: int, contact: dict[str, str]) -> None:
    """Read the call; record it as final once it ended and its post-call fields arrived."""
    cid = config.campaign_id
    polls = int(contact.get("polls", "0")) + 1
    placed_for = (d.now() - datetime.fromisoformat(contact["placed_at"])).total_seconds()
    try:
        call = d.client.get_call(contact["call_id"])
    except (NotFound, Permanent, AuthError) as exc:
        d.store.transition(
            cid, row, State.UNKNOWN, fields={"error": f"cannot read the call: {exc}"},
            seen=contact,
        )
        return
    except ProviderError as exc:
        _poll_again(
            d, contact, row, polls, placed_for, config, error=f"cannot read the call: {exc}"
        )
        return
    outcome = final_state(call.status, call.outcome_label())
    if outcome is None:
        _poll_again(d, contact, row, polls, placed_for, config, call=call)
    elif call.post_call_ready() or _post_call_overdue(d, contact):
        _attempt_ended(d, config, row, contact, call, outcome)
    else:
        first = contact.get("final_seen_at") or d.now().isoformat()
        d.store.transition(
            cid, row, State.PLACED, watch_in_ms=_ms(next_poll_s(0, d.timing)),
            fields={**_call_fields(call), "polls": str(polls), "final_seen_at": first},
            seen=contact,
        )


def _attempt_ended(
    d: Dispatcher, config: CampaignConfig, row: int, contact: dict[str, str], call: Call,
    outcome: State,
) -> None:
    """Record the attempt's outcome; then either dial again later or finish the contact."""
    cid = config.campaign_id
    fields = {**_call_fields(call), "error": "", "waiting": ""}
    now = d.now()
    at, why = d.when.retry_at(config, contact, outcome, now)
    if at is None:
        if d.store.transition(cid, row, outcome, fields=fields, seen=contact):
            _log("call ended", cid, row, call_id=call.id, status=outcome.value)
        return
    attempt = int(contact.get("attempt", "1"))
    d.store.archive_attempt(cid, row, attempt, {**contact, **fields, "state": outcome.value})
    retry = {name: "" for name in fields} | {
        "attempt": str(attempt + 1), "sends": "0", "waiting": why, "due_at": at.isoformat(),
        "last_status": outcome.value, "polls": "0", "final_seen_at": "",
    }
    if d.store.transition(
        cid, row, State.PENDING, ready_in_ms=_ms((at - now).total_seconds()), fields=retry,
        seen=contact,
    ):
        _log("attempt ended, will retry", cid, row, call_id=call.id, status=outcome.value)


def _post_call_overdue(d: Dispatcher, contact: dict[str, str]) -> bool:
    seen = contact.get("final_seen_at")
    if not seen:
        return False
    waited = (d.now() - datetime.fromisoformat(seen)).total_seconds()
    return waited >= d.timing.post_call_wait_s


def _poll_again(
    d: Dispatcher, contact: dict[str, str], row: int, polls: int, placed_for: float,
    config: CampaignConfig, *, call: Call | None = None, error: str = "",
) -> None:
    cid = config.campaign_id
    if placed_for > config.max_call_s + d.timing.lease_s:
        d.store.transition(
            cid, row, State.UNKNOWN,
            fields={"error": f"the call did not end within {config.max_call_s:.0f} s"},
            seen=contact,
        )
        return
    fields = _call_fields(call) if call is not None else {}
    fields.update(polls=str(polls), error=error)
    d.store.transition(
        cid, row, State.PLACED, lease_ms=_ms(d.timing.lease_s),
        watch_in_ms=_ms(next_poll_s(polls, d.timing)), fields=fields, seen=contact,
    )
