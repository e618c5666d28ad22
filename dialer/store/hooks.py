"""The store's side of webhooks: which contact a OneInbox call is, which campaign a webhook
secret opens, and the one thing an event may do (bring a follow-up forward)."""

from __future__ import annotations

import secrets

from dialer.campaign import CampaignConfig
from dialer.store.jobs import SchedulerStore
from dialer.store.keys import call_key, hook_key, watch_key

CALL_INDEX_TTL_S = 7 * 24 * 3600


class Hooks(SchedulerStore):
    """Part of `Store`: the call index and the campaigns' webhook secrets."""

    @staticmethod
    def with_webhook_secret(config: CampaignConfig) -> CampaignConfig:
        """`config` with a new random webhook secret if it has a webhook URL and no secret."""
        if not config.webhook_url or config.webhook_secret:
            return config
        return config.model_copy(update={"webhook_secret": secrets.token_urlsafe(24)})

    def register_hook(self, config: CampaignConfig) -> None:
        """Let the campaign's webhook secret open it (a SHA-256 of it names the key)."""
        if config.webhook_secret:
            self.redis.set(hook_key(config.webhook_secret), config.campaign_id)

    def hook_campaign(self, secret: str) -> str | None:
        """The campaign whose webhook URL carries `secret`; None for any other string."""
        cid = self.redis.get(hook_key(secret))
        return str(cid) if cid else None

    def index_call(self, call_id: str, cid: str, row: int) -> None:
        """Remember which contact a provider call belongs to (kept a week, for webhooks)."""
        self.redis.set(call_key(call_id), f"{row}:{cid}", ex=CALL_INDEX_TTL_S)

    def nudge(self, call_id: str, cid: str) -> bool:
        """Bring a call's next follow-up forward to now (a webhook said something happened).

        Only a call of campaign `cid` (the one the webhook's secret names) whose contact is
        still being followed is touched, so a late or forged event can do no more than cause
        one extra read of the call.
        """
        owner = self.redis.get(call_key(call_id))
        row, _, owner_cid = str(owner or "").partition(":")
        if not owner or owner_cid != cid:
            return False
        return bool(self.redis.zadd(watch_key(cid), {row: self.server_ms()}, xx=True, ch=True))
