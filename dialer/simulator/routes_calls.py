"""The /v1/calls routes: create (with its faults and caps), read, list, stop, update, delete."""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import json
import uuid
from collections.abc import Callable
from datetime import UTC
from typing import Annotated, Any

import phonenumbers
from fastapi import APIRouter, Depends, HTTPException, Query, Request

from dialer.simulator.calls import CallRecord, render
from dialer.simulator.config import Endpoint, FaultKind
from dialer.simulator.deps import fault_error, guard, page, received, state_of
from dialer.simulator.models import CreateCall, Limit, Offset, UpdateCall
from dialer.simulator.store import SimState, day_start

router = APIRouter(prefix="/v1/calls")


def country_of(number: str) -> str | None:
    """The ISO region (e.g. `IN`) of an E.164 number, None if unknown."""
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        return None
    return str(region) if region and region != "ZZ" else None


def calls_made_today(sim: SimState, now: float) -> int:
    """Calls created since 00:00 UTC, counted from the create log (deletes do not refund)."""
    return sim.created_since(day_start(now))


def _refusal(sim: SimState, body: CreateCall) -> tuple[str, HTTPException] | None:
    """Why this create must be refused (log outcome, error), or None."""
    if str(body.agent_id) not in sim.agents:
        return "refused_404", HTTPException(404, f"Agent {body.agent_id} not found")
    if body.from_number not in sim.numbers:
        detail = f"from_number {body.from_number} is not a phone number registered with OneInbox"
        return "refused_404", HTTPException(404, detail)
    blocked = {c.upper() for c in sim.config.blocked_countries}
    country = country_of(body.to_number) if blocked else None  # a parse: only when it matters
    if country and country.upper() in blocked:
        detail = (
            f"International calling to {country} is not enabled for the carrier of "
            f"{body.from_number}; enable geographic permissions for {country}"
        )
        return "refused_400", HTTPException(400, detail)
    cap = sim.config.max_calls_per_day
    if calls_made_today(sim, sim.clock()) >= cap:
        detail = f"Daily call limit reached ({cap} calls per day); resets at 00:00 UTC"
        return "refused_daily_cap", HTTPException(sim.config.daily_cap_status, detail)
    return None


def _store(sim: SimState, body: CreateCall) -> CallRecord:
    scheduled = body.scheduled_at
    if scheduled is not None and scheduled.tzinfo is None:
        scheduled = scheduled.replace(tzinfo=UTC)
    return sim.new_call(
        agent_id=str(body.agent_id),
        to_number=body.to_number,
        from_number=body.from_number,
        scheduled_ts=scheduled.timestamp() if scheduled else None,
        scheduled_at=scheduled.isoformat().replace("+00:00", "Z") if scheduled else None,
        variables=body.variables,
        metadata=body.metadata,
        overrides=body.overrides,
        webhook_url=body.webhook_url,
    )


@router.post("", status_code=201, dependencies=[Depends(guard(Endpoint.CREATE))])
async def create_call(body: CreateCall, request: Request) -> dict[str, Any]:
    """Create an outbound call (subject to create faults, the daily cap and carrier rules)."""
    sim = state_of(request)
    log = functools.partial(sim.log_create, body.to_number, body.metadata, at=received(request))
    early = sim.faults.take(Endpoint.CREATE, [FaultKind.RATE_LIMIT, FaultKind.ERROR])
    if early is not None:
        log("refused_429" if early.kind is FaultKind.RATE_LIMIT else "refused_5xx")
        raise fault_error(early)
    refusal = _refusal(sim, body)
    if refusal is not None:
        log(refusal[0])
        raise refusal[1]
    held = sim.faults.take(Endpoint.CREATE, [FaultKind.LATE])
    if held is not None:
        return await _create_late(sim, body, held.delay, log)
    rec = _store(sim, body)
    late = sim.faults.take(Endpoint.CREATE, [FaultKind.AMBIGUOUS, FaultKind.TIMEOUT])
    if late is not None and late.kind is FaultKind.AMBIGUOUS:
        log("ambiguous_5xx", rec.id)
        raise HTTPException(late.status_code(), "Gateway timeout")
    if late is not None:
        log("ambiguous_timeout", rec.id)
        await asyncio.sleep(late.delay)
        return render(rec, sim.clock())
    log("created", rec.id)
    return render(rec, sim.clock())


