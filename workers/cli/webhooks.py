"""`dialer webhooks`: the receiver for OneInbox's per-call webhooks."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from dialer.errors import ConfigError
from dialer.settings import load_settings
from dialer.store import Store
from workers.cli.app import app
from workers.webhooks import create_app


@app.command()
def webhooks(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
) -> None:
    """Receive OneInbox webhooks at /webhooks/oneinbox; pass that URL as `run --webhook-url`.

    Events only make the dialer re-read a call sooner; the call's state is always read from
    the API, so an unsigned or duplicated event cannot change a result.
    """
    settings = load_settings()
    if not settings.redis_url:
        raise ConfigError("DIALER_REDIS_URL is not set; the receiver needs the campaigns' Redis")
    store = Store.from_url(settings.redis_url)
    store.ping()
    Console().print(f"Receiving webhooks at http://{host}:{port}/webhooks/oneinbox")
    uvicorn.run(create_app(store), host=host, port=port, log_level="warning")
