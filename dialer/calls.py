"""Placing one call, as plain functions over the store and client (`dialer.following` follows it).

Celery tasks call `place` and `following.follow_up`; so do the tests, without Celery. Every step
that changes a contact goes through a compare-and-set transition: a duplicate, late or
redelivered task finds the contact already moved on and does nothing.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from dialer import guards
from dialer.account import NO_LIMITS, AccountLimits, NumberRules
from dialer.campaign import CampaignConfig
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
    AlwaysNow,
    DialTimes,
    Timing,
    next_poll_s,
)
from dialer.store import Claim, ContactRecord, ContactState, Store, hash_fields, health, replicated
from dialer.store.figures import CreateNote

log = logging.getLogger("dialer.calls")

RETRY_SOON_MS = 2000  # a create that never reached OneInbox is tried again after this
REPLICA_WAIT_S = 1.0  # how long a claim waits for its replicas (DIALER_REDIS_WAIT_REPLICAS)
CONFIG_FRESH_S = 1.0  # how long a worker uses a campaign's settings before reading them again


@dataclass
class Dispatcher:
    """What one worker process needs to place and follow calls."""

    store: Store
    client: OneInboxClient
    timing: Timing = field(default_factory=Timing)
    when: DialTimes = field(default_factory=AlwaysNow)
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    clock: Callable[[], float] = time.monotonic  # for sleeping until an instant
    replicas: int = 0  # Redis replicas that must hold a claim before its create is sent
    account_defaults: AccountLimits = NO_LIMITS  # the deployment's (`dialer.account`)
    _configs: dict[str, tuple[float, CampaignConfig]] = field(default_factory=dict)

    def campaign(self, cid: str) -> CampaignConfig:
        """The campaign's settings, read again once they are `CONFIG_FRESH_S` old (a resumed
        campaign's options may change them)."""
        now = self.clock()
        kept = self._configs.get(cid)
        if kept is None or now - kept[0] >= CONFIG_FRESH_S:
            if len(self._configs) > 256:
                self._configs.clear()
            kept = (now, self.store.campaign(cid))
            self._configs[cid] = kept
        return kept[1]


def ms(seconds: float) -> int:
    """Seconds as whole milliseconds, never negative."""
    return max(0, round(seconds * 1000))


def log_why(event: str, cid: str, row: int, **extra: object) -> None:
    """Why a transition happened (the store logs the transition itself)."""
    log.debug(event, extra={"campaign": cid, "row": row, **extra})


# -- placing ---------------------------------------------------------------------------------


def place_many(dispatcher: Dispatcher, cid: str, rows: list[int]) -> None:
    """`place` each row in turn; their contacts are read in one round trip."""
    for contact in dispatcher.store.contacts(cid, rows):
        if contact is not None:
            place(dispatcher, cid, contact.member, contact)


def place(dispatcher: Dispatcher, cid: str, row: int, contact: ContactRecord | None = None) -> None:
    """Dial one pending contact: check its calling time, claim it, send the create, record.

    `contact` (read just before) decides only whether to try; the create is built from the
    contact as the claim itself returns it.
    """
    config = dispatcher.campaign(cid)
    if contact is None:
        contact = dispatcher.store.contact(cid, row)
    if contact is None or _over_budget(dispatcher, config, contact):
        return
    if not _time_to_call(dispatcher, config, contact):
        return
    asked = dispatcher.clock()
    claim = _claim(dispatcher, config, contact)
    if not claim.won or claim.contact is None:
        if claim.reason not in ("not_pending", "suppressed", "held"):  # nothing to wait for
            _wait_again(dispatcher, cid, contact, claim)
        return
    dialing = claim.contact  # the create is built from, and recorded against, what it claimed
    if not _claim_replicated(dispatcher, config, dialing):
        return
    # The POST is built whole (its model, URL, headers and JSON) before the wait for its slot
    # and the send guard, not by a thread the guard let through while 31 others want the
    # interpreter: after the guard, only its bytes go out.
    post = dispatcher.client.prepare_create(build_request(config, dialing, send=claim.send))
    _sleep_until(dispatcher, asked + claim.wait_s)
    if not claim.guard_passed:
        _pass_send_guard(dispatcher, config)
    _send(dispatcher, config, dialing, post, claim.send)


def _send(
    dispatcher: Dispatcher,
    config: CampaignConfig,
    dialing: ContactRecord,
    post: httpx.Request,
    send: int,
) -> None:
    """POST the create and record its answer: placed, or why not. The create is counted
    either way (in the same round trip as the contact's move when it is placed)."""
    cid = config.campaign_id
    sent_at = dispatcher.now()
    # Nothing between the send guard and the POST: a round trip there (and the wait for the
    # interpreter after it) let sends bunch at OneInbox beyond rate+1 in a second at 100/s.
    sent = _create_note(dialing, send, sent_at)
    try:
        call = dispatcher.client.send_create(post)
    except ProviderError as exc:
        dispatcher.store.note_create(cid, sent)
        if isinstance(exc, Retryable | Ambiguous):  # OneInbox's trouble, not the contact's
            health.note_error(dispatcher.store.redis, cid, exc, ms(dispatcher.now().timestamp()))
        _create_failed(dispatcher, config, dialing, exc, sent_at)
        return
    except BaseException:
        dispatcher.store.note_create(cid, sent)
        raise
    record_placed(dispatcher, cid, call, polls=0, read=dialing, note=sent)