async def _create_late(
    sim: SimState, body: CreateCall, delay: float, log: Callable[[str, str], None]
) -> dict[str, Any]:
    """Hold the create `delay` s, then make the call (with the metadata sent) and answer it.

    The call is made by the event loop, not by this request: it appears in the call list
    `delay` s after the request even when the client gave up and closed the connection."""
    loop = asyncio.get_running_loop()
    made: asyncio.Future[CallRecord] = loop.create_future()

    def make() -> None:
        rec = _store(sim, body)
        log("created_late", rec.id)
        made.set_result(rec)

    loop.call_later(delay, make)
    rec = await asyncio.shield(made)
    return render(rec, sim.clock())


def _filtered(sim: SimState, agent_id: uuid.UUID | None, status: str | None) -> list[CallRecord]:
    now = sim.clock()
    return [
        r
        for r in sim.calls_newest_first()
        if (agent_id is None or r.agent_id == str(agent_id))
        and (status is None or r.status(now).value == status)
    ]


@router.get("", dependencies=[Depends(guard(Endpoint.LIST))])
def list_calls(
    request: Request,
    agent_id: uuid.UUID | None = None,
    status: str | None = None,
    limit: Annotated[Limit, Query()] = 20,
    offset: Annotated[Offset, Query()] = 0,
) -> dict[str, Any]:
    """Calls, newest first, offset-paginated."""
    sim = state_of(request)
    now = sim.clock()
    items = [render(r, now) for r in _filtered(sim, agent_id, status)]
    return page(items, limit, offset)


def _encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"before": seq}).encode()).decode()


def _decode_cursor(cursor: str) -> int:
    try:
        before = json.loads(base64.urlsafe_b64decode(cursor.encode()))["before"]
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise HTTPException(400, "Invalid cursor") from exc
    if not isinstance(before, int):
        raise HTTPException(400, "Invalid cursor")
    return before


@router.get("/cursor", dependencies=[Depends(guard(Endpoint.LIST))])
def list_calls_cursor(
    request: Request,
    agent_id: uuid.UUID | None = None,
    status: str | None = None,
    limit: Annotated[Limit, Query()] = 20,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Calls, newest first, keyset-paginated: pages stay exact while new calls arrive."""
    sim = state_of(request)
    records = _filtered(sim, agent_id, status)
    if cursor is not None:
        before = _decode_cursor(cursor)
        records = [r for r in records if r.seq < before]
    chunk, has_more = records[:limit], len(records) > limit
    now = sim.clock()
    return {
        "items": [render(r, now) for r in chunk],
        "next_cursor": _encode_cursor(chunk[-1].seq) if has_more else None,
        "has_more": has_more,
        "limit": limit,
    }


def _find(sim: SimState, call_id: uuid.UUID) -> CallRecord:
    rec = sim.calls.get(str(call_id))
    if rec is None:
        raise HTTPException(404, f"Call {call_id} not found")
    return rec


@router.get("/{call_id}", dependencies=[Depends(guard(Endpoint.GET))])
async def get_call(call_id: uuid.UUID, request: Request) -> dict[str, Any]:
    """One call as it is now (served on the event loop: it never blocks)."""
    sim = state_of(request)
    return render(_find(sim, call_id), sim.clock())


@router.post("/{call_id}/stop", dependencies=[Depends(guard(Endpoint.STOP))])
def stop_call(call_id: uuid.UUID, request: Request) -> dict[str, Any]:
    """End an active call (end_reason `api_stop`); a no-op on a final call."""
    sim = state_of(request)
    rec = _find(sim, call_id)
    sim.stop_call(rec)
    return render(rec, sim.clock())


@router.patch("/{call_id}", dependencies=[Depends(guard(Endpoint.OTHER))])
def update_call(call_id: uuid.UUID, body: UpdateCall, request: Request) -> dict[str, Any]:
    """Override the outcome; `interested` is stored as `Interested`."""
    sim = state_of(request)
    rec = _find(sim, call_id)
    rec.outcome_override = body.outcome.replace("_", " ").title()
    return render(rec, sim.clock())


@router.delete("/{call_id}", dependencies=[Depends(guard(Endpoint.DELETE))])
def delete_call(call_id: uuid.UUID, request: Request) -> dict[str, Any]:
    """Delete the call record; a live or queued call is ended first."""
    sim = state_of(request)
    sim.delete_call(_find(sim, call_id))
    return {"id": str(call_id), "deleted": True}
