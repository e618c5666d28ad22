"""The simulator's in-memory state: calls, seeded resources, the create log and delivery log."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dialer.simulator import engine
from dialer.simulator.calls import CallRecord, iso
from dialer.simulator.config import SimulatorConfig
from dialer.simulator.faults import FaultBook

Clock = Callable[[], float]


def default_agent(agent_id: str, name: str, now: float) -> dict[str, Any]:
    """A full AgentResponse body with the documented fields and plausible defaults."""
    stamp = iso(now)
    return {
        "id": agent_id,
        "name": name,
        "llm_id": None,
        "webhook_id": None,
        "transcriber": {},
        "tts": {},
        "first_message": None,
        "end_call_phrases": [],
        "max_duration_seconds": 600,
        "interruption_sensitivity": 0.5,
        "silence_timeout_seconds": 30,
        "enable_recording": False,
        "language": "en",
        "dynamic_variables": {},
        "voicemail_detection": True,
        "voicemail_message": None,
        "responsiveness": 1.0,
        "speed": 1.0,
        "background_sound": None,
        "emotions": False,
        "job_description": "",
        "metadata": {},
        "created_at": stamp,
        "updated_at": stamp,
        "effective_system_prompt": "",
    }


def phone_number_body(number: str, agent_id: str, now: float, **extra: Any) -> dict[str, Any]:
    """A PhoneNumberResponse body for a registered number."""
    stamp = iso(now)
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "phone_number": number,
        "friendly_name": None,
        "provider": "twilio",
        "agent_id": agent_id,
        "status": "active",
        "inbound_trunk_id": None,
        "outbound_trunk_id": None,
        "dispatch_rule_id": None,
        "created_at": stamp,
        "updated_at": stamp,
        "inbound_routing": None,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


@dataclass
class SimState:
    """Everything one simulator app holds. Guard compound updates with `lock`."""

    config: SimulatorConfig
    clock: Clock = time.time
    lock: threading.RLock = field(default_factory=threading.RLock)
    calls: dict[str, CallRecord] = field(default_factory=dict)
    with_webhooks: dict[str, CallRecord] = field(default_factory=dict)  # calls with a webhook_url
    per_number: dict[str, int] = field(default_factory=dict)
    creates: list[dict[str, Any]] = field(default_factory=list)
    intervals: dict[str, tuple[float, float | None]] = field(default_factory=dict)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    agents: dict[str, dict[str, Any]] = field(default_factory=dict)
    numbers: dict[str, dict[str, Any]] = field(default_factory=dict)
    credentials: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: FaultBook = field(init=False)
    seq: int = 0
    created_per_day: dict[float, int] = field(default_factory=dict)  # the create log, counted

    def __post_init__(self) -> None:
        self.faults = FaultBook(self.config.faults, self.config.seed)
        self.seed_resources()

    def seed_resources(self) -> None:
        """(Re)load the agents and from-numbers named in the config."""
        now = self.clock()
        first_agent = next(iter(self.config.agents), "")
        for agent_id, name in self.config.agents.items():
            self.agents.setdefault(agent_id, default_agent(agent_id, name, now))
        for number in self.config.from_numbers:
            self.numbers.setdefault(number, phone_number_body(number, first_agent, now))

    def reset(self) -> None:
        """Forget every call, create attempt, delivery and fault rule."""
        with self.lock:
            self.calls.clear()
            self.with_webhooks.clear()
            self.per_number.clear()
            self.creates.clear()
            self.intervals.clear()
            self.deliveries.clear()
            self.faults.clear()
            self.seq = 0
            self.created_per_day.clear()

    def log_create(
        self,
        to_number: str,
        metadata: dict[str, Any],
        outcome: str,
        call_id: str | None = None,
        *,
        at: float | None = None,
    ) -> None:
        """Record one create attempt that reached the server: `t` when it is logged (after
        any delay a fault holds it), `received` when it arrived (`at`; else now)."""
        with self.lock:
            t = self.clock()
            self.creates.append(
                {
                    "call_id": call_id,
                    "to_number": to_number,
                    "metadata": metadata,
                    "t": t,
                    "received": t if at is None else at,
                    "outcome": outcome,
                }
            )
            if call_id:
                day = day_start(t)
                self.created_per_day[day] = self.created_per_day.get(day, 0) + 1

    def created_since(self, day: float) -> int:
        """Calls created (per the create log) on the day starting at `day` or later."""
        with self.lock:
            return sum(n for start, n in self.created_per_day.items() if start >= day)

    def new_call(self, **fields: Any) -> CallRecord:
        """Plan, store and return a new call (fields as in `CallRecord`, minus plan/timeline)."""
        cfg = self.config
        with self.lock:
            to = fields["to_number"]
            nth = self.per_number.get(to, 0)
            self.per_number[to] = nth + 1
            script = cfg.scripted.get(to) or cfg.default_script
            plan = engine.plan_call(cfg.seed, to, nth, script, cfg.post_call_delay)
            tl = engine.timeline(plan, self.clock(), cfg.speed, fields.pop("scheduled_ts", None))
            self.seq += 1
            rec = CallRecord(
                id=str(uuid.uuid4()),
                seq=self.seq,
                plan=plan,
                tl=tl,
                speed=cfg.speed,
                spelling=cfg.status_spelling,
                report_costs=cfg.report_costs,
                **fields,
            )
            self.calls[rec.id] = rec
            if rec.webhook_url:
                self.with_webhooks[rec.id] = rec
            self.intervals[rec.id] = (tl.created, tl.ended)
            return rec

    def stop_call(self, rec: CallRecord) -> None:
        """End `rec` now with end_reason `api_stop` (no-op if it is already final)."""
        with self.lock:
            rec.tl = engine.stop(rec.tl, rec.plan, self.clock(), rec.speed)
            self.intervals[rec.id] = (rec.tl.created, rec.tl.ended)

    def delete_call(self, rec: CallRecord) -> None:
        """Forget `rec`; if it was still live, its active interval ends now."""
        with self.lock:
            self.stop_call(rec)
            del self.calls[rec.id]
            self.with_webhooks.pop(rec.id, None)

    def calls_newest_first(self) -> list[CallRecord]:
        """Every stored call, newest first."""
        with self.lock:
            return sorted(self.calls.values(), key=lambda r: r.seq, reverse=True)

    def calls_created_since(self, since: float) -> list[CallRecord]:
        """Calls created at or after `since` (deleted ones are not counted)."""
        with self.lock:
            return [r for r in self.calls.values() if r.tl.created >= since]

    def stats(self) -> dict[str, Any]:
        """Counts of create outcomes and calls by status, plus exact `max_active`."""
        now = self.clock()
        with self.lock:
            outcomes: dict[str, int] = {}
            for attempt in self.creates:
                outcomes[attempt["outcome"]] = outcomes.get(attempt["outcome"], 0) + 1
            statuses: dict[str, int] = {}
            for rec in self.calls.values():
                key = rec.status(now).value
                statuses[key] = statuses.get(key, 0) + 1
            live = [iv for iv in self.intervals.values() if iv[1] is None or iv[1] > now]
            return {
                "create_attempts": len(self.creates),
                "create_outcomes": outcomes,
                "calls": len(self.calls),
                "by_status": statuses,
                "active": len(live),
                "max_active": engine.max_overlap(list(self.intervals.values())),
                "deliveries": len(self.deliveries),
            }


def day_start(t: float) -> float:
    """00:00 UTC of the day holding `t`."""
    d = datetime.fromtimestamp(t, UTC)
    return d.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def month_start(t: float) -> float:
    """00:00 UTC on the first of the month holding `t`."""
    d = datetime.fromtimestamp(t, UTC)
    return d.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()
