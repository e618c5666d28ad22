"""The unauthenticated `/_sim` admin API: faults, config, reset and what the server observed."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from dialer.simulator.config import FaultRule, ScriptedOutcome, StatusSpelling
from dialer.simulator.deps import state_of
from dialer.simulator.faults import ActiveFault

router = APIRouter(prefix="/_sim", tags=["simulator admin"])


class ConfigPatch(BaseModel):
    """The config fields that may change at runtime (they apply to later calls and requests)."""

    speed: float | None = Field(default=None, gt=0)
    seed: int | None = None
    scripted: dict[str, list[ScriptedOutcome]] | None = None
    default_script: list[ScriptedOutcome] | None = None
    report_costs: bool | None = None
    max_calls_per_day: int | None = Field(default=None, ge=0)
    daily_cap_status: int | None = Field(default=None, ge=400, le=599)
    blocked_countries: list[str] | None = None
    webhook_retry_delays: list[float] | None = None
    emit_call_analyzed: bool | None = None
    status_spelling: StatusSpelling | None = None


def _fault_body(fault: ActiveFault) -> dict[str, Any]:
    return {"id": fault.id, "remaining": fault.remaining, **fault.rule.model_dump(mode="json")}


@router.get("/creates")
def creates(request: Request) -> list[dict[str, Any]]:
    """Every create attempt that reached the handler: call_id, to_number, metadata, outcome, `t`
    (when the handler logged it) and `received` (when the request reached the app)."""
    sim = state_of(request)
    with sim.lock:
        return list(sim.creates)


@router.get("/stats")
def stats(request: Request) -> dict[str, Any]:
    """Counts by create outcome and by call status, active calls now and exact `max_active`."""
    return state_of(request).stats()


@router.get("/deliveries")
def deliveries(request: Request) -> list[dict[str, Any]]:
    """Every webhook delivery attempt: call_id, event, url, attempt, response_status, error, t."""
    sim = state_of(request)
    with sim.lock:
        return list(sim.deliveries)


@router.get("/faults")
def list_faults(request: Request) -> list[dict[str, Any]]:
    """The fault rules in force, with how many more requests each may hit."""
    return [_fault_body(f) for f in state_of(request).faults.listing()]


@router.post("/faults", status_code=201)
def add_fault(rule: FaultRule, request: Request) -> dict[str, Any]:
    """Put a fault rule in force."""
    return _fault_body(state_of(request).faults.add(rule))


@router.delete("/faults")
def clear_faults(request: Request) -> dict[str, Literal[True]]:
    """Remove every fault rule."""
    state_of(request).faults.clear()
    return {"cleared": True}


@router.delete("/faults/{fault_id}")
def remove_fault(fault_id: str, request: Request) -> dict[str, Literal[True]]:
    """Remove one fault rule."""
    if not state_of(request).faults.remove(fault_id):
        raise HTTPException(404, f"Fault {fault_id} not found")
    return {"cleared": True}


@router.get("/config")
def get_config(request: Request) -> dict[str, Any]:
    """The current configuration."""
    return state_of(request).config.model_dump(mode="json")


@router.patch("/config")
def patch_config(patch: ConfigPatch, request: Request) -> dict[str, Any]:
    """Change runtime-adjustable settings."""
    sim = state_of(request)
    with sim.lock:
        for name, value in patch.model_dump(exclude_none=True).items():
            setattr(sim.config, name, value)
    return sim.config.model_dump(mode="json")


@router.post("/reset")
def reset(request: Request) -> dict[str, Literal[True]]:
    """Forget every call, create attempt, delivery and fault rule (config is kept)."""
    state_of(request).reset()
    return {"reset": True}
