"""The store's side of accounts: the limits every campaign of one OneInbox account shares.

The claim script (dialer/store/lua/claim.lua) enforces them; this part sets and reads them, and says
how much of them is used now.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from dialer.account import DEFAULT_ACCOUNT, AccountLimits
from dialer.campaign import CampaignConfig
from dialer.pace import micros, seconds
from dialer.store.jobs import SchedulerStore
from dialer.store.keys import (
    account_campaigns_key,
    account_inflight_key,
    account_limits_key,
    account_pace_key,
    campaign_key,
    ledger_key,
)

ACCOUNT_HELD_RECENT_MS = 3000  # a campaign refused by its account this recently "waits" for it


class Accounts(SchedulerStore):
    """Part of `Store`: account limits, and which account a campaign dials on."""

    _accounts: dict[str, str]  # campaign -> account, filled by `account_of`

    def account_of(self, cid: str) -> str:
        """The account campaign `cid` dials on (read once per store: it never changes)."""
        if cid not in self._accounts:
            if len(self._accounts) > 1024:
                self._accounts.clear()
            raw = self.redis.hget(campaign_key(cid), "config")
            account = CampaignConfig.model_validate_json(str(raw)).account if raw else ""
            self._accounts[cid] = account or DEFAULT_ACCOUNT
        return self._accounts[cid]

    def account_campaigns(self, account: str) -> list[str]:
        """Every campaign created on the account."""
        return sorted(cast(set[str], self.redis.smembers(account_campaigns_key(account))))

    def set_limits(self, account: str, limits: AccountLimits) -> None:
        """Replace the account's limits (they apply to the next claim of any campaign)."""
        fields: Any = limits.to_redis()  # redis-py's mapping type is invariant in its keys
        self.redis.hset(account_limits_key(account), mapping=fields)

    def limits(self, account: str) -> AccountLimits:
        """The limits set for the account in Redis (none: `AccountLimits()`)."""
        fields = cast(dict[str, str], self.redis.hgetall(account_limits_key(account)))
        return AccountLimits.from_redis(fields)

    def clear_limits(self, account: str) -> None:
        """Remove the account's limits (the deployment's defaults, if any, apply again)."""
        self.redis.delete(account_limits_key(account))

    def account_inflight(self, account: str) -> int:
        """The account's concurrency slots held now, across its campaigns."""
        return int(self.redis.zcount(account_inflight_key(account), self.server_ms(), "+inf"))

    def account_backlog_s(self, account: str) -> float:
        """How far ahead the account's send slots are already reserved, in seconds."""
        tat = int(self.redis.hget(account_pace_key(account), "tat") or 0)
        return max(0.0, seconds(tat - self.server_ms() * 1000))

    def slow_account(self, account: str, delay_s: float) -> None:
        """Delay the account's next create by `delay_s` (a 429 slows every campaign of it)."""
        now_us = self.server_ms() * 1000
        key = account_pace_key(account)
        tat = int(self.redis.hget(key, "tat") or 0)
        self.redis.hset(key, "tat", max(tat, now_us + micros(delay_s)))

    def recently_called(
        self, account: str, numbers: Iterable[str], gap_s: float, campaign: str
    ) -> int:
        """How many of `numbers` a campaign other than `campaign` called less than `gap_s` ago
        (they would be held by the gap now)."""
        if gap_s <= 0:
            return 0
        since, held = self.server_ms() - round(gap_s * 1000), 0
        batch = list[str]()
        for number in numbers:
            batch.append(number)
            if len(batch) == 1000:
                held += self._called_since(account, batch, since, campaign)
                batch = []
        return held + (self._called_since(account, batch, since, campaign) if batch else 0)

    def _called_since(self, account: str, numbers: list[str], since: int, campaign: str) -> int:
        pipe = self.redis.pipeline(transaction=False)
        for number in numbers:
            pipe.zrangebyscore(ledger_key(account, number), since, "+inf")
        mine = f"{campaign}|"
        return sum(any(not m.startswith(mine) for m in calls) for calls in pipe.execute())

    def account_hold(self, cid: str) -> str:
        """'account_busy' or 'account_pace' when the campaign's last claim refused by its account
        was less than a few seconds ago (it is waiting for the account's limit), else ''."""
        held, reason = self.redis.hmget(campaign_key(cid), ["account_held", "account_reason"])
        if not held or self.server_ms() - int(str(held)) > ACCOUNT_HELD_RECENT_MS:
            return ""
        return str(reason or "")