def _create_note(dialing: ContactRecord, send: int, sent_at: datetime) -> CreateNote:
    """The create sent (the pace shown, the contacts dialled), at when it was sent."""
    first = dialing.attempt == 1 and send == 1  # the contact's first create: dialled
    member = f"{dialing.member}:{dialing.attempt}:{send}"
    return CreateNote(member, round(sent_at.timestamp() * 1000), first)


def _over_budget(dispatcher: Dispatcher, config: CampaignConfig, contact: ContactRecord) -> bool:
    """A pending contact of a campaign past its spend cap ends `expired`, saying why."""
    if contact.state is not ContactState.PENDING:
        return False
    why = guards.over_budget(dispatcher.store, config)
    if why:
        dispatcher.store.transition(
            config.campaign_id,
            contact.member,
            ContactState.EXPIRED,
            fields=hash_fields(waiting=why),
            read=contact,
        )
    return bool(why)


def _time_to_call(dispatcher: Dispatcher, config: CampaignConfig, contact: ContactRecord) -> bool:
    """True when the contact may be dialled now; otherwise it waits (or expires)."""
    if contact.state is not ContactState.PENDING:
        return False
    row = contact.member
    now = dispatcher.now()
    at, why = dispatcher.when.dial_at(config, contact, now)
    if at is None:
        dispatcher.store.transition(
            config.campaign_id,
            row,
            ContactState.EXPIRED,
            fields=hash_fields(waiting=why),
            read=contact,
        )
        log_why("contact expired", config.campaign_id, row, reason=why)
        return False
    if at > now:
        wait_ms = ms((at - now).total_seconds())
        dispatcher.store.transition(
            config.campaign_id,
            row,
            ContactState.PENDING,
            ready_in_ms=wait_ms,
            fields=hash_fields(waiting=why, due_at=at),
            read=contact,
        )
        return False
    return True


def _wait_again(dispatcher: Dispatcher, cid: str, contact: ContactRecord, claim: Claim) -> None:
    """A refused claim: the contact waits as long as the claim said (and says why, when its
    number's rules across campaigns hold it)."""
    wait_ms = until_deadline(dispatcher.campaign(cid), dispatcher.now(), ms(claim.wait_s))
    fields = None
    if claim.waiting:
        due = dispatcher.now() + timedelta(milliseconds=wait_ms)
        fields = hash_fields(waiting=claim.waiting, due_at=due)
    row = contact.member
    dispatcher.store.transition(
        cid, row, ContactState.PENDING, ready_in_ms=wait_ms, fields=fields, read=contact
    )


def until_deadline(config: CampaignConfig, now: datetime, wait_ms: int) -> int:
    """A wait cut at the campaign's deadline: every wait ends there (the contact is due then,
    and expires), so a run with a deadline ends at it whatever held its contacts."""
    if not config.deadline:
        return wait_ms
    left = (datetime.fromisoformat(config.deadline) - now).total_seconds()
    return min(wait_ms, ms(left))


def _claim(dispatcher: Dispatcher, config: CampaignConfig, contact: ContactRecord) -> Claim:
    """Claim the contact and its send slot, `wait_s` (at most the pace's `max_wait_s`) from when
    the claim was sent; the caller waits for it, counted from then: a reply read late in a busy
    process does not delay the send."""
    pace = pace_for(config.rate_per_s)
    rules = NumberRules(config.min_gap_s, dispatcher.when.calls_per_day(config, contact.phone))
    claim = dispatcher.store.claim(
        config.campaign_id,
        contact.member,
        pace=pace,
        max_concurrent=config.max_concurrent,
        lease_s=dispatcher.timing.lease_s,
        stuck_s=dispatcher.timing.stuck_s + pace.max_wait_s,  # its wait for the slot is not "stuck"
        account_defaults=dispatcher.account_defaults,
        number=contact.phone,
        rules=rules,
    )
    return claim


def _claim_replicated(
    dispatcher: Dispatcher, config: CampaignConfig, dialing: ContactRecord
) -> bool:
    """With `dispatcher.replicas`, a claim is held by that many Redis replicas before its create
    is sent; one they do not acknowledge in time goes back to pending, its create unsent (safe
    whatever became of the claim: no call was made)."""
    wanted = dispatcher.replicas
    if not wanted or replicated(dispatcher.store, wanted, REPLICA_WAIT_S):
        return True
    error = Retryable(f"the claim was not acknowledged by {wanted} Redis replica(s) in time")
    _create_failed(dispatcher, config, dialing, error, dispatcher.now())
    return False


