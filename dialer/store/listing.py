"""Every campaign the store holds, and deleting one with all its keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import redis

from dialer.campaign import CampaignConfig, CampaignState
from dialer.store.contact import LIVE_STATES
from dialer.store.keys import (
    ACTIVE,
    CAMPAIGN_KEYS,
    CAMPAIGNS,
    CAMPAIGNS_INDEXED,
    LISTS,
    campaign_key,
    campaign_parts,
    counts_key,
    pace_key,
)

DELETE_CHUNK = 1000


@dataclass(frozen=True)
class Overview:
    """One campaign at a glance, read from its hash and its counters."""

    config: CampaignConfig
    state: CampaignState
    reason: str
    total: int
    counts: dict[str, int]
    last_activity_ms: int = 0

    @property
    def live(self) -> int:
        """Contacts not yet final (still to dial, or calls to follow)."""
        return sum(self.counts.get(state.value, 0) for state in LIVE_STATES)


def _overview(fields: list[str | None], counts: dict[str, str], tat: str | None) -> Overview:
    config, state, reason, total, updated_at = fields
    # The last activity: the last change of state, or the pace's next send slot (a create's
    # time plus one interval, in microseconds), whichever is later.
    last_ms = max(int(updated_at or 0), int(float(tat or 0)) // 1000)
    return Overview(
        CampaignConfig.model_validate_json(str(config)),
        CampaignState(str(state)),
        reason or "",
        int(total or 0),
        {k: int(v) for k, v in counts.items() if int(v)},
        last_ms,
    )


class Listing:
    """Campaigns as a whole: which exist, and removing one (the server's DELETE)."""

    redis: redis.Redis

    def campaign_ids(self) -> list[str]:
        """Every campaign created in this Redis, by id."""
        if not self.redis.exists(CAMPAIGNS_INDEXED):
            self.index_old_campaigns()
        return sorted(cast(set[str], self.redis.smembers(CAMPAIGNS)))

    def index_old_campaigns(self) -> int:
        """Add the campaigns created before the index existed to it (one SCAN of the keys, done
        once per Redis); returns how many were added."""
        prefix = campaign_key("")
        named = {
            str(key).removeprefix(prefix)
            for key in self.redis.scan_iter(match=CAMPAIGN_KEYS, count=DELETE_CHUNK)
            if ":" not in str(key).removeprefix(prefix)
        }
        found = [cid for cid in sorted(named) if self.redis.hexists(campaign_key(cid), "config")]
        pipe = self.redis.pipeline()
        if found:
            pipe.sadd(CAMPAIGNS, *found)
        pipe.set(CAMPAIGNS_INDEXED, 1)
        added = pipe.execute()
        return int(added[0]) if found else 0

    def overviews(self, cids: list[str]) -> list[Overview]:
        """Several campaigns at a glance in one round trip (those that no longer exist left out)."""
        pipe = self.redis.pipeline(transaction=False)
        for cid in cids:
            pipe.hmget(campaign_key(cid), ["config", "state", "reason", "total", "updated_at"])
            pipe.hgetall(counts_key(cid))
            pipe.hget(pace_key(cid), "tat")
        replies = pipe.execute()
        found = []
        for fields, counts, tat in zip(replies[::3], replies[1::3], replies[2::3], strict=True):
            if fields[0] and fields[1]:
                found.append(_overview(fields, counts, tat))
        return found

    def list_campaign(self, path: str) -> str | None:
        """The campaign of the list file at `path` (resolved), if it has one."""
        found = self.redis.hget(LISTS, path)
        return str(found) if found else None

    def remember_list(self, path: str, cid: str) -> None:
        """Make `cid` the campaign of the list at `path`, unless the list has one already."""
        self.redis.hsetnx(LISTS, path, cid)

    def delete_campaign(self, cid: str) -> int:
        """Remove the campaign, its contacts and every index of it; returns keys removed."""
        removed = 0
        chunk = [campaign_key(cid)]
        for key in self.redis.scan_iter(match=campaign_parts(cid), count=DELETE_CHUNK):
            chunk.append(str(key))
            if len(chunk) >= DELETE_CHUNK:
                removed += int(self.redis.unlink(*chunk))
                chunk = []
        if chunk:
            removed += int(self.redis.unlink(*chunk))
        pipe = self.redis.pipeline()
        pipe.srem(CAMPAIGNS, cid)
        pipe.srem(ACTIVE, cid)
        pipe.execute()
        lists = cast(dict[str, str], self.redis.hgetall(LISTS))
        for path in [path for path, owner in lists.items() if owner == cid]:
            self.redis.hdel(LISTS, path)
        return removed
