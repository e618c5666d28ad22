"""What a simulator run is made of: keys, seeded resources, pacing, caps and fault rules.

A `SimulatorConfig` is plain data. Tests build one, add agents, numbers or scripted outcomes, and
hand it to `create_app` or `start_in_thread`. Fault rules can also be given as strings
(`parse_fault_spec`), which is how the CLI takes them:

    KIND[:ENDPOINT][:key=value,key=value...]

    rate_limit:create:count=3,retry_after=2     the next 3 creates get 429 + Retry-After: 2
    error:create:p=0.2                          20% of creates get 503 and create nothing
    ambiguous:create:count=1                    the next create is made, but answered 504
    timeout:create:count=1,delay=15             the next create is made, answered after 15 s
    late:create:count=1,delay=45                the next create is held 45 s, then made (and
                                                answered): made after the client gave up
    error:get:count=2,status=500                the next 2 GET /v1/calls/{id} get 500
    slow:*:p=0.1,delay=0.5                      10% of all /v1 requests wait 0.5 s first
    duplicate:webhook:count=2                   the next 2 webhook events are delivered twice
    drop:webhook:p=0.5                          half of webhook events are never delivered

Scripted outcomes `busy`, `unanswered` and `canceled` end the call with that status (not one of
the documented five), and `status_spelling` spells every status the way some providers do.
`interested`, `not_interested` and `appointment_booked` end a connected call with that agent
outcome. `default_script` scripts every number without a script of its own (`["failed"]` fails
every call), and `report_costs=False` answers `cost_cents: null` (a carrier that reports none).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_API_KEY = "oi_sk_simulator_0000"
DEFAULT_AGENT_ID = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
DEFAULT_AGENT_NAME = "Simulator agent"
DEFAULT_FROM_NUMBER = "+14155550100"

ScriptedOutcome = Literal[
    "completed",
    "voicemail",
    "no_answer",
    "failed",
    "never_ends",
    "busy",
    "unanswered",
    "canceled",
    "do_not_call",
    "interested",
    "not_interested",
    "appointment_booked",
]
# How the simulator spells call statuses: as documented (`in_progress`), hyphenated like some
# OneInbox dashboards (`in-progress`, `no-answer`), or in capitals (`IN_PROGRESS`).
StatusSpelling = Literal["documented", "hyphen", "upper"]


class FaultKind(StrEnum):
    """What a fault rule does to a matching request or webhook event."""

    RATE_LIMIT = "rate_limit"  # create: 429 + Retry-After, nothing created
    ERROR = "error"  # any route: 5xx, nothing done
    AMBIGUOUS = "ambiguous"  # create: the call IS created, the answer is a 5xx
    TIMEOUT = "timeout"  # create: the call IS created, the answer comes after `delay`
    LATE = "late"  # create: held `delay` s, then the call is created and answered
    SLOW = "slow"  # any route: wait `delay` seconds, then behave normally
    DUPLICATE = "duplicate"  # webhook: deliver the event twice
    DROP = "drop"  # webhook: never deliver the event


class Endpoint(StrEnum):
    """Names fault rules use for the routes they target; `*` matches every /v1 route."""

    CREATE = "create"  # POST /v1/calls
    GET = "get"  # GET /v1/calls/{id}
    LIST = "list"  # GET /v1/calls and GET /v1/calls/cursor
    STOP = "stop"  # POST /v1/calls/{id}/stop
    DELETE = "delete"  # DELETE /v1/calls/{id}
    USAGE = "usage"  # GET /v1/usage
    OTHER = "other"  # agents, phone numbers, credentials
    WEBHOOK = "webhook"  # outgoing webhook deliveries
    ANY = "*"


_DEFAULT_STATUS = {FaultKind.RATE_LIMIT: 429, FaultKind.ERROR: 503, FaultKind.AMBIGUOUS: 504}
_DEFAULT_ENDPOINT = {FaultKind.DUPLICATE: Endpoint.WEBHOOK, FaultKind.DROP: Endpoint.WEBHOOK}


class FaultRule(BaseModel):
    """One fault: which endpoint, what kind, and how often (next `count` or probability `p`).

    With neither `count` nor `p` the rule matches every request until removed.
    """

    model_config = ConfigDict(extra="forbid")

    kind: FaultKind
    endpoint: Endpoint = Endpoint.CREATE
    count: int | None = Field(default=None, ge=1)
    p: float | None = Field(default=None, ge=0.0, le=1.0)
    status: int | None = Field(default=None, ge=400, le=599)
    retry_after: float = Field(default=1.0, ge=0)
    delay: float = Field(default=30.0, ge=0)

    @model_validator(mode="after")
    def _count_or_p(self) -> FaultRule:
        if self.count is not None and self.p is not None:
            raise ValueError("give either count or p, not both")
        return self

    def status_code(self) -> int:
        """The HTTP status this rule answers with (kind default unless `status` is set)."""
        return self.status or _DEFAULT_STATUS.get(self.kind, 503)


class SimulatorConfig(BaseModel):
    """Everything a simulator run is configured with. Mutable so tests can add resources."""

    api_keys: list[str] = Field(default_factory=lambda: [DEFAULT_API_KEY])
    agents: dict[str, str] = Field(default_factory=lambda: {DEFAULT_AGENT_ID: DEFAULT_AGENT_NAME})
    from_numbers: list[str] = Field(default_factory=lambda: [DEFAULT_FROM_NUMBER])
    speed: float = Field(default=1.0, gt=0)
    seed: int = 0
    scripted: dict[str, list[ScriptedOutcome]] = Field(default_factory=dict)
    default_script: list[ScriptedOutcome] = Field(default_factory=list)
    report_costs: bool = True
    max_calls_per_day: int = Field(default=1000, ge=0)
    daily_cap_status: int = Field(default=402, ge=400, le=599)
    blocked_countries: list[str] = Field(default_factory=list)
    faults: list[FaultRule] = Field(default_factory=list)
    post_call_delay: tuple[float, float] = (2.0, 3.0)
    webhook_retry_delays: list[float] = Field(default_factory=lambda: [0.1, 0.3, 1.0])
    webhook_timeout: float = Field(default=3.0, gt=0)
    webhook_secret: str | None = None
    emit_call_analyzed: bool = False
    status_spelling: StatusSpelling = "documented"
    tick: float = Field(default=0.01, gt=0)


def parse_fault_spec(spec: str) -> FaultRule:
    """Parse `KIND[:ENDPOINT][:key=value,...]` (see the module docstring) into a rule."""
    parts = spec.strip().split(":", 2)
    kind = FaultKind(parts[0])
    fields: dict[str, object] = {"kind": kind}
    fields["endpoint"] = _DEFAULT_ENDPOINT.get(kind, Endpoint.CREATE)
    if len(parts) > 1 and parts[1]:
        fields["endpoint"] = Endpoint(parts[1])
    if len(parts) > 2 and parts[2]:
        for item in parts[2].split(","):
            key, sep, value = item.partition("=")
            if not sep:
                raise ValueError(f"fault option {item!r} is not key=value")
            fields[key.strip()] = value.strip()
    return FaultRule.model_validate(fields)
