"""The FastAPI app that behaves like the OneInbox API (see docs/reference `oneinbox-api.md`)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from dialer.simulator import routes_admin, routes_calls, routes_resources
from dialer.simulator.config import SimulatorConfig
from dialer.simulator.store import Clock, SimState
from dialer.simulator.webhook_sender import WebhookSender


def create_app(config: SimulatorConfig | None = None, clock: Clock | None = None) -> FastAPI:
    """A simulator app; its state is `app.state.sim`. Webhooks run while the app is served."""
    sim = SimState(config or SimulatorConfig(), clock=clock or time.time)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient() as client:
            task = asyncio.create_task(WebhookSender(sim, client).run())
            try:
                yield
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = FastAPI(title="OneInbox simulator", version="1.0.0", lifespan=lifespan)
    app.state.sim = sim
    app.include_router(routes_calls.router)
    app.include_router(routes_resources.router)
    app.include_router(routes_admin.router)
    app.add_middleware(ReceivedAt, clock=sim.clock)
    return app


class ReceivedAt:
    """Stamps each request with the instant the app first sees it (`request.state.received`),
    before its body is read and checked, and before the handlers of requests that arrived with
    it run on the one event loop: as a provider's edge sees a request arrive. The create log's
    `received` is this stamp; its `t`, the handler's, comes later by the simulator's own work."""

    def __init__(self, app: ASGIApp, clock: Clock) -> None:
        self.app, self.clock = app, clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope.setdefault("state", {})["received"] = self.clock()
        await self.app(scope, receive, send)
