"""Every campaign the store holds, and deleting one with all its keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import redis

from dialer.campaign import CampaignConfig, CampaignState
from dialer.store.keys import ACTIVE, CAMPAIGNS, campaign_key, campaign_parts, counts_key

DELETE_CHUNK = 1000


@dataclass(frozen=True)
class Overview:
    """One campaign at a glance, read from its hash and its counters."""

    config: CampaignConfig
    state: CampaignState
    reason: str
    total: int
    counts: dict[str, int]


class Listing:
    """Campaigns as a whole: which exist, and removing one (the server's DELETE)."""

    redis: redis.Redis

    def campaign_ids(self) -> list[str]:
        """Every campaign created in this Redis, by id."""
        return sorted(cast(set[str], self.redis.smembers(CAMPAIGNS)))

    def overviews(self, cids: list[str]) -> list[Overview]:
        """Several campaigns at a glance in one round trip (those that no longer exist left out)."""
        pipe = self.redis.pipeline(transaction=False)
        for cid in cids:
            pipe.hmget(campaign_key(cid), ["config", "state", "reason", "total"])
            pipe.hgetall(counts_key(cid))
        replies = pipe.execute()
        found = []
        for (config, state, reason, total), counts in zip(replies[::2], replies[1::2], strict=True):
            if config and state:
                found.append(
                    Overview(
                        CampaignConfig.model_validate_json(config),
                        CampaignState(state),
                        reason or "",
                        int(total or 0),
                        {k: int(v) for k, v in counts.items() if int(v)},
                    )
                )
        return found

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
        return removed
