"""What each worker process builds once: settings, the store, the OneInbox client."""

from __future__ import annotations

import functools

from campaigns.when import CallingPolicy
from dialer.calls import Dispatcher
from dialer.client import OneInboxClient
from dialer.errors import ConfigError
from dialer.http import make_http_client
from dialer.settings import load_settings
from workers import stack


@functools.cache
def dispatcher() -> Dispatcher:
    """This process's dispatcher, built from the environment on first use."""
    settings = load_settings()
    if not settings.redis_url:
        raise ConfigError("DIALER_REDIS_URL is not set for this worker")
    http = make_http_client(
        settings.base_url,
        settings.require_api_key(),
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
    )
    return Dispatcher(
        store=stack.connect(settings.redis_url, ping=False),
        client=OneInboxClient(http),
        timing=settings.dispatch_timing(),
        when=CallingPolicy(),
        replicas=settings.redis_wait_replicas,
        account_defaults=settings.account_defaults(),
    )


@functools.cache
def serve_only() -> str:
    """The one campaign this worker serves ('' for every one): see DIALER_SERVE_ONLY."""
    return load_settings().serve_only


def serves(cid: str) -> bool:
    """Whether this worker may act for campaign `cid`. A task of another campaign (left queued
    by a run that was killed) is dropped: its contacts stay in the store's indexes, and the
    tick of a stack that serves that campaign hands them out again."""
    only = serve_only()
    return not only or cid == only
