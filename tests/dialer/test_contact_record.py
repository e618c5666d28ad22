"""The contact record (dialer.store.contact): its defaults, its Redis mapping, what a retry resets,
and the shape of the state machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dialer.store import (
    ALLOWED_FROM,
    FINAL_STATES,
    LIVE_STATES,
    ContactRecord,
    ContactState,
    hash_fields,
)
from dialer.store.contact import HASH_FIELDS

T0 = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)

# A contact on its second attempt, with every field of the attempt set.
PLACED = {
    "state": "placed",
    "phone": "+14155550100",
    "source_row": "5",
    "load": "2",
    "row": '["+14155550100", "Ann"]',
    "agent_id": "agent-row",
    "from_number": "+14155550999",
    "timezone": "America/New_York",
    "attempt": "2",
    "last_status": "no_answer",
    "updated_at": "1773064800000",
    "sends": "1",
    "waiting": "waiting: window opens 09:00",
    "due_at": T0.isoformat(),
    "claimed_at": "1773064801000",
    "sent_at": (T0 + timedelta(seconds=1)).isoformat(),
    "placed_at": (T0 + timedelta(seconds=2)).isoformat(),
    "polls": "4",
    "final_seen_at": (T0 + timedelta(seconds=60)).isoformat(),
    "error": "cannot read the call: 502",
    "call_id": "call-1",
    "call_status": "completed",
    "end_reason": "customer_hangup",
    "outcome": "Voicemail",
    "duration_seconds": "42.0",
    "started_at": (T0 + timedelta(seconds=3)).isoformat(),
    "ended_at": (T0 + timedelta(seconds=45)).isoformat(),
    "summary": "left a message",
    "transcript": "assistant: hello",
    "cost_cents": "2",
    "recording_url": "https://recordings.example/call-1.wav?expires=1773079200",
    "latency": '{"llm_ttft":{"avg_ms":420.0}}',
    "analysis": '{"outcome":"Voicemail","extracted":{"budget":"$5,000"}}',
}


def test_a_missing_or_empty_field_reads_as_its_default() -> None:
    fresh = ContactRecord.from_redis(7, {"state": "pending", "phone": "+14155550100"})
    emptied = ContactRecord.from_redis(7, {**{name: "" for name in PLACED}, **fresh.to_redis()})
    for contact in (fresh, emptied):
        assert contact.member == contact.source_row == 7 and contact.state is ContactState.PENDING
        assert (contact.attempt, contact.sends, contact.polls) == (1, 0, 0)
        assert contact.placed_at is None and contact.sent_at is None and contact.call_id == ""
        assert contact.cells == []


def test_every_field_is_read_into_its_type() -> None:
    contact = ContactRecord.from_redis(3, PLACED)
    assert contact.state is ContactState.PLACED and contact.attempt == 2 and contact.polls == 4
    assert contact.placed_at == T0 + timedelta(seconds=2)
    assert contact.claimed_at_ms == 1773064801000
    assert contact.cells == ["+14155550100", "Ann"]
    assert set(PLACED) == set(HASH_FIELDS)  # this test sets every field the record knows


def test_the_hash_mapping_round_trips_and_writes_no_defaults() -> None:
    contact = ContactRecord.from_redis(3, PLACED)
    assert contact.to_redis() == PLACED
    assert ContactRecord.from_redis(3, contact.to_redis()) == contact
    fresh = ContactRecord.from_redis(7, {"state": "pending", "phone": "+14155550100"})
    assert fresh.to_redis() == {"state": "pending", "phone": "+14155550100"}


def test_a_retry_resets_every_field_of_the_attempt_and_keeps_the_contact() -> None:
    ended = ContactRecord.from_redis(3, PLACED)
    due = T0 + timedelta(hours=1)
    fields = ended.retry_fields(
        due_at=due, waiting="attempt 3 due", last_status=ContactState.FAILED
    )
    retried = ended.with_fields(fields)
    assert retried == ContactRecord(
        member=3,
        state=ContactState.PLACED,  # the transition sets the state, not these fields
        phone="+14155550100",
        source_row=5,
        load=2,
        cells_json='["+14155550100", "Ann"]',
        agent_id="agent-row",
        from_number="+14155550999",
        timezone="America/New_York",
        attempt=3,
        last_status="failed",
        updated_at_ms=1773064800000,
        due_at=due,
        waiting="attempt 3 due",
    )
    assert "state" not in fields and "updated_at" not in fields  # those are the script's


def test_a_record_with_changed_fields_is_what_a_transition_would_leave() -> None:
    placed = ContactRecord.from_redis(3, PLACED)
    ended = placed.with_fields({"state": "voicemail", "error": "", "polls": "5"})
    assert ended.state is ContactState.VOICEMAIL and ended.error == "" and ended.polls == 5
    assert ended.call_id == placed.call_id


def test_transitions_lead_only_from_live_states_and_never_to_dialing() -> None:
    assert ContactState.DIALING not in ALLOWED_FROM  # only the claim script dials
    assert set(ALLOWED_FROM) == set(ContactState) - {ContactState.DIALING}
    assert all(sources <= LIVE_STATES for sources in ALLOWED_FROM.values())
    assert set(ContactState) == LIVE_STATES | FINAL_STATES and not LIVE_STATES & FINAL_STATES


def test_fields_to_write_are_read_back_as_written() -> None:
    placed_at = T0 + timedelta(seconds=2)
    fields = hash_fields(placed_at=placed_at, polls=3, error=None, claimed_at_ms=5)
    assert fields == {
        "placed_at": placed_at.isoformat(),
        "polls": "3",
        "error": "",
        "claimed_at": "5",
    }
    read = ContactRecord.from_redis(1, {"state": "placed", "phone": "+14155550100", **fields})
    assert (read.placed_at, read.polls, read.error, read.claimed_at_ms) == (placed_at, 3, "", 5)
    with pytest.raises(KeyError):
        hash_fields(placed=placed_at)  # a name the record does not have
