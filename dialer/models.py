"""What goes to and comes back from OneInbox, as frozen pydantic models named by role.

Responses are parsed leniently: unknown fields are kept (`extra="allow"`), everything the docs do
not promise is optional, and `null` containers become empty ones. Two doc pages disagree on the
transcript shape, so `Call.transcript` takes either a string or a list of `{role, content}` turns.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field


def _as_utc(value: datetime) -> datetime:
    """Timestamps without an offset are taken as UTC, so they compare with aware datetimes."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _none_to_empty_dict(value: Any) -> Any:
    return {} if value is None else value


def _none_to_empty_list(value: Any) -> Any:
    return [] if value is None else value


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]
JsonDict = Annotated[dict[str, Any], BeforeValidator(_none_to_empty_dict)]
JsonList = Annotated[list[dict[str, Any]], BeforeValidator(_none_to_empty_list)]


class _Model(BaseModel):
    """Base of every model: immutable, and keeps fields we do not know about."""

    model_config = ConfigDict(frozen=True, extra="allow")


class CallStatus(StrEnum):
    """The documented call statuses; only `completed` and `failed` are final."""

    QUEUED = "queued"
    INITIATED = "initiated"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"


FINAL_STATUSES = frozenset({CallStatus.COMPLETED, CallStatus.FAILED})


def status_word(status: str) -> str:
    """A provider status as one word: lower case, `-` and spaces as `_` ("In-Progress" ->
    "in_progress")."""
    return "_".join(status.strip().lower().replace("-", " ").replace("_", " ").split())


class CallRequest(_Model):
    """The body of `POST /v1/calls`. Numbers are expected to be E.164 already."""

    agent_id: str
    to_number: str
    from_number: str
    variables: dict[str, str] = Field(default_factory=dict)
    webhook_url: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    scheduled_at: UtcDatetime | None = None
    overrides: dict[str, Any] | None = None

    def to_body(self) -> dict[str, Any]:
        """The JSON body to send: None fields left out, datetimes as ISO strings."""
        return self.model_dump(mode="json", exclude_none=True)


class Analysis(_Model):
    """Post-call analysis; both fields stay null until the call has been analysed."""

    outcome: str | None = None
    summary: str | None = None


class Call(_Model):
    """A call as OneInbox returns it (CallResponse). Only `id` and `status` are required.

    `status` stays a plain string so an undocumented status does not break parsing; use
    `call_status` for the enum (None when unknown) and `is_final` for the usual question.
    """

    id: str
    status: str
    agent_id: str | None = None
    type: str | None = None
    direction: str | None = None
    from_number: str | None = None
    to_number: str | None = None
    room_name: str | None = None
    scheduled_at: UtcDatetime | None = None
    started_at: UtcDatetime | None = None
    ended_at: UtcDatetime | None = None
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None
    duration_seconds: float | None = None
    end_reason: str | None = None
    transcript: str | list[dict[str, Any]] | None = None
    messages: JsonList = Field(default_factory=list)
    recording_url: str | None = None
    analysis: Annotated[Analysis, BeforeValidator(_none_to_empty_dict)] = Field(
        default_factory=Analysis
    )
    latency: JsonDict = Field(default_factory=dict)
    variables: JsonDict = Field(default_factory=dict)
    metadata: JsonDict = Field(default_factory=dict)
    cost_cents: int | float | None = None
    credits_used: float | None = None
    twilio_call_sid: str | None = None
    outcome: str | None = None
    ai_summary: str | None = None

    @property
    def call_status(self) -> CallStatus | None:
        """The status as a `CallStatus` (any case, `-` or `_`), or None when OneInbox sent an
        undocumented one."""
        try:
            return CallStatus(status_word(self.status))
        except ValueError:
            return None

    @property
    def is_final(self) -> bool:
        """True once the call has `completed` or `failed`; unknown statuses are not final."""
        return self.call_status in FINAL_STATUSES

    def outcome_label(self) -> str | None:
        """The outcome label: the top-level `outcome`, else `analysis.outcome`."""
        return self.outcome or self.analysis.outcome or None

    def summary_text(self) -> str | None:
        """The AI summary: `ai_summary`, else `analysis.summary`."""
        return self.ai_summary or self.analysis.summary or None

    def transcript_text(self) -> str:
        """The conversation as text, one `role: content` line per turn.

        Uses `transcript` in either documented shape; when it is empty, falls back to
        `messages` (the field the docs say replaces it).
        """
        if isinstance(self.transcript, str) and self.transcript.strip():
            return self.transcript
        turns = self.transcript if isinstance(self.transcript, list) and self.transcript else None
        return render_turns(turns if turns is not None else self.messages)

    def post_call_ready(self) -> bool:
        """True when the post-call data (messages, transcript, summary or outcome) has landed."""
        return bool(
            self.messages or self.transcript or self.summary_text() or self.analysis.outcome
        )


def render_turns(turns: list[dict[str, Any]]) -> str:
    """Render `{role, content}` turns as lines; turns without content are skipped."""
    lines = []
    for turn in turns:
        content = turn.get("content")
        if content is None or content == "":
            continue
        role = turn.get("role")
        lines.append(f"{role}: {content}" if role else str(content))
    return "\n".join(lines)


ItemT = TypeVar("ItemT", bound=BaseModel)


class OffsetPage(_Model, Generic[ItemT]):
    """One page of an offset-paginated list: `{items, total, limit, offset}`."""

    items: list[ItemT] = Field(default_factory=list)
    total: int | None = None
    limit: int | None = None
    offset: int | None = None


class CallCursorPage(_Model):
    """A page of `GET /v1/calls/cursor`; follow `next_cursor` while `has_more`."""

    items: list[Call] = Field(default_factory=list)
    next_cursor: str | None = None
    has_more: bool = False
    limit: int | None = None


class Usage(_Model):
    """`GET /v1/usage`. Daily figures reset at 00:00 UTC; monthly ones cover the UTC month."""

    calls_made_today: int | None = None
    max_calls_per_day: int | None = None
    calls_remaining_today: int | None = None
    calls_this_month: int | None = None
    minutes_used_this_month: float | None = None
    cost_cents_this_month: float | None = None
    kb_token_budget: int | None = None
    period_start: UtcDatetime | None = None


class Agent(_Model):
    """A voice agent (AgentResponse). Only `id` is required; the rest is kept as sent."""

    id: str
    name: str | None = None
    language: str | None = None
    first_message: str | None = None
    max_duration_seconds: int | None = None
    voicemail_detection: bool | None = None
    dynamic_variables: JsonDict = Field(default_factory=dict)
    metadata: JsonDict = Field(default_factory=dict)
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None


class AgentPage(OffsetPage[Agent]):
    """A page of `GET /v1/agents`."""


class PhoneNumber(_Model):
    """A number registered with OneInbox, usable as `from_number`."""

    id: str
    phone_number: str
    friendly_name: str | None = None
    provider: str | None = None
    agent_id: str | None = None
    status: str | None = None
    inbound_routing: JsonDict = Field(default_factory=dict)
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None


class AvailableNumber(_Model):
    """A number offered by `GET /v1/phone-numbers/search` (shape undocumented: lenient)."""

    phone_number: str
    friendly_name: str | None = None
    locality: str | None = None
    region: str | None = None
    country: str | None = None


class Credential(_Model):
    """A stored third-party credential. The raw key is never returned, only `masked_key`."""

    id: str
    name: str | None = None
    provider: str | None = None
    masked_key: str | None = None
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None
