"""Models: lenient parsing of OneInbox responses, strict and tidy request bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from dialer.models import (
    Agent,
    AgentPage,
    AvailableNumber,
    Call,
    CallCursorPage,
    CallRequest,
    CallStatus,
    Credential,
    PhoneNumber,
    Usage,
    render_turns,
)

FULL_CALL: dict[str, Any] = {
    "id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
    "agent_id": "agt_abc123",
    "type": "outbound",
    "status": "completed",
    "from_number": "+15739693824",
    "to_number": "+14155559876",
    "room_name": None,
    "direction": "outbound",
    "scheduled_at": None,
    "variables": {"lead_name": "Ada"},
    "started_at": "2026-06-01T10:00:05Z",
    "ended_at": "2026-06-01T10:01:32Z",
    "duration_seconds": 87,
    "end_reason": "api_stop",
    "transcript": None,
    "messages": [{"role": "assistant", "content": "Hi Ada"}, {"role": "user", "content": "Hi"}],
    "recording_url": None,
    "analysis": {"outcome": "Interested", "summary": "Wants a demo"},
    "latency": {"llm_ttft": {"avg_ms": 300}},
    "cost_cents": 4,
    "metadata": {"dialer_attempt_id": "att-1"},
    "created_at": "2026-06-01T10:00:00Z",
    "updated_at": "2026-06-01T10:01:40Z",
    "twilio_call_sid": "CA123",
    "outcome": "Interested",
    "ai_summary": "Ada wants a demo",
    "credits_used": 1.45,
}


def test_full_call_parses_with_datetimes() -> None:
    call = Call.model_validate(FULL_CALL)
    assert call.status == CallStatus.COMPLETED
    assert call.created_at == datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    assert call.duration_seconds == 87
    assert call.metadata == {"dialer_attempt_id": "att-1"}
    assert call.is_final


def test_call_needs_only_id_and_status() -> None:
    call = Call.model_validate({"id": "c1", "status": "initiated"})
    assert call.messages == []
    assert call.metadata == {}
    assert call.analysis.outcome is None
    assert not call.is_final
    assert not call.post_call_ready()


@pytest.mark.parametrize("missing", ["id", "status"])
def test_call_without_id_or_status_is_rejected(missing: str) -> None:
    data = {"id": "c1", "status": "queued"}
    del data[missing]
    with pytest.raises(ValidationError):
        Call.model_validate(data)


def test_null_containers_become_empty() -> None:
    data = {"id": "c", "status": "queued", "messages": None, "analysis": None}
    call = Call.model_validate({**data, "metadata": None, "variables": None, "latency": None})
    assert call.messages == []
    assert call.metadata == {} and call.variables == {} and call.latency == {}
    assert call.analysis.summary is None


def test_unknown_status_is_kept_and_not_final() -> None:
    call = Call.model_validate({"id": "c", "status": "ringing"})
    assert call.status == "ringing"
    assert call.call_status is None
    assert not call.is_final


@pytest.mark.parametrize(
    ("status", "final"),
    [
        ("queued", False),
        ("initiated", False),
        ("in_progress", False),
        ("completed", True),
        ("failed", True),
    ],
)
def test_only_completed_and_failed_are_final(status: str, final: bool) -> None:
    call = Call.model_validate({"id": "c", "status": status})
    assert call.call_status == CallStatus(status)
    assert call.is_final is final


def test_unknown_fields_are_kept() -> None:
    call = Call.model_validate({**FULL_CALL, "sentiment": "positive", "tags": ["a"]})
    assert call.model_extra == {"sentiment": "positive", "tags": ["a"]}
    agent = Agent.model_validate({"id": "a", "name": "Sales", "llm_id": "m1", "speed": 1.1})
    assert agent.model_extra == {"llm_id": "m1", "speed": 1.1}


def test_models_are_frozen() -> None:
    call = Call.model_validate({"id": "c", "status": "queued"})
    with pytest.raises(ValidationError):
        call.status = "failed"  # type: ignore[misc]


def test_naive_timestamps_are_taken_as_utc() -> None:
    call = Call.model_validate({"id": "c", "status": "queued", "created_at": "2026-06-01T10:00:00"})
    assert call.created_at == datetime(2026, 6, 1, 10, tzinfo=UTC)


def test_transcript_as_string() -> None:
    call = Call.model_validate({"id": "c", "status": "completed", "transcript": "A: hi\nB: yo"})
    assert call.transcript_text() == "A: hi\nB: yo"
    assert call.post_call_ready()


def test_transcript_as_list_of_turns() -> None:
    turns = [{"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Hi there"}]
    call = Call.model_validate({"id": "c", "status": "completed", "transcript": turns})
    assert call.transcript_text() == "assistant: Hello\nuser: Hi there"


def test_transcript_text_falls_back_to_messages() -> None:
    call = Call.model_validate(FULL_CALL)
    assert call.transcript_text() == "assistant: Hi Ada\nuser: Hi"


def test_transcript_text_is_empty_without_any_conversation() -> None:
    call = Call.model_validate({"id": "c", "status": "completed", "transcript": ""})
    assert call.transcript_text() == ""


def test_render_turns_skips_empty_and_roleless_turns() -> None:
    turns: list[dict[str, Any]] = [
        {"role": "user", "content": ""},
        {"content": "no role"},
        {"role": "assistant"},
        {"role": "assistant", "content": 42},
    ]
    assert render_turns(turns) == "no role\nassistant: 42"


def test_outcome_label_prefers_top_level() -> None:
    both = {"id": "c", "status": "completed", "outcome": "Voicemail"}
    call = Call.model_validate({**both, "analysis": {"outcome": "Interested"}})
    assert call.outcome_label() == "Voicemail"
    only_analysis = Call.model_validate(
        {**both, "outcome": None, "analysis": {"outcome": "Interested"}}
    )
    assert only_analysis.outcome_label() == "Interested"
    assert Call.model_validate({"id": "c", "status": "completed"}).outcome_label() is None


def test_summary_text_prefers_ai_summary() -> None:
    call = Call.model_validate(FULL_CALL)
    assert call.summary_text() == "Ada wants a demo"
    call = Call.model_validate({"id": "c", "status": "completed", "analysis": {"summary": "S"}})
    assert call.summary_text() == "S"


@pytest.mark.parametrize(
    "extra",
    [
        {"messages": [{"content": "x"}]},
        {"analysis": {"summary": "s"}},
        {"analysis": {"outcome": "Voicemail"}},
        {"ai_summary": "s"},
    ],
)
def test_post_call_ready_when_any_post_call_field_lands(extra: dict[str, Any]) -> None:
    assert Call.model_validate({"id": "c", "status": "completed", **extra}).post_call_ready()


def test_call_request_body_drops_none_fields() -> None:
    req = CallRequest(agent_id="a", to_number="+14155551234", from_number="+15739693824")
    assert req.to_body() == {
        "agent_id": "a",
        "to_number": "+14155551234",
        "from_number": "+15739693824",
        "variables": {},
        "metadata": {},
    }


def test_call_request_body_serialises_all_fields() -> None:
    req = CallRequest(
        agent_id="a",
        to_number="+14155551234",
        from_number="+15739693824",
        variables={"lead_name": "Ada"},
        webhook_url="https://hooks.example/x",
        metadata={"dialer_attempt_id": "att-1"},
        scheduled_at=datetime(2026, 6, 1, 9, 30, tzinfo=UTC),
        overrides={"first_message": "Hello {{lead_name}}"},
    )
    body = req.to_body()
    assert body["scheduled_at"] == "2026-06-01T09:30:00Z"
    assert body["overrides"] == {"first_message": "Hello {{lead_name}}"}
    assert body["webhook_url"] == "https://hooks.example/x"


def test_call_request_rejects_non_string_variables() -> None:
    with pytest.raises(ValidationError):
        CallRequest.model_validate(
            {"agent_id": "a", "to_number": "+1", "from_number": "+1", "variables": {"n": [1]}}
        )


def test_pages_parse() -> None:
    cursor = CallCursorPage.model_validate(
        {"items": [FULL_CALL], "next_cursor": "abc", "has_more": True, "limit": 20}
    )
    assert cursor.next_cursor == "abc" and cursor.has_more
    last = CallCursorPage.model_validate({"items": [], "next_cursor": None, "has_more": False})
    assert last.items == [] and not last.has_more
    agents = AgentPage.model_validate({"items": [{"id": "a"}], "total": 1, "limit": 1, "offset": 0})
    assert agents.items == [Agent(id="a")]


def test_usage_parses_documented_fields() -> None:
    usage = Usage.model_validate(
        {
            "calls_made_today": 12,
            "max_calls_per_day": 100,
            "calls_remaining_today": 88,
            "calls_this_month": 140,
            "minutes_used_this_month": 33.5,
            "cost_cents_this_month": 420,
            "kb_token_budget": 10000,
            "period_start": "2026-06-01T00:00:00Z",
        }
    )
    assert usage.calls_remaining_today == 88
    assert usage.period_start == datetime(2026, 6, 1, tzinfo=UTC)


def test_numbers_and_credentials_parse_leniently() -> None:
    number = PhoneNumber.model_validate(
        {
            "id": "phn_1",
            "phone_number": "+15739693824",
            "provider": "twilio",
            "status": "active",
            "inbound_routing": None,
            "outbound_trunk_id": "ST_1",
        }
    )
    assert number.inbound_routing == {} and number.model_extra == {"outbound_trunk_id": "ST_1"}
    found = AvailableNumber.model_validate({"phone_number": "+14155550100", "lata": "722"})
    assert found.locality is None and found.model_extra == {"lata": "722"}
    cred = Credential.model_validate(
        {"id": "crd_1", "name": "tw", "provider": "twilio", "masked_key": "sk_...9f"}
    )
    assert cred.masked_key == "sk_...9f"
