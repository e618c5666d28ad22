"""The FastAPI app that behaves like the OneInbox API (see docs/reference `oneinbox-api.md`)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI

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
    return app
