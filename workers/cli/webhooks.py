"""`dialer webhooks`: the receiver for OneInbox's per-call webhooks."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from dialer.errors import ConfigError
from dialer.settings import load_settings
from workers import stack
from workers.cli.app import Out, app
from workers.cli.listening import listen
from workers.server import connections
from workers.server.receiver import MAX_REQUESTS, PATH, create_app


@app.command()
def webhooks(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    max_requests: Annotated[
        int, typer.Option(help="Requests handled at once; more get 503.", min=1)
    ] = MAX_REQUESTS,
) -> None:
    """Receive OneInbox webhooks at /webhooks/oneinbox; pass that URL as `run --webhook-url`.

    Each campaign's webhook URL gets a random secret appended (/webhooks/oneinbox/SECRET):
    any other path answers 404. Events only make the dialer re-read a call sooner; the call's
    state is always read from the API, so an event cannot change a result. Put it behind a
    TLS proxy to face the internet (docs/security.md).
    """
    settings = load_settings()
    if not settings.redis_url:
        raise ConfigError("DIALER_REDIS_URL is not set; the receiver needs the campaigns' Redis")
    store = stack.connect(settings.redis_url)
    sock = listen(host, port)
    Out().print(f"Receiving webhooks at http://{host}:{port}{PATH}/<campaign secret>")
    app = create_app(store, max_requests=max_requests)
    server = uvicorn.Server(connections.config(app, host, port, log_level="warning"))
    server.run(sockets=[sock])
