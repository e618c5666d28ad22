"""Per-request plumbing shared by the routes: the state, Bearer auth and request-level faults."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import HTTPException, Request

from dialer.simulator.config import Endpoint, FaultKind, FaultRule
from dialer.simulator.store import SimState


def state_of(request: Request) -> SimState:
    """The simulator state of the app serving `request`."""
    sim: SimState = request.app.state.sim
    return sim


def received(request: Request) -> float | None:
    """When the app first saw `request` (`ReceivedAt`), None when nothing stamped it."""
    at = getattr(request.state, "received", None)
    return float(at) if at is not None else None


def check_auth(request: Request) -> None:
    """401 unless the request carries `Authorization: Bearer <accepted key>`."""
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if not header:
        raise HTTPException(401, "Missing API key: send 'Authorization: Bearer <api_key>'")
    if scheme.lower() != "bearer" or key.strip() not in state_of(request).config.api_keys:
        raise HTTPException(401, "Invalid API key")


def fault_error(rule: FaultRule) -> HTTPException:
    """The HTTP error a fault rule answers with."""
    if rule.kind is FaultKind.RATE_LIMIT:
        headers = {"Retry-After": f"{rule.retry_after:g}"}
        return HTTPException(rule.status_code(), "Too many requests", headers=headers)
    return HTTPException(rule.status_code(), "Simulated server error")


def guard(endpoint: Endpoint) -> Callable[[Request], Awaitable[None]]:
    """A dependency: auth, then `slow` faults, then (except for create) `error` faults."""

    async def dependency(request: Request) -> None:
        check_auth(request)
        faults = state_of(request).faults
        slow = faults.take(endpoint, [FaultKind.SLOW])
        if slow is not None:
            await asyncio.sleep(slow.delay)
        if endpoint is not Endpoint.CREATE:
            rule = faults.take(endpoint, [FaultKind.ERROR, FaultKind.RATE_LIMIT])
            if rule is not None:
                raise fault_error(rule)

    return dependency


def page(items: list[Any], limit: int, offset: int) -> dict[str, Any]:
    """The offset-pagination envelope over `items`."""
    return {
        "items": items[offset : offset + limit],
        "total": len(items),
        "limit": limit,
        "offset": offset,
    }
