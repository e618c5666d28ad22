"""GET /api/campaigns/{id}/events: the campaign's progress as server-sent events.

An `event: progress` with the campaign (as GET /api/campaigns/{id} gives it) every few moments,
and a last `event: done` once nothing more will happen (the campaign is done, canceled with no
call left in progress, or stopped by the dialer), after which the stream ends.
"""

# Annotations stay evaluated (no __future__ import): FastAPI reads them, and they name
# dependencies local to the router functions.

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from campaigns.progress import Progress, progress
from dialer.campaign import CampaignState
from workers.server import views
from workers.server.context import Server


def sse(event: str, data: str) -> str:
    """One server-sent event."""
    return f"event: {event}\ndata: {data}\n\n"


async def stream(server: Server, cid: str) -> AsyncIterator[str]:
    """Progress until the campaign ends (or the client goes away)."""
    while True:
        shown, now = await run_in_threadpool(_read, server, cid)
        finished = ended(now)
        yield sse("done" if finished else "progress", shown.model_dump_json())
        if finished:
            return
        await asyncio.sleep(server.events_every_s)


def ended(now: Progress) -> bool:
    """True once nothing more will happen to the campaign. A running campaign whose contacts
    are all final is not yet done: the tick closes it (and writes its results) first."""
    if now.state is CampaignState.CANCELED:
        return now.live == 0
    stopped = now.state is CampaignState.PAUSED and bool(now.reason)
    return now.state is CampaignState.DONE or stopped


def _read(server: Server, cid: str) -> tuple[views.CampaignDetail, Progress]:
    return views.detail(server.store, cid), progress(server.store, cid)


def router(server: Server) -> APIRouter:
    """The events route, bound to `server`."""
    api = APIRouter(prefix="/api", tags=["campaigns"])

    @api.get(
        "/campaigns/{cid}/events",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}}},
    )
    def events(cid: str) -> StreamingResponse:
        """Server-sent progress: `progress` events, then one `done`."""
        views.summary(server.store, cid)  # 404 before the stream starts
        return StreamingResponse(
            stream(server, cid),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return api
