"""GET /metrics: the dialer's Prometheus metrics, read from the store (`workers.metrics`).

Behind the bearer token like the API: give Prometheus the token (`authorization:` in its scrape
config). Per-campaign series exist only for campaigns not yet finished.
"""

# Annotations stay evaluated (no __future__ import): FastAPI reads them.

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from workers.metrics import registry
from workers.server.context import Server


def router(server: Server) -> APIRouter:
    """The /metrics route, on a registry that reads `server.store` at each scrape."""
    found = registry(server.store)
    routes = APIRouter()

    @routes.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(found), media_type=CONTENT_TYPE_LATEST)

    return routes
