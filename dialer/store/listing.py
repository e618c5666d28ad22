"""Every campaign the store holds, and deleting one with all its keys."""

from __future__ import annotations

from typing import cast

import redis

from dialer.store.keys import ACTIVE, CAMPAIGNS, campaign_key, campaign_parts

DELETE_CHUNK = 1000


class Listing:
    """Campaigns as a whole: which exist, and removing one (the server's DELETE)."""

    redis: redis.Redis

    def campaign_ids(self) -> list[str]:
        """Every campaign created in this Redis, by id."""
        return sorted(cast(set[str], self.redis.smembers(CAMPAIGNS)))

    def delete_campaign(self, cid: str) -> int:
        """Remove the campaign, its contacts and every index of it; returns keys removed.

        """
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
