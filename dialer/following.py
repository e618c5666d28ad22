"""Following a placed call to its end: reconcile an uncertain create, poll the call, record it.

Every step goes through a transition that holds only while the contact is still in the state
and attempt the task read, so a late or redelivered follow-up does nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dialer import guards
from dialer.calls import Dispatcher, attempt_id, call_fields, log_why, ms, record_placed
from dialer.campaign import CampaignConfig
from dialer.errors import AuthError, NotFound, Permanent, ProviderError, StateError
from dialer.models import Call, status_word
from dialer.policy import Timing, final_state, next_poll_s
from dialer.store import ContactRecord, ContactState, hash_fields

# The most pages of the call list (100 calls each) one search reads. The search goes back to the
# claim, however long ago; a list deeper than this leaves the create uncertain (searched again
# later, unknown at the limit), never dialled again blind.
RECONCILE_MAX_PAGES = 1000
_FOLLOWED = frozenset({ContactState.DIALING, ContactState.RECONCILING, ContactState.PLACED})


def follow_up(dispatcher: Dispatcher, cid: str, row: int) -> None:
    """Do whatever follow-up the contact is due: reconcile a create, or poll its call."""
    contact = dispatcher.store.contact(cid, row)
    state = contact.state if contact is not None else None
    if contact is None or state not in _FOLLOWED:
        dispatcher.store.forget_watch(cid, row)
    elif state is ContactState.DIALING:
        _stuck(dispatcher, cid, contact)
    elif state is ContactState.RECONCILING:
        reconcile(dispatcher, dispatcher.campaign(cid), contact)
    else:
        poll(dispatcher, dispatcher.campaign(cid), contact)


def _stuck(dispatcher: Dispatcher, cid: str, contact: ContactRecord) -> None:
    """A create claimed long ago never recorded its answer: its worker died. Reconcile it.

    When its worker sent the create is unknown, only that it was before now: the grace counts
    from now, and the search from the claim (`search_from`)."""
    sent_at = dispatcher.now()
    dispatcher.store.transition(
        cid,
        contact.member,
        ContactState.RECONCILING,
        lease_ms=ms(dispatcher.timing.lease_s),
        watch_in_ms=0,
        fields=hash_fields(
            sent_at=sent_at,
            error="the worker sending the create stopped before recording its answer",
        ),
        read=contact,
    )
    log_why("create stuck, reconciling", cid, contact.member)


def reconcile(dispatcher: Dispatcher, config: CampaignConfig, contact: ContactRecord) -> None:
    """Find an uncertain create in OneInbox's call list; dial again only once it surely never
    landed."""
    cid, row = config.campaign_id, contact.member
    sent_at = _required(contact, contact.sent_at, "sent_at")
    waited = (dispatcher.now() - sent_at).total_seconds()
    try:
        call = dispatcher.client.find_call_by_metadata(
            contact.agent_id or config.agent_id,
            "dialer_attempt_id",
            attempt_id(cid, row, contact.attempt),
            created_after=search_from(contact, sent_at, dispatcher.timing),
            max_pages=RECONCILE_MAX_PAGES,
        )
    except ProviderError as exc:
        _reconcile_later(dispatcher, cid, contact, waited, f"cannot search the call list: {exc}")
        return
    if call is not None:
        record_placed(dispatcher, cid, call, polls=0, read=contact)
    elif waited >= dispatcher.timing.reconcile_grace_s:
        # sent_at keeps the claim: should the call appear after all, the attempt's end finds it.
        claimed = _claimed_at(contact, sent_at)
        if dispatcher.store.transition(
            cid,
            row,
            ContactState.PENDING,
            ready_in_ms=0,
            fields=hash_fields(error="", sent_at=claimed),
            read=contact,
        ):
            log_why("uncertain create never landed, dialling again", cid, row)
    else:
        _reconcile_later(dispatcher, cid, contact, waited, contact.error)


def search_from(contact: ContactRecord, sent_at: datetime, timing: Timing) -> datetime:
    """How far back the call list is searched for an uncertain create: to its claim (stored by
    the claim, on Redis's clock), whatever happened to its worker, less a margin for the
    provider's clock; to its send when an old record has no claim time."""
    return _claimed_at(contact, sent_at) - timedelta(seconds=timing.reconcile_margin_s)


def _claimed_at(contact: ContactRecord, sent_at: datetime) -> datetime:
    if contact.claimed_at_ms <= 0:
        return sent_at
    return min(sent_at, datetime.fromtimestamp(contact.claimed_at_ms / 1000, UTC))


def _reconcile_later(
    dispatcher: Dispatcher, cid: str, contact: ContactRecord, waited: float, why: str
) -> None:
    move = dispatcher.store.transition
    if waited >= dispatcher.timing.reconcile_limit_s:
        error = (
            f"could not tell whether the call was placed after {waited:.0f} s "
            f"({why}); not dialled again automatically"
        )
        move(
            cid,
            contact.member,
            ContactState.UNKNOWN,
            fields=hash_fields(error=error),
            read=contact,
        )
        return
    move(
        cid,
        contact.member,
        ContactState.RECONCILING,
        lease_ms=ms(dispatcher.timing.lease_s),
        watch_in_ms=2000,
        fields=hash_fields(error=why),
        read=contact,
    )


def poll(dispatcher: Dispatcher, config: CampaignConfig, contact: ContactRecord) -> None:
    """Read the call; record it as final once it ended and its post-call fields arrived."""
    cid, row = config.campaign_id, contact.member
    polls = contact.polls + 1
    placed_at = _required(contact, contact.placed_at, "placed_at")
    placed_for = (dispatcher.now() - placed_at).total_seconds()
    try:
        call = dispatcher.client.get_call(contact.call_id)
    except (NotFound, Permanent, AuthError) as exc:
        error = f"cannot read the call: {exc}"
        dispatcher.store.transition(
            cid, row, ContactState.UNKNOWN, fields=hash_fields(error=error), read=contact
        )
        return
    except ProviderError as exc:
        error = f"cannot read the call: {exc}"
        _poll_again(dispatcher, config, contact, polls, placed_for, error=error)
        return
    outcome = final_state(
        call.status,
        call.outcome_label(),
        ended=call.ended_at is not None,
        duration_s=call.duration_seconds,
    )
    if outcome is None:
        _poll_again(dispatcher, config, contact, polls, placed_for, call=call)
    elif _post_call_done(call) or _post_call_overdue(dispatcher, contact):
        _attempt_ended(dispatcher, config, contact, call, outcome)
    else:
        first = contact.final_seen_at or dispatcher.now()
        dispatcher.store.transition(
            cid,
            row,
            ContactState.PLACED,
            watch_in_ms=ms(next_poll_s(0, dispatcher.timing)),
            fields=call_fields(call) | hash_fields(polls=polls, final_seen_at=first),
            read=contact,
        )


def _attempt_ended(
    dispatcher: Dispatcher,
    config: CampaignConfig,
    contact: ContactRecord,
    call: Call,
    outcome: ContactState,
) -> None:
    """Record the attempt's outcome; then either dial again later or finish the contact."""
    cid, row = config.campaign_id, contact.member
    error = _other_calls(dispatcher, config, contact, call)
    _opt_out(dispatcher, config, contact, call)
    fields = call_fields(call) | hash_fields(error=error, waiting="")
    guards.call_ended(dispatcher.store, config, call.id, fields["cost_cents"], outcome)
    now = dispatcher.now()
    at, why = dispatcher.when.retry_at(config, contact, outcome, now)
    if at is None:
        if dispatcher.store.transition(cid, row, outcome, fields=fields, read=contact):
            log_why("call ended", cid, row, call_id=call.id, status=outcome.value)
        return
    dispatcher.store.archive_attempt(cid, contact.with_fields({**fields, "state": outcome.value}))
    if dispatcher.store.transition(
        cid,
        row,
        ContactState.PENDING,
        ready_in_ms=ms((at - now).total_seconds()),
        fields=contact.retry_fields(due_at=at, waiting=why, last_status=outcome),
        read=contact,
    ):
        log_why("attempt ended, will retry", cid, row, call_id=call.id, status=outcome.value)


def _other_calls(
    dispatcher: Dispatcher, config: CampaignConfig, contact: ContactRecord, call: Call
) -> str:
    """Calls of this attempt other than `call`, named for the results (or ''): an attempt
    dialled again after its uncertain create was not found in time may have two."""
    if contact.sends < 2 or contact.sent_at is None:
        return ""
    try:
        found = dispatcher.client.find_calls_by_metadata(
            contact.agent_id or config.agent_id,
            "dialer_attempt_id",
            attempt_id(config.campaign_id, contact.member, contact.attempt),
            created_after=search_from(contact, contact.sent_at, dispatcher.timing),
            max_pages=RECONCILE_MAX_PAGES,
        )
    except ProviderError as exc:
        return f"sent {contact.sends} times; could not look for another call: {exc}"
    others = [f"{c.id} ({c.status})" for c in found if c.id != call.id]
    if not others:
        return ""
    log_why("attempt dialled twice", config.campaign_id, contact.member, call_id=call.id)
    return f"this attempt was dialled twice: OneInbox also has call {', '.join(others)}"


def _post_call_done(call: Call) -> bool:
    """Only a documented `completed` or `failed` call brings post-call data worth waiting for."""
    return call.post_call_ready() or status_word(call.status) not in ("completed", "failed")


def _opt_out(
    dispatcher: Dispatcher, config: CampaignConfig, contact: ContactRecord, call: Call
) -> None:
    """Put the number on the account's do-not-call list when the call ended with one of the
    campaign's opt-out outcomes (`--opt-out-outcome`): no campaign of the account dials it
    again."""
    label = (call.outcome_label() or "").strip()
    wanted = {name.strip().casefold() for name in config.opt_out_outcomes}
    if not label or label.casefold() not in wanted:
        return
    why = f"outcome {label} of call {call.id} (campaign {config.campaign_id})"
    account = dispatcher.store.account_of(config.campaign_id)
    if dispatcher.store.dnc_add(account, [contact.phone], reason=why):
        log_why("number opted out", config.campaign_id, contact.member, call_id=call.id)


def _post_call_overdue(dispatcher: Dispatcher, contact: ContactRecord) -> bool:
    if contact.final_seen_at is None:
        return False
    waited = (dispatcher.now() - contact.final_seen_at).total_seconds()
    return waited >= dispatcher.timing.post_call_wait_s


def _poll_again(
    dispatcher: Dispatcher,
    config: CampaignConfig,
    contact: ContactRecord,
    polls: int,
    placed_for: float,
    *,
    call: Call | None = None,
    error: str = "",
) -> None:
    cid, row = config.campaign_id, contact.member
    if placed_for > config.max_call_s + dispatcher.timing.lease_s:
        error = f"the call did not end within {config.max_call_s:.0f} s"
        dispatcher.store.transition(
            cid, row, ContactState.UNKNOWN, fields=hash_fields(error=error), read=contact
        )
        return
    fields = call_fields(call) if call is not None else {}
    fields |= hash_fields(polls=polls, error=error)
    dispatcher.store.transition(
        cid,
        row,
        ContactState.PLACED,
        lease_ms=ms(dispatcher.timing.lease_s),
        watch_in_ms=ms(next_poll_s(polls, dispatcher.timing)),
        fields=fields,
        read=contact,
    )


def _required(contact: ContactRecord, value: datetime | None, name: str) -> datetime:
    """A time the contact's state promises it has (a missing one is a broken record)."""
    if value is None:
        raise StateError(f"contact {contact.member} is {contact.state} without {name}")
    return value
