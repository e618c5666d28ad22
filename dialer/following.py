"""Following a placed call to its end: reconcile an uncertain create, poll the call, record it.

Every step goes through a transition that holds only while the contact is still in the state
and attempt the task read, so a late or redelivered follow-up does nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dialer.calls import Dispatcher, attempt_id, call_fields, ms, note, record_placed
from dialer.campaign import CampaignConfig, State
from dialer.errors import AuthError, NotFound, Permanent, ProviderError
from dialer.models import Call
from dialer.policy import final_state, next_poll_s

RECONCILE_PAGES = 50  # pages of the call list searched for an uncertain create


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
        cid,
        row,
        State.RECONCILING,
        lease_ms=ms(d.timing.lease_s),
        watch_in_ms=0,
        fields={
            "sent_at": (d.now() - timedelta(seconds=d.timing.stuck_s)).isoformat(),
            "error": "the worker sending the create stopped before recording its answer",
        },
        seen=contact,
    )
    note("create stuck, reconciling", cid, row)


def reconcile(d: Dispatcher, config: CampaignConfig, row: int, contact: dict[str, str]) -> None:
    """Find an uncertain create in OneInbox's call list; dial again only once it surely never
    landed."""
    cid = config.campaign_id
    sent_at = datetime.fromisoformat(contact["sent_at"])
    waited = (d.now() - sent_at).total_seconds()
    key = attempt_id(cid, row, int(contact.get("attempt", "1")))
    try:
        call = d.client.find_call_by_metadata(
            contact.get("agent_id") or config.agent_id,
            "dialer_attempt_id",
            key,
            created_after=sent_at - timedelta(minutes=2),
            max_pages=RECONCILE_PAGES,
        )
    except ProviderError as exc:
        _reconcile_later(d, cid, row, contact, waited, f"cannot search the call list: {exc}")
        return
    if call is not None:
        record_placed(d, cid, row, call, polls=0, seen=contact)
    elif waited >= d.timing.reconcile_grace_s:
        if d.store.transition(
            cid, row, State.PENDING, ready_in_ms=0, fields={"error": ""}, seen=contact
        ):
            note("uncertain create never landed, dialling again", cid, row)
    else:
        _reconcile_later(d, cid, row, contact, waited, contact.get("error", ""))


def _reconcile_later(
    d: Dispatcher, cid: str, row: int, contact: dict[str, str], waited: float, why: str
) -> None:
    if waited >= d.timing.reconcile_limit_s:
        d.store.transition(
            cid,
            row,
            State.UNKNOWN,
            fields={
                "error": f"could not tell whether the call was placed after {waited:.0f} s "
                f"({why}); not dialled again automatically"
            },
            seen=contact,
        )
        return
    d.store.transition(
        cid,
        row,
        State.RECONCILING,
        lease_ms=ms(d.timing.lease_s),
        watch_in_ms=2000,
        fields={"error": why},
        seen=contact,
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
            cid,
            row,
            State.UNKNOWN,
            fields={"error": f"cannot read the call: {exc}"},
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
            cid,
            row,
            State.PLACED,
            watch_in_ms=ms(next_poll_s(0, d.timing)),
            fields={**call_fields(call), "polls": str(polls), "final_seen_at": first},
            seen=contact,
        )


def _attempt_ended(
    d: Dispatcher,
    config: CampaignConfig,
    row: int,
    contact: dict[str, str],
    call: Call,
    outcome: State,
) -> None:
    """Record the attempt's outcome; then either dial again later or finish the contact."""
    cid = config.campaign_id
    fields = {**call_fields(call), "error": "", "waiting": ""}
    now = d.now()
    at, why = d.when.retry_at(config, contact, outcome, now)
    if at is None:
        if d.store.transition(cid, row, outcome, fields=fields, seen=contact):
            note("call ended", cid, row, call_id=call.id, status=outcome.value)
        return
    attempt = int(contact.get("attempt", "1"))
    d.store.archive_attempt(cid, row, attempt, {**contact, **fields, "state": outcome.value})
    retry = {name: "" for name in fields} | {
        "attempt": str(attempt + 1),
        "sends": "0",
        "waiting": why,
        "due_at": at.isoformat(),
        "last_status": outcome.value,
        "polls": "0",
        "final_seen_at": "",
    }
    if d.store.transition(
        cid,
        row,
        State.PENDING,
        ready_in_ms=ms((at - now).total_seconds()),
        fields=retry,
        seen=contact,
    ):
        note("attempt ended, will retry", cid, row, call_id=call.id, status=outcome.value)


def _post_call_overdue(d: Dispatcher, contact: dict[str, str]) -> bool:
    seen = contact.get("final_seen_at")
    if not seen:
        return False
    waited = (d.now() - datetime.fromisoformat(seen)).total_seconds()
    return waited >= d.timing.post_call_wait_s


def _poll_again(
    d: Dispatcher,
    contact: dict[str, str],
    row: int,
    polls: int,
    placed_for: float,
    config: CampaignConfig,
    *,
    call: Call | None = None,
    error: str = "",
) -> None:
    cid = config.campaign_id
    if placed_for > config.max_call_s + d.timing.lease_s:
        d.store.transition(
            cid,
            row,
            State.UNKNOWN,
            fields={"error": f"the call did not end within {config.max_call_s:.0f} s"},
            seen=contact,
        )
        return
    fields = call_fields(call) if call is not None else {}
    fields.update(polls=str(polls), error=error)
    d.store.transition(
        cid,
        row,
        State.PLACED,
        lease_ms=ms(d.timing.lease_s),
        watch_in_ms=ms(next_poll_s(polls, d.timing)),
        fields=fields,
        seen=contact,
    )
