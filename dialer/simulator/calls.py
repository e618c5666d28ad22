"""A stored call and how it looks at an instant: the CallResponse body and its webhook events."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dialer.simulator import engine
from dialer.simulator.engine import CallPlan, Status, Timeline

COST_CENTS_PER_MINUTE = 2  # billed per started minute of a connected call, as carriers do
RECORDING_TTL_S = 4 * 3600  # a signed recording link is valid this long after it is read
RECORDING_HOST = "https://recordings.simulator.oneinbox.invalid"


def iso(t: float | None) -> str | None:
    """A unix time as an ISO-8601 UTC string ending in `Z` (None stays None)."""
    if t is None:
        return None
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


@dataclass
class CallRecord:
    """What the simulator stores for one call; everything else is derived from it and the time."""

    id: str
    seq: int
    agent_id: str
    to_number: str
    from_number: str
    plan: CallPlan
    tl: Timeline
    speed: float
    spelling: str = "documented"
    scheduled_at: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    overrides: dict[str, Any] | None = None
    webhook_url: str | None = None
    outcome_override: str | None = None
    carrier_sid: str = field(default_factory=lambda: "CA" + uuid.uuid4().hex)
    report_costs: bool = True
    sent_events: set[str] = field(default_factory=set)

    def status(self, now: float) -> Status:
        """The status at `now`."""
        return engine.status_at(self.tl, now)

    def post_ready(self, now: float) -> bool:
        """Whether the post-call fields are visible at `now`."""
        return self.tl.post_ready is not None and now >= self.tl.post_ready

    def outcome(self) -> str | None:
        """The outcome label (manual override first)."""
        return self.outcome_override or engine.outcome_of(self.tl, self.plan)


def _messages(rec: CallRecord) -> list[dict[str, str]]:
    name = str(rec.variables.get("lead_name", "there"))
    if rec.tl.answered is None:
        return []
    outcome = rec.outcome()
    if outcome == "Voicemail":
        return [{"role": "assistant", "content": f"Hi {name}, sorry I missed you. I'll call back."}]
    reply = {
        "Interested": "Yes, that sounds interesting. Tell me more.",
        "Appointment Booked": "Sure, Tuesday at 10 works for me.",
    }.get(outcome or "", "No thanks, I'm not interested.")
    return [
        {"role": "assistant", "content": f"Hi {name}, this is the OneInbox assistant."},
        {"role": "user", "content": reply},
        {"role": "assistant", "content": "Thanks for your time. Goodbye!"},
    ]


def _summary(rec: CallRecord) -> str:
    if rec.tl.status is Status.FAILED:
        return "The call could not be connected."
    return f"Outbound call to {rec.to_number}: {rec.outcome() or 'no outcome'}."


def _latency() -> dict[str, dict[str, float | int]]:
    stats = {"avg_ms": 420.0, "p50_ms": 400.0, "min_ms": 250.0, "max_ms": 900.0, "samples": 3}
    return {"llm_ttft": dict(stats), "tts_ttfb": dict(stats), "eou_delay": dict(stats)}


def _pick(rec: CallRecord, salt: str, choices: tuple[str, ...]) -> str:
    """One of `choices`, the same for the same call every time it is read."""
    digest = hashlib.sha256(f"{rec.id}|{salt}".encode()).digest()
    return choices[digest[0] % len(choices)]


def _analysis(rec: CallRecord) -> dict[str, Any]:
    """Post-call analysis with what the agent extracted (only from a conversation)."""
    outcome = rec.outcome()
    found: dict[str, Any] = {"outcome": outcome, "summary": _summary(rec)}
    if rec.tl.answered is None or outcome in (None, "Voicemail", "Not Connected"):
        return found
    positive = outcome in ("Interested", "Appointment Booked")
    found["sentiment"] = "positive" if positive else "negative"
    extracted: dict[str, Any] = {"decision_maker": _pick(rec, "dm", ("yes", "no"))}
    if positive:
        extracted["budget"] = _pick(rec, "budget", ("$1,000-5,000", "$5,000-20,000", "over $20k"))
        extracted["timeline"] = _pick(rec, "timeline", ("this quarter", "next quarter"))
    if outcome == "Appointment Booked":
        extracted["appointment"] = _pick(rec, "slot", ("Tuesday 10:00", "Thursday 15:30"))
    found["extracted"] = extracted
    found["key_points"] = [f"outcome: {outcome}", f"sentiment: {found['sentiment']}"]
    return found


def _cost_cents(rec: CallRecord, seconds: int) -> int | None:
    """The carrier's cost: per started minute of a connected call, none for one never answered."""
    if not rec.report_costs:
        return None
    return -(-seconds // 60) * COST_CENTS_PER_MINUTE


def _recording_url(rec: CallRecord, now: float) -> str | None:
    """A link signed for `RECORDING_TTL_S` from this read (a later read signs a fresh one)."""
    if rec.tl.answered is None:
        return None
    expires = int(now + RECORDING_TTL_S)
    signature = hashlib.sha256(f"{rec.id}|{expires}".encode()).hexdigest()[:16]
    return f"{RECORDING_HOST}/{rec.id}.wav?expires={expires}&signature={signature}"


def _post_call(rec: CallRecord, seconds: int, now: float) -> dict[str, Any]:
    messages = _messages(rec)
    credits = round(seconds / 60, 4)
    return {
        "messages": messages,
        "transcript": "\n".join(f"{m['role']}: {m['content']}" for m in messages),
        "analysis": _analysis(rec),
        "ai_summary": _summary(rec),
        "outcome": rec.outcome(),
        "latency": _latency(),
        "credits_used": credits,
        "cost_cents": _cost_cents(rec, seconds),
        "recording_url": _recording_url(rec, now),
    }


_EMPTY_POST_CALL: dict[str, Any] = {
    "messages": [],
    "transcript": None,
    "analysis": {"outcome": None, "summary": None},
    "ai_summary": None,
    "outcome": None,
    "latency": {},
    "credits_used": None,
    "cost_cents": None,
    "recording_url": None,
}


def render(rec: CallRecord, now: float) -> dict[str, Any]:
    """The full CallResponse body of `rec` as seen at `now`."""
    status = rec.status(now)
    final = status in engine.FINAL
    answered = rec.tl.answered if rec.tl.answered is not None and now >= rec.tl.answered else None
    seconds = engine.duration(rec.tl, rec.speed) if final else None
    body: dict[str, Any] = {
        "id": rec.id,
        "agent_id": rec.agent_id,
        "type": "outbound",
        "direction": "outbound",
        "status": engine.spell(rec.tl, status, rec.spelling),
        "from_number": rec.from_number,
        "to_number": rec.to_number,
        "room_name": None,
        "scheduled_at": rec.scheduled_at,
        "variables": rec.variables,
        "metadata": rec.metadata,
        "started_at": iso(answered),
        "ended_at": iso(rec.tl.ended) if final else None,
        "duration_seconds": seconds,
        "end_reason": rec.tl.end_reason if final else None,
        "created_at": iso(rec.tl.created),
        "updated_at": iso(_updated(rec, now)),
        "twilio_call_sid": rec.carrier_sid,
    }
    body.update(_post_call(rec, seconds or 0, now) if rec.post_ready(now) else _EMPTY_POST_CALL)
    return body


def _updated(rec: CallRecord, now: float) -> float:
    marks = [rec.tl.created, rec.tl.dispatched, rec.tl.answered, rec.tl.ended, rec.tl.post_ready]
    return max(t for t in marks if t is not None and t <= now)


def events(rec: CallRecord, analyzed: bool = False) -> list[tuple[float, str]]:
    """The webhook events of `rec` as (due time, event name), in firing order."""
    tl = rec.tl
    out: list[tuple[float, str]] = []
    if tl.answered is not None:
        out.append((tl.answered, "call.started"))
    if tl.ended is not None:
        failed = tl.status is Status.FAILED
        out.append((tl.ended, "call.failed" if failed else "call.ended"))
        if tl.post_ready is not None and not failed:
            if analyzed:
                out.append((tl.post_ready, "call.analyzed"))
            out.append((tl.post_ready, "transcript.final"))
    return out


def payload(rec: CallRecord, event: str, now: float) -> dict[str, Any]:
    """The flat JSON body of webhook `event` for `rec` (shape per the reference's §5c)."""
    body = render(rec, now)
    base = {
        "event": event,
        "call_id": rec.id,
        "agent_id": rec.agent_id,
        "to_number": rec.to_number,
        "from_number": rec.from_number,
        "metadata": rec.metadata,
    }
    if event == "call.started":
        return {**base, "created_at": body["created_at"], "started_at": body["started_at"]}
    if event in ("call.ended", "call.failed"):
        keys = ("status", "duration_seconds", "ended_at", "end_reason", "outcome")
        return {**base, **{k: body[k] for k in keys}, "summary": body["ai_summary"]}
    if event == "call.analyzed":
        return {
            **base,
            "outcome": body["outcome"],
            "summary": body["ai_summary"],
            "analysis": body["analysis"],
        }
    return {
        **base,
        "messages": body["messages"],
        "transcript": body["transcript"],
        "outcome": body["outcome"],
        "summary": body["ai_summary"],
    }
