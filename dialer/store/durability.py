"""Whether a claim survives a crash of Redis: the probe run before anything is dialled.

A claim ("this contact is being dialled") that Redis acknowledged and then lost makes its
contact pending again, and it is dialled twice. Redis keeps every acknowledged write through a
crash only with `appendonly yes` and `appendfsync always` (the file is fsynced before the
reply); with `everysec` up to a second of writes can be lost, without the append-only file
everything since the last snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import redis

if TYPE_CHECKING:
    from dialer.store.core import Store

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


def durability(store: Store) -> Durability:
    """Ask the store's Redis whether every acknowledged write is on disk before the reply."""
    kwargs = store.redis.connection_pool.connection_kwargs
    server = f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}"
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
