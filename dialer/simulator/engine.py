"""The call lifecycle as pure functions of (seed, number, n-th call) and time.

A call's `CallPlan` is drawn from a RNG seeded by `hash(seed, to_number, n)`, so concurrent creates
get the same plans in any order. Plan durations are in simulated seconds; the `Timeline` divides
them by `speed` and anchors them at the call's real start, so the state at any instant is a
lookup, never a background job:

    queued --(scheduled_at)--> initiated --(ring)--> in_progress --(talk)--> completed
                                         \\--(dial fails)--> failed
                                          \\--(nobody answers)--> completed ("Not Connected")

Post-call fields (messages, analysis, ...) appear `post_delay` after the terminal status.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, replace
from enum import StrEnum

from dialer.simulator.config import ScriptedOutcome


class Status(StrEnum):
    """The documented CallResponse status enum."""

    QUEUED = "queued"
    INITIATED = "initiated"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"


FINAL = frozenset({Status.COMPLETED, Status.FAILED})

# Random (unscripted) outcome mix: (outcome label or None for failed, weight).
_MIX: list[tuple[str | None, int]] = [
    ("Interested", 20),
    ("Not Interested", 25),
    ("Appointment Booked", 10),
    ("Voicemail", 20),
    ("Not Connected", 15),
    (None, 10),
]
_SCRIPTED_LABEL: dict[str, str | None] = {
    "completed": "Interested",
    "voicemail": "Voicemail",
    "no_answer": "Not Connected",
    "failed": None,
    "never_ends": "Not Interested",
    "busy": None,
    "unanswered": None,
    "canceled": None,
    "do_not_call": "Do Not Call",  # a custom outcome: the person asked not to be called again
    "interested": "Interested",
    "not_interested": "Not Interested",
    "appointment_booked": "Appointment Booked",
}
# Scripted outcomes that end the call with an undocumented status word (never connected).
_STATUS_WORD = {"busy": "busy", "unanswered": "no_answer", "canceled": "canceled"}
_END_REASON: dict[str | None, str] = {
    "Interested": "end_call",
    "Appointment Booked": "end_call",
    "Not Interested": "customer_hangup",
    "Do Not Call": "customer_hangup",
    "Voicemail": "voicemail",
    "Not Connected": "no_answer",
    None: "dial_failed",
}


@dataclass(frozen=True)
class CallPlan:
    """How one call will go, in simulated seconds. `talk` None means it never ends by itself."""

    outcome: str | None  # the post-call label; None for a failed call
    ring: float  # initiated -> in_progress (or -> failed / not connected)
    talk: float | None  # in_progress -> completed; 0 means never answered
    post_delay: float  # terminal status -> post-call fields
    word: str | None = None  # the terminal status word, when not `completed`/`failed`

    @property
    def failed(self) -> bool:
        """Whether this call ends as `failed` (never connected)."""
        return self.outcome is None

    @property
    def answered(self) -> bool:
        """Whether the call reaches `in_progress`."""
        return not self.failed and self.outcome != "Not Connected"

    @property
    def end_reason(self) -> str:
        """The `end_reason` the call gets when it ends on its own."""
        return self.word or _END_REASON[self.outcome]


def call_rng(seed: int, to_number: str, nth: int) -> random.Random:
    """The RNG behind the `nth` (0-based) call to `to_number` under `seed`."""
    digest = hashlib.sha256(f"{seed}|{to_number}|{nth}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def plan_call(
    seed: int,
    to_number: str,
    nth: int,
    script: list[ScriptedOutcome] | None = None,
    post_delay: tuple[float, float] = (2.0, 3.0),
) -> CallPlan:
    """The plan of the `nth` call to `to_number`: scripted if a script is given, else drawn."""
    rng = call_rng(seed, to_number, nth)
    if script:
        kind = script[min(nth, len(script) - 1)]
        label = _SCRIPTED_LABEL[kind]
    else:
        kind = None
        labels, weights = zip(*_MIX, strict=True)
        label = rng.choices(labels, weights=weights)[0]
    delay = rng.uniform(*post_delay)
    if label is None:
        return CallPlan(None, rng.uniform(1.0, 5.0), 0.0, delay, _STATUS_WORD.get(kind or ""))
    if label == "Not Connected":
        return CallPlan(label, rng.uniform(15.0, 30.0), 0.0, delay)
    ring = rng.uniform(2.0, 8.0)
    if kind == "never_ends":
        return CallPlan(label, ring, None, delay)
    talk = rng.uniform(5.0, 25.0) if label == "Voicemail" else rng.uniform(20.0, 120.0)
    return CallPlan(label, ring, talk, delay)


@dataclass(frozen=True)
class Timeline:
    """A call's real (unix) instants. None means "never" (or not yet known)."""

    created: float
    dispatched: float  # when it leaves `queued` (scheduled_at, or created)
    answered: float | None  # in_progress from here
    ended: float | None  # terminal from here
    post_ready: float | None  # post-call fields from here
    status: Status  # the terminal status it reaches at `ended`
    end_reason: str | None
    stopped: bool = False
    word: str | None = None  # the terminal status word, when not `completed`/`failed`