def _sleep_until(dispatcher: Dispatcher, deadline: float) -> None:
    left = deadline - dispatcher.clock()
    if left > 0:
        dispatcher.sleep(left)


def _pass_send_guard(dispatcher: Dispatcher, config: CampaignConfig) -> None:
    """Wait until the send guard lets this create go (at once, unless the sends bunched up)."""
    pace = pace_for(config.rate_per_s)
    defaults = dispatcher.account_defaults
    while (wait := dispatcher.store.pass_send_guard(config.campaign_id, pace, defaults)) > 0:
        dispatcher.sleep(wait)


def attempt_id(cid: str, row: int, attempt: int) -> str:
    """The identity of one attempt, carried in the create's metadata."""
    return f"{cid}:{row}:{attempt}"


def build_request(config: CampaignConfig, contact: ContactRecord, *, send: int) -> CallRequest:
    """The create for this contact: the row's own agent and from-number win over the campaign's."""
    row, attempt = contact.member, contact.attempt
    by_column = dict(zip(config.columns, contact.cells, strict=False))
    sent_as = dict(config.renames)
    variables = {
        sent_as.get(name, name): str(by_column.get(name, "")) for name in config.variable_columns
    }
    return CallRequest(
        agent_id=contact.agent_id or config.agent_id,
        to_number=contact.phone,
        from_number=contact.from_number or config.from_number,
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
    dispatcher: Dispatcher,
    config: CampaignConfig,
    dialing: ContactRecord,
    exc: ProviderError,
    sent_at: datetime,
) -> None:
    cid, row = config.campaign_id, dialing.member
    move = functools.partial(dispatcher.store.transition, cid, row, read=dialing)
    if isinstance(exc, RateLimited):
        dispatcher.store.slow_down(cid, exc.retry_after or 1.0)
        move(ContactState.PENDING, ready_in_ms=ms(exc.retry_after or 1.0))
        log_why("create rate limited", cid, row)
    elif isinstance(exc, Retryable):
        move(ContactState.PENDING, ready_in_ms=RETRY_SOON_MS, fields=hash_fields(error=exc))
        log_why("create not sent", cid, row, error=str(exc))
    elif isinstance(exc, AuthError):
        move(ContactState.PENDING, ready_in_ms=0)
        dispatcher.store.abort(cid, f"OneInbox refused the API key: {exc}")
        log_why("campaign stopped: API key refused", cid, row)
    elif isinstance(exc, Ambiguous):
        move(
            ContactState.RECONCILING,
            lease_ms=ms(dispatcher.timing.lease_s),
            watch_in_ms=1000,
            fields=hash_fields(sent_at=sent_at, error=f"create uncertain: {exc}"),
        )
        log_why("create uncertain, reconciling", cid, row, error=str(exc))
    else:
        guards.create_refused(dispatcher.store, config, f"{row}:{dialing.attempt}:{dialing.sends}")
        move(ContactState.ERROR, fields=hash_fields(error=exc))
        log_why("create refused", cid, row, error=str(exc))


def record_placed(
    dispatcher: Dispatcher,
    cid: str,
    call: Call,
    *,
    polls: int,
    read: ContactRecord,
    note: CreateNote | None = None,
) -> None:
    """The create was answered (or found): the contact is placed and its call followed;
    `note`, the create just sent, is counted in the same round trip."""
    row = read.member
    fields = call_fields(call) | hash_fields(placed_at=dispatcher.now(), polls=polls, error="")
    if dispatcher.store.transition(
        cid,
        row,
        ContactState.PLACED,
        lease_ms=ms(dispatcher.timing.lease_s),
        watch_in_ms=ms(next_poll_s(polls, dispatcher.timing)),
        fields=fields,
        read=read,
        note=note,
    ):
        if dispatcher.campaign(cid).webhook_url:  # only webhooks need to find a contact by call id
            dispatcher.store.index_call(call.id, cid, row)
        log_why("call placed", cid, row, call_id=call.id)


def call_fields(call: Call) -> dict[str, str]:
    """The contact's hash fields that say what OneInbox answered about its call."""

    return hash_fields(
        call_id=call.id,
        call_status=call.status,
        end_reason=call.end_reason,
        outcome=call.outcome_label(),
        duration_seconds=call.duration_seconds,
        started_at=call.started_at,
        ended_at=call.ended_at,
        summary=call.summary_text(),
        transcript=call.transcript_text(),
        cost_cents=_number_text(call.cost_cents),
        recording_url=call.recording_url,
        latency=_json_text(call.latency),
        analysis=_json_text(call.analysis.model_dump(mode="json", exclude_none=True)),
    )


def _number_text(value: float | None) -> str:
    """A number as the provider meant it: `12`, not `12.0`; '' when absent."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def _json_text(value: dict[str, Any]) -> str:
    """An object as compact JSON text, keys in the provider's order; '' when empty."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) if value else ""
