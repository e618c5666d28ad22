"""Where Redis is: DIALER_REDIS_URL, turned into the form each client takes.

Two forms of the one setting:

    redis://[user:password@]host:6379/0                    one Redis server
    sentinel://host1:26379,host2:26379,host3:26379/mymaster[/0]
                                                           the primary Sentinel names `mymaster`

With Sentinel, every client asks the sentinels for the current primary and asks again after a
failover, so no process needs a restart. The passwords come from the environment only, never
from the URL or a `.env` file: DIALER_REDIS_PASSWORD (and DIALER_REDIS_USERNAME, with ACLs) for
the primary and its replicas, DIALER_SENTINEL_PASSWORD for the sentinels themselves.

One function per client: `redis_client` (redis-py: the store, the scheduler),
`celery_options` (kombu's broker URL and transport options, Celery's result backend form).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlsplit

import redis
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from redis.sentinel import Sentinel

from dialer.errors import ConfigError

SCHEME = "sentinel"
DEFAULT_SENTINEL_PORT = 26379
ENVIRONMENT_ONLY = ("DIALER_REDIS_USERNAME", "DIALER_REDIS_PASSWORD", "DIALER_SENTINEL_PASSWORD")
SOCKET_TIMEOUT_S = 5.0  # a sentinel or primary that stops answering is given up on this soon
__all__ = [
    "ENVIRONMENT_ONLY",
    "RedisAuth",
    "SentinelTarget",
    "celery_options",
    "environment_auth",
    "parse_sentinel",
    "redis_client",
]


@dataclass(frozen=True)
class RedisAuth:
    """The passwords of a Sentinel deployment (environment only); they never print."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sentinel_password: str | None = field(default=None, repr=False)

    def master_kwargs(self) -> dict[str, str]:
        """The credentials of the primary and replicas, for redis-py and kombu."""
        given = {"username": self.username, "password": self.password}
        return {name: value for name, value in given.items() if value}

    def sentinel_kwargs(self) -> dict[str, Any]:
        """How to talk to the sentinels themselves."""
        kwargs: dict[str, Any] = {"socket_timeout": SOCKET_TIMEOUT_S}
        if self.sentinel_password:
            kwargs["password"] = self.sentinel_password
        return kwargs


@dataclass(frozen=True)
class SentinelTarget:
    """A `sentinel://` URL read: the sentinels, the primary's name, the database number."""

    sentinels: tuple[tuple[str, int], ...]
    master: str
    db: int = 0


def parse_sentinel(url: str) -> SentinelTarget | None:
    """The Sentinel deployment `url` names; None for a plain `redis://` URL. A ConfigError
    naming DIALER_REDIS_URL (never its password) when a `sentinel://` URL is malformed."""
    if not url.startswith(f"{SCHEME}://"):
        return None
    rest = url[len(SCHEME) + 3 :]
    hosts, _, path = rest.partition("/")
    if "@" in hosts:
        raise ConfigError(
            "DIALER_REDIS_URL: a sentinel:// URL takes no password; set DIALER_REDIS_PASSWORD "
            "(and DIALER_SENTINEL_PASSWORD) in the environment instead"
        )
    master, _, db = path.strip("/").partition("/")
    if not master:
        raise ConfigError(
            "DIALER_REDIS_URL: a sentinel:// URL names the primary after the hosts, e.g. "
            "sentinel://host1:26379,host2:26379,host3:26379/mymaster"
        )
    return SentinelTarget(_sentinels(hosts), master, _db(db))


def _sentinels(hosts: str) -> tuple[tuple[str, int], ...]:
    found = []
    for item in filter(None, (part.strip() for part in hosts.split(","))):
        parsed = urlsplit(f"//{item}")
        try:
            port = parsed.port or DEFAULT_SENTINEL_PORT
        except ValueError:
            raise ConfigError(f"DIALER_REDIS_URL: {item!r} is not host:port") from None
        if not parsed.hostname:
            raise ConfigError(f"DIALER_REDIS_URL: {item!r} is not host:port")
        found.append((parsed.hostname, port))
    if not found:
        raise ConfigError("DIALER_REDIS_URL: a sentinel:// URL names at least one sentinel")
    return tuple(found)


def _db(text: str) -> int:
    if not text:
        return 0
    if not text.isdigit():
        raise ConfigError(
            f"DIALER_REDIS_URL: the database after the primary's name is a number, not {text!r}"
        )
    return int(text)


def _auth(auth: RedisAuth | None) -> RedisAuth:
    """The given passwords, else the environment's."""
    return auth if auth is not None else environment_auth()


class RedisCredentials(BaseSettings):
    """The credentials of a `sentinel://` URL, from the environment alone: no `.env` file (the
    settings refuse them there), no argument, never logged."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    username: str | None = Field(default=None, validation_alias="DIALER_REDIS_USERNAME")
    password: SecretStr | None = Field(default=None, validation_alias="DIALER_REDIS_PASSWORD")
    sentinel_password: SecretStr | None = Field(
        default=None, validation_alias="DIALER_SENTINEL_PASSWORD"
    )


def environment_auth() -> RedisAuth:
    """The credentials in DIALER_REDIS_USERNAME, DIALER_REDIS_PASSWORD and
    DIALER_SENTINEL_PASSWORD."""
    found = RedisCredentials()
    secret, sentinel = found.password, found.sentinel_password
    return RedisAuth(
        username=found.username or None,
        password=secret.get_secret_value() if secret else None,
        sentinel_password=sentinel.get_secret_value() if sentinel else None,
    )


def redis_client(url: str, auth: RedisAuth | None = None) -> redis.Redis:
    """A redis-py client (str replies) on `url`: on the current primary for `sentinel://`,
    following failovers (each new connection asks the sentinels where the primary is)."""
    target = parse_sentinel(url)
    if target is None:
        return redis.Redis.from_url(url, decode_responses=True)
    given = _auth(auth)
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        list(target.sentinels),
        sentinel_kwargs=given.sentinel_kwargs(),
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=SOCKET_TIMEOUT_S,
    )
    client = sentinel.master_for(  # type: ignore[no-untyped-call]
        target.master, db=target.db, decode_responses=True, **given.master_kwargs()
    )
    return cast(redis.Redis, client)


def celery_options(url: str, auth: RedisAuth | None = None) -> dict[str, Any]:
    """Celery settings for the broker on `url`: `broker_url` and the transport options to add
    (kombu's `sentinel://h1:p;sentinel://h2:p` with `master_name`), and for Sentinel the result
    backend in Celery's form. Passwords go in settings of their own, never in a URL."""
    target = parse_sentinel(url)
    if target is None:
        return {"broker_url": url, "broker_transport_options": {}}
    given = _auth(auth)
    joined = ";".join(f"{SCHEME}://{host}:{port}/{target.db}" for host, port in target.sentinels)
    transport = {"master_name": target.master, "sentinel_kwargs": given.sentinel_kwargs()}
    options: dict[str, Any] = {
        "broker_url": joined,
        "broker_transport_options": transport,
        "result_backend": joined,
        "result_backend_transport_options": dict(transport),
    }
    credentials = given.master_kwargs()
    if "password" in credentials:
        options["broker_password"] = options["redis_password"] = credentials["password"]
    if "username" in credentials:
        options["broker_user"] = options["redis_username"] = credentials["username"]
    return options
