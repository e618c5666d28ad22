"""`dialer serve`: the REST API and OneInbox's webhook route in one process."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from dialer.endpoint import check_callback_url
from dialer.private import open_private, private_dir
from dialer.settings import Settings, load_settings
from workers.celery_app import make_app
from workers.cli.app import Out, app
from workers.cli.listening import listen
from workers.logs import configure
from workers.scheduler import send_start
from workers.server import connections, lists, uploads
from workers.server.access_log import configure_access_log
from workers.server.auth import is_loopback, new_token
from workers.server.context import MIB, Server
from workers.stack import Stack, open_stack

console = Out(highlight=False)
TOKEN_FILE = "web-token"  # noqa: S105 (a file name): a generated token when stdout is no terminal


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback unless told).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    public_url: Annotated[
        str | None,
        typer.Option(
            help="Where OneInbox reaches this server (default: DIALER_PUBLIC_URL); campaigns "
            "started here get <URL>/webhooks/oneinbox as their webhook URL."
        ),
    ] = None,
) -> None:
    """Serve the REST API (/api, documented at /docs) and OneInbox's webhooks.

    With no DIALER_REDIS_URL it runs the embedded stack (a private Redis, a worker, the
    scheduler) for as long as it serves, and other `dialer` commands on the same state folder
    use it. Every /api request needs `Authorization: Bearer <token>`: DIALER_WEB_TOKEN, or the
    token printed at start.
    """
    settings = load_settings()
    public_url = public_url or settings.public_url
    if public_url:  # campaigns' webhook URLs are made from it: checked before anything starts
        settings = settings.model_copy(
            update={"public_url": check_callback_url(public_url, "public_url")}
        )
    # The embedded worker dials with the key; with DIALER_REDIS_URL the workers hold it, and the
    # server without one skips the account checks of its preflight.
    api_key = settings.api_key.get_secret_value() if settings.api_key else ""
    if not settings.redis_url:
        api_key = settings.require_api_key()
    given = settings.web_token.get_secret_value().strip() if settings.web_token else ""
    token = given or new_token()
    configure(settings.log_format, secrets=[api_key, token])
    configure_access_log()
    if not is_loopback(host):
        console.print(
            f"[bold yellow]warning:[/] listening on {host}: put TLS in front of this server "
            "(a reverse proxy): the token travels in every request."
        )
    # Imported here: the app's pages and file exports (openpyxl, numpy) would otherwise load
    # with every other `dialer` command.
    from workers.server.app import build_app

    sock = listen(host, port)
    with open_stack(settings, fire=_fire) as stack:
        server = _server(settings, stack, token)
        uploads.sweep(server.uploads)
        lists.sweep(server.uploads)
        _announce(host, port, settings, stack.embedded, "" if given else token)
        config = connections.config(
            build_app(server), host, port, log_config=None, log_level="info"
        )
        uvicorn.Server(config).run(sockets=[sock])


def _fire(redis_url: str) -> Callable[[str, str], None]:
    """How the embedded scheduler asks a worker to start a scheduled job's occurrence."""
    return functools.partial(send_start, make_app(redis_url))


def _server(settings: Settings, stack: Stack, token: str) -> Server:
    return Server(
        settings=settings,
        store=stack.store,
        token=token,
        state_dir=settings.state_dir,
        public_url=settings.public_url,
        max_upload_bytes=int(settings.max_upload_mb * MIB),
    )


def _announce(host: str, port: int, settings: Settings, embedded: bool, new: str) -> None:
    where = "an embedded Redis and worker" if embedded else "DIALER_REDIS_URL and its workers"
    console.print(f"Serving http://{host}:{port} (API docs at /docs), with {where}.")
    console.print(f"Open http://{host}:{port}/login and give the token:", soft_wrap=True)
    if not new:
        console.print("  DIALER_WEB_TOKEN")
    elif sys.stdout.isatty():
        console.print(f"  {new}", soft_wrap=True)
    else:
        console.print(f"  the one in {_keep_token(settings.state_dir, new)}", soft_wrap=True)
    console.print("(the API takes the same token: `Authorization: Bearer <token>`)")
    if not settings.public_url:
        console.print("No --public-url: campaigns started here get no webhook URL (polling only).")
    logging.getLogger("dialer.serve").info("serving", extra={"host": host, "port": port})


def _keep_token(state_dir: Path, token: str) -> Path:
    """Write a generated token to a file only its owner can read (never to a log); its path."""
    path = private_dir(state_dir) / TOKEN_FILE
    with open_private(path) as out:
        out.write(token + "\n")
    return path
