"""Whether a claim survives a crash of Redis: the probe run before anything is dialled.

A claim ("this contact is being dialled") that Redis acknowledged and then lost makes its
contact pending again, and it is dialled twice. Redis keeps every acknowledged write through a
crash only with `appendonly yes` and `appendfsync always` (the file is fsynced before the
reply); with `everysec` up to a second of writes can be lost, without the append-only file
everything since the last snapshot.

The other way (DIALER_REDIS_WAIT_REPLICAS): each claim waits, before its create is sent, until
that many replicas hold it (`WAIT`; Redis 7.0 has no `WAITAOF`). That keeps a claim through the
loss of the master only when a replica is promoted in its place (Sentinel); a master restarted
from its own file still loses its last second, and its replicas resync from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import redis

if TYPE_CHECKING:
    from dialer.store.core import Store

from dialer.store.keys import REPLICATED

FIX = (
    "set `appendonly yes` and `appendfsync always` on that Redis (in redis.conf, or "
    "`CONFIG SET appendonly yes`, `CONFIG SET appendfsync always`, `CONFIG REWRITE`)"
)


@dataclass(frozen=True)
class Durability:
    """What the probe found: `durable`, else `problem` (what may be lost) and `fix`."""

    server: str  # host:port, never the URL (it may hold a password)
    durable: bool
    problem: str = ""
    fix: str = ""


def durability(store: Store, wait_replicas: int = 0) -> Durability:
    """Ask the store's Redis whether every acknowledged write is on disk before the reply, or,
    with `wait_replicas`, whether that many replicas are connected to acknowledge each claim."""
    pool = store.redis.connection_pool
    kwargs = pool.connection_kwargs
    server = f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}"
    if hasattr(pool, "service_name"):  # through Sentinel: the primary's name, wherever it is
        server = f"the Sentinel primary {pool.service_name!r}"
    if wait_replicas:
        return _replicas(store, server, wait_replicas)
    try:
        found = cast(dict[str, str], store.redis.config_get("append*"))
    except redis.ResponseError as exc:
        return Durability(
            server,
            False,
            f"CONFIG GET is not allowed on it ({exc}), so the dialer cannot tell whether "
            "it fsyncs every write before acknowledging it",
            "make sure your provider runs it with `appendfsync always` (or an equivalent "
            "guarantee), then accept the check's blind spot",
        )
    if found.get("appendonly") != "yes":
        return Durability(
            server,
            False,
            "appendonly is off: every write since its last snapshot is lost on a crash",
            FIX,
        )
    if found.get("appendfsync") != "always":
        return Durability(
            server,
            False,
            f"appendfsync is {found.get('appendfsync')}: up to a second of acknowledged "
            "writes is lost on a crash",
            FIX,
        )
    return Durability(server, True)


def _replicas(store: Store, server: str, wanted: int) -> Durability:
    connected = int(store.redis.info("replication").get("connected_slaves", 0))
    if connected >= wanted:
        return Durability(server, True)
    return Durability(
        server,
        False,
        f"DIALER_REDIS_WAIT_REPLICAS is {wanted} but {connected} replica(s) are connected, "
        "so no claim could be acknowledged by them",
        f"connect {wanted} replica(s) to it (`replicaof`), or lower DIALER_REDIS_WAIT_REPLICAS "
        "and make its own writes durable (appendfsync always)",
    )


def replicated(store: Store, replicas: int, timeout_s: float) -> bool:
    """True once `replicas` replicas hold every write this process made before the call (the
    claim just won), waiting at most `timeout_s`.

    WAIT counts what its own connection wrote, and a pooled client may have sent the claim on
    another connection; so a write on the WAIT's connection marks a point in the replication
    stream after the claim, and the replicas are waited for up to that point.
    """
    pipe = store.redis.pipeline(transaction=False)
    pipe.incr(REPLICATED)
    pipe.wait(replicas, max(1, round(timeout_s * 1000)))
    _, acknowledged = pipe.execute()
    return int(acknowledged) >= replicas