def timeline(plan: CallPlan, created: float, speed: float, scheduled: float | None) -> Timeline:
    """Where `plan` puts a call created at `created` (real seconds), run `speed` times faster."""
    start = max(created, scheduled or created)
    ring_end = start + plan.ring / speed
    terminal = Status.FAILED if plan.failed else Status.COMPLETED
    if not plan.answered:
        return Timeline(
            created,
            start,
            None,
            ring_end,
            ring_end + plan.post_delay / speed,
            terminal,
            plan.end_reason,
            word=plan.word,
        )
    if plan.talk is None:
        return Timeline(created, start, ring_end, None, None, terminal, None)
    ended = ring_end + plan.talk / speed
    return Timeline(
        created, start, ring_end, ended, ended + plan.post_delay / speed, terminal, plan.end_reason
    )


def stop(tl: Timeline, plan: CallPlan, at: float, speed: float) -> Timeline:
    """The timeline of a call stopped at `at`: unchanged if it had already ended."""
    if tl.ended is not None and tl.ended <= at:
        return tl
    answered = tl.answered if tl.answered is not None and tl.answered <= at else None
    return replace(
        tl,
        answered=answered,
        ended=at,
        post_ready=at + plan.post_delay / speed,
        status=Status.COMPLETED,
        end_reason="api_stop",
        stopped=True,
        word=None,
    )


def status_at(tl: Timeline, now: float) -> Status:
    """The call's status at instant `now`."""
    if tl.ended is not None and now >= tl.ended:
        return tl.status
    if tl.answered is not None and now >= tl.answered:
        return Status.IN_PROGRESS
    if now >= tl.dispatched:
        return Status.INITIATED
    return Status.QUEUED


def spell(tl: Timeline, status: Status, spelling: str) -> str:
    """The status word the provider sends: the timeline's own word once ended, spelled as
    configured (`documented`, `hyphen` or `upper`)."""
    word = tl.word if status in FINAL and tl.word else status.value
    if spelling == "hyphen":
        return word.replace("_", "-")
    return word.upper() if spelling == "upper" else word


def outcome_of(tl: Timeline, plan: CallPlan) -> str | None:
    """The post-call outcome label (once post-call fields are visible)."""
    if tl.stopped and tl.answered is None:
        return "Not Connected"
    return None if tl.status is Status.FAILED else plan.outcome


def duration(tl: Timeline, speed: float) -> int | None:
    """Talk time in simulated seconds (what the provider would bill), once the call has ended."""
    if tl.ended is None:
        return None
    if tl.answered is None:
        return 0
    return round((tl.ended - tl.answered) * speed)


def max_overlap(intervals: list[tuple[float, float | None]]) -> int:
    """The most intervals open at any one instant; an interval is [start, end), None = open."""
    events: list[tuple[float, int]] = []
    for start, end in intervals:
        events.append((start, 1))
        if end is not None:
            events.append((end, -1))
    events.sort()  # at equal times -1 sorts before +1: an end and a start do not overlap
    best = current = 0
    for _, step in events:
        current += step
        best = max(best, current)
    return best
