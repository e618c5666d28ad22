"""The /v1 routes around calls: usage, agents, phone numbers and credentials."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import phonenumbers
from fastapi import APIRouter, Depends, HTTPException, Query, Request

from dialer.simulator.calls import iso
from dialer.simulator.config import Endpoint
from dialer.simulator.deps import guard, page, state_of
from dialer.simulator.models import (
    CreateAgent,
    CreateCredential,
    Limit,
    Offset,
    PurchaseNumber,
    RegisterNumber,
)
from dialer.simulator.routes_calls import calls_made_today
from dialer.simulator.store import SimState, default_agent, month_start, phone_number_body

router = APIRouter(prefix="/v1")
other = [Depends(guard(Endpoint.OTHER))]
US_REGIONS = {"212": "NY", "213": "CA", "312": "IL", "415": "CA", "512": "TX", "617": "MA"}


@router.get("/usage", dependencies=[Depends(guard(Endpoint.USAGE))])
def usage(request: Request) -> dict[str, Any]:
    """Today's and this month's consumption against the daily cap."""
    sim = state_of(request)
    now = sim.clock()
    made = calls_made_today(sim, now)
    cap = sim.config.max_calls_per_day
    month = sim.calls_created_since(month_start(now))
    ended = [r for r in month if r.tl.ended is not None and r.tl.ended <= now]
    seconds = [
        (r.tl.ended - r.tl.answered) * r.speed
        for r in ended
        if r.tl.ended is not None and r.tl.answered is not None
    ]
    return {
        "calls_made_today": made,
        "max_calls_per_day": cap,
        "calls_remaining_today": max(cap - made, 0),
        "calls_this_month": len(month),
        "minutes_used_this_month": round(sum(seconds) / 60, 2),
        "cost_cents_this_month": sum(-(-round(s) * 2 // 60) for s in seconds),
        "kb_token_budget": 10000,
        "period_start": iso(month_start(now)),
    }


@router.get("/agents", dependencies=other)
def list_agents(
    request: Request,
    limit: Annotated[Limit, Query()] = 20,
    offset: Annotated[Offset, Query()] = 0,
) -> dict[str, Any]:
    """Agents, oldest first, offset-paginated."""
    return page(list(state_of(request).agents.values()), limit, offset)


def _agent(sim: SimState, agent_id: uuid.UUID | str) -> dict[str, Any]:
    agent = sim.agents.get(str(agent_id))
    if agent is None:
        raise HTTPException(404, f"Agent {agent_id} not found")
    return agent


@router.get("/agents/{agent_id}", dependencies=other)
def get_agent(agent_id: uuid.UUID, request: Request) -> dict[str, Any]:
    """One agent."""
    return _agent(state_of(request), agent_id)


@router.post("/agents", status_code=201, dependencies=other)
def create_agent(body: CreateAgent, request: Request) -> dict[str, Any]:
    """Create an agent; fields besides `name` override the defaults."""
    sim = state_of(request)
    agent = default_agent(str(uuid.uuid4()), body.name, sim.clock())
    agent.update({k: v for k, v in (body.model_extra or {}).items() if k in agent})
    sim.agents[agent["id"]] = agent
    return agent


@router.get("/phone-numbers", dependencies=other)
def list_numbers(
    request: Request,
    limit: Annotated[Limit, Query()] = 20,
    offset: Annotated[Offset, Query()] = 0,
) -> dict[str, Any]:
    """Registered numbers, oldest first."""
    return page(list(state_of(request).numbers.values()), limit, offset)


def _register(sim: SimState, number: str, agent_id: str, **extra: Any) -> dict[str, Any]:
    with sim.lock:
        if number in sim.numbers:
            raise HTTPException(409, f"Phone number {number} is already registered")
        body = phone_number_body(number, agent_id, sim.clock(), **extra)
        sim.numbers[number] = body
        return body


@router.post("/phone-numbers", status_code=201, dependencies=other)
def register_number(body: RegisterNumber, request: Request) -> dict[str, Any]:
    """Register a Twilio/Telnyx number so it can be used as `from_number`."""
    sim = state_of(request)
    _agent(sim, body.agent_id)
    if body.credential_id is not None and str(body.credential_id) not in sim.credentials:
        raise HTTPException(404, f"Credential {body.credential_id} not found")
    return _register(
        sim,
        body.phone_number,
        str(body.agent_id),
        provider=body.provider,
        friendly_name=body.friendly_name,
        inbound_routing=body.inbound_routing,
    )


def available_numbers(
    sim: SimState, country: str, area_code: str | None, contains: str | None, limit: int
) -> list[dict[str, Any]]:
    """Deterministic fake numbers for sale, skipping registered ones."""
    country = country.upper()
    code = phonenumbers.country_code_for_region(country)
    if not code:
        raise HTTPException(404, f"No numbers available in {country}")
    area = area_code or ("415" if code == 1 else "20")
    items: list[dict[str, Any]] = []
    for i in range(10000):
        number = f"+{code}{area}555{i:04d}"
        if number in sim.numbers or (contains and contains not in number[1:]):
            continue
        items.append(
            {
                "phone_number": number,
                "country": country,
                "region": US_REGIONS.get(area) if code == 1 else None,
                "capabilities": {"voice": True, "sms": True},
                "monthly_cost_cents": 115,
            }
        )
        if len(items) >= limit:
            break
    return items


@router.get("/phone-numbers/search", dependencies=other)
def search_numbers(
    request: Request,
    country: Annotated[str, Query(min_length=2, max_length=2)] = "US",
    area_code: Annotated[str | None, Query(pattern=r"^\d{2,4}$")] = None,
    contains: Annotated[str | None, Query(pattern=r"^\d{1,8}$")] = None,
    limit: Annotated[Limit, Query()] = 10,
    credential_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """Numbers that could be purchased (a fixed, seeded-free catalogue)."""
    sim = state_of(request)
    if credential_id is not None and str(credential_id) not in sim.credentials:
        raise HTTPException(404, f"Credential {credential_id} not found")
    return {"items": available_numbers(sim, country, area_code, contains, limit)}


@router.post("/phone-numbers/purchase", status_code=201, dependencies=other)
def purchase_number(body: PurchaseNumber, request: Request) -> dict[str, Any]:
    """Buy a number (a specific one, or the first match of the filters) and register it."""
    sim = state_of(request)
    agent_id = str(body.agent_id) if body.agent_id else next(iter(sim.agents), "")
    if body.agent_id is not None:
        _agent(sim, body.agent_id)
    number = body.phone_number
    if number is None:
        found = available_numbers(sim, body.country, body.area_code, body.contains, 1)
        if not found:
            raise HTTPException(404, "No available number matches these filters")
        number = found[0]["phone_number"]
    return _register(sim, number, agent_id, friendly_name=body.friendly_name)


def _masked(key: str) -> str:
    return f"{key[:3]}...{key[-4:]}" if len(key) > 10 else "****"


@router.post("/credentials", status_code=201, dependencies=other)
def create_credential(body: CreateCredential, request: Request) -> dict[str, Any]:
    """Store a provider key; the response never includes it."""
    sim = state_of(request)
    stamp = iso(sim.clock())
    cred: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "name": body.name,
        "provider": body.provider,
        "masked_key": _masked(body.api_key),
        "created_at": stamp,
        "updated_at": stamp,
    }
    sim.credentials[cred["id"]] = cred
    return {k: cred[k] for k in ("id", "name", "provider", "created_at")}


@router.get("/credentials", dependencies=other)
def list_credentials(
    request: Request,
    limit: Annotated[Limit, Query()] = 20,
    offset: Annotated[Offset, Query()] = 0,
) -> dict[str, Any]:
    """Stored credentials (masked), oldest first."""
    return page(list(state_of(request).credentials.values()), limit, offset)


@router.get("/integrations/{credential_id}", dependencies=other)
def get_integration(credential_id: uuid.UUID, request: Request) -> dict[str, Any]:
    """One credential with its masked key."""
    cred = state_of(request).credentials.get(str(credential_id))
    if cred is None:
        raise HTTPException(404, f"Credential {credential_id} not found")
    return cred
