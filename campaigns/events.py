"""A campaign's events for a CRM, derived from the store by a sweep.

Nothing that changes a campaign or a contact writes an event: the sweep reads what the store
already holds (the campaign's state, its final contacts) and records in the outbox each event
not yet recorded, under an id derived from what it reports. A worker killed between a change and
the sweep loses nothing: the next sweep finds the change. A campaign that changes state twice
between two sweeps (paused and resumed within one) reports only where it ended.

Events (the Standard Webhooks payload: `type`, `timestamp`, `data`):
    campaign.started | paused | resumed | auto_paused | finished
    contact.finished: the contact's final status, outcome, call, cost, extracted data and the
    row's own columns
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dialer.campaign import CampaignConfig, CampaignState
from dialer.errors import StateError
from dialer.store import FINAL_STATES, ContactRecord, ContactState, Store
from dialer.store.outbox import Outbox

READ_BATCH = 1000  # contacts read in one round trip
CAMPAIGN_KINDS = ("started", "paused", "resumed", "auto_paused", "finished")


def event_id(*parts: object) -> str:
    """A Standard Webhooks message id derived from what the event reports (so it is the same
    however often the event is derived)."""
    text = "|".join(str(p) for p in parts)
    return "msg_" + hashlib.sha256(text.encode()).hexdigest()[:32]


def payload(kind: str, at_ms: int, data: dict[str, Any]) -> str:
    """The JSON body of an event: its type, when it happened (ISO 8601, UTC) and its data."""
    when = datetime.fromtimestamp(at_ms / 1000, UTC).isoformat().replace("+00:00", "Z")
    return json.dumps({"type": kind, "timestamp": when, "data": data}, ensure_ascii=False)


def campaign_kinds(
    last: str, state: CampaignState | None, *, reason: str, active: bool, ran: bool
) -> list[str]:
    """The campaign events that lead from `last` (the last one reported, '' for none) to where
    the campaign is: its `state`, why the dialer stopped it (`reason`), whether the tick still
    serves it (`active`) and whether any create was sent (`ran`)."""
    if state is CampaignState.RUNNING:
        target = "resumed" if last else "started"
        return [] if last in ("started", "resumed") else [target]
    if state is CampaignState.PAUSED:
        target = "auto_paused" if reason else "paused"
        if last == target or (not last and not ran and not reason):
            return []  # the same, or a campaign created paused that never ran
        return [target] if last else ["started", target]
    if state is CampaignState.DONE or (state is CampaignState.CANCELED and not active):
        if last == "finished":
            return []
        return ["finished"] if last or not ran else ["started", "finished"]
    return []


def contact_data(cid: str, config: CampaignConfig, contact: ContactRecord) -> dict[str, Any]:
    """What a `contact.finished` event says of a contact: its status, outcome, call, attempt,
    cost, recording, the agent's analysis (extracted data) and the row's own columns as loaded."""
    return {
        "campaign": cid,
        "contact": contact.member,
        "source_row": contact.source_row,
        "phone": contact.phone,
        "attempt": contact.attempt,
        "status": contact.state.value,
        "outcome": contact.outcome,
        "call_id": contact.call_id,
        "call_status": contact.call_status,
        "end_reason": contact.end_reason,
        "duration_seconds": contact.duration_seconds,
        "started_at": contact.started_at,
        "ended_at": contact.ended_at,
        "summary": contact.summary,
        "error": contact.error,
        "cost_cents": _number(contact.cost_cents),
        "recording_url": contact.recording_url or None,
        "analysis": _object(contact.analysis),  # the agent's outcome and extracted data
        "columns": dict(zip(config.columns, contact.cells, strict=False)),
    }


def _number(text: str) -> float | None:
    """A stored number as JSON's, or None when OneInbox reported none."""
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() else value


def _object(text: str) -> dict[str, Any] | None:
    """A stored JSON object, or None when there is none (or it is not an object)."""
    try:
        value = json.loads(text) if text else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def sweep(store: Store, outbox: Outbox, default_url: str | None, only: str = "") -> int:
    """Record every event not yet recorded, of every campaign with an events URL (its own, or
    `default_url`); only campaign `only` when it is given. Returns how many were new."""
    new = 0
    for cid in sorted(set(store.active_campaigns()) | outbox.open_campaigns()):
        if not only or cid == only:
            new += sweep_campaign(store, outbox, cid, default_url)
    return new


def sweep_campaign(store: Store, outbox: Outbox, cid: str, default_url: str | None) -> int:
    """Record the campaign's new events: its finished contacts first, then its own state."""
    try:
        config = store.campaign(cid)
    except StateError:  # deleted
        outbox.close(cid)
        return 0
    url = config.events_url or default_url
    if not url:
        return 0
    outbox.watch(cid)
    where = _where(store, cid)  # before the contacts: once it is finished, all of them are
    new = _sweep_contacts(store, outbox, cid, config, url)
    return new + _sweep_state(store, outbox, cid, url, where)


def _sweep_contacts(
    store: Store, outbox: Outbox, cid: str, config: CampaignConfig, url: str
) -> int:
    """contact.finished for each final contact attempt not yet reported. Only when the number
    of final contacts changed since the last sweep, and only contacts neither live nor
    reported are read."""
    counts = store.counts(cid)
    finals = sum(n for state, n in counts.items() if ContactState(state) in FINAL_STATES)
    if finals == outbox.seen(cid).finals:
        return 0
    new = 0
    rows = outbox.unreported(cid)
    for start in range(0, len(rows), READ_BATCH):
        for contact in store.contacts(cid, rows[start : start + READ_BATCH]):
            if contact is not None and contact.state in FINAL_STATES:
                new += _record_contact(outbox, cid, config, url, contact)
    outbox.note_finals(cid, finals)  # as counted before the read: a later change is seen next
    return new


def _record_contact(
    outbox: Outbox, cid: str, config: CampaignConfig, url: str, contact: ContactRecord
) -> bool:
    done = f"{contact.member}:{contact.attempt}"
    data = contact_data(cid, config, contact)
    body = payload("contact.finished", contact.updated_at_ms, data)
    eid = event_id(cid, "contact", contact.member, contact.attempt)
    return outbox.record(eid, "contact.finished", cid, url, body, done=done)


@dataclass(frozen=True)
class _Where:
    """Where a campaign is, as its events are derived from."""

    state: CampaignState | None
    reason: str  # why the dialer stopped it
    active: bool  # the tick still serves it
    ran: bool  # a create was sent


def _where(store: Store, cid: str) -> _Where:
    state, reason = store.campaign_state(cid), store.campaign_reason(cid)
    active = cid in store.active_campaigns()
    return _Where(state, reason, active, store.dialled(cid) > 0)


def _sweep_state(store: Store, outbox: Outbox, cid: str, url: str, where: _Where) -> int:
    """The campaign events that bring what was reported up to `where` the campaign is."""
    seen = outbox.seen(cid)
    kinds = campaign_kinds(
        seen.state, where.state, reason=where.reason, active=where.active, ran=where.ran
    )
    new = 0
    for kind in kinds:
        data: dict[str, Any] = {"campaign": cid, "reason": where.reason}
        data["state"] = where.state.value if where.state else ""
        data["counts"] = store.counts(cid)
        body = payload(f"campaign.{kind}", outbox.server_ms(), data)
        eid = event_id(cid, "campaign", seen.seq + 1)
        if not outbox.record_campaign(eid, f"campaign.{kind}", cid, url, body, seen=seen):
            return new  # another sweep moved it on: the next one continues from there
        new += 1
        seen = outbox.seen(cid)
    if seen.state == "finished":
        outbox.close(cid)
    return new
