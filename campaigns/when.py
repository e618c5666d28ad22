"""When a campaign may dial each contact: the `DialTimes` the dispatcher asks, built from the
campaign's calling window, state rules, start time, deadline and retry policy.

Parsing and span computation are cached: a campaign's settings are parsed once per process,
and the allowed spans for a set of zones are computed once per hour, so deciding for a million
contacts costs a dictionary look-up each, not a calendar computation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Protocol

from campaigns.retry import RetryPolicy, next_attempt, parse_delays, parse_retry_on
from campaigns.state_rules import StateRule, load_rules
from campaigns.windows import Span, Window, allowed_spans, explain, parse_window, zones_for
from dialer.campaign import CampaignConfig
from dialer.store import ContactRecord, ContactState, Dialable


@lru_cache(maxsize=64)
def _window(window: str, days: str) -> Window:
    return parse_window(window, days)


@lru_cache(maxsize=64)
def _retry(max_attempts: int, retry_on: str, delays: str) -> RetryPolicy:
    return RetryPolicy(max_attempts, parse_retry_on(retry_on), parse_delays(delays))


@lru_cache(maxsize=8192)
def _zone_names(e164: str, timezone: str) -> tuple[str, ...]:
    return tuple(z.key for z in zones_for(e164, timezone or None))


@lru_cache(maxsize=4096)
def _spans(
    zones: tuple[str, ...], window: Window, rules: str, state: str, hour: datetime
) -> list[Span]:
    from campaigns.windows import load_zone

    rule = load_rules(rules).states.get(state) if rules and state else None
    return allowed_spans(hour, tuple(load_zone(z) for z in zones), window, rule)


def _rule(config: CampaignConfig, e164: str) -> tuple[StateRule | None, str]:
    if not config.rules:
        return None, ""
    rule_set = load_rules(config.rules)
    state = rule_set.state_for(e164) or ""
    return rule_set.states.get(state), state


def _instant(text: str) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class Reachable(Protocol):
    """What calling times need of a contact: its number and its timezone column ('' if none).
    A stored `ContactRecord` is one; so is a `Recipient`."""

    @property
    def phone(self) -> str: ...
    @property
    def timezone(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Recipient:
    """A number to place in calling time before it is stored (a row being loaded or checked)."""

    phone: str
    timezone: str = ""


class CallingPolicy:
    """The `DialTimes` of real campaigns: windows in the recipient's time, deadline, retries."""

    def calls_per_day(self, config: CampaignConfig, phone: str) -> int:
        """Calls the account may make to `phone` in any 24 hours under the campaign's rules
        (`--rules us-states`: 3 in Florida and Oklahoma), 0 for no limit."""
        return load_rules(config.rules).calls_per_day_for(phone) if config.rules else 0

    def spans(self, config: CampaignConfig, contact: Reachable, at: datetime) -> list[Span] | None:
        """The contact's allowed periods from the hour of `at` on; None when always allowed."""
        window = _window(config.window, config.days)
        phone = contact.phone
        if window.always and not config.rules:
            return None
        zones = _zone_names(phone, contact.timezone)
        _, state = _rule(config, phone)
        hour = at.replace(minute=0, second=0, microsecond=0)
        return _spans(zones, window, config.rules, state, hour)

    def allowed_from(
        self, config: CampaignConfig, contact: Reachable, earliest: datetime
    ) -> datetime | None:
        """The first instant >= `earliest` when the contact may be called; None if none soon."""
        spans = self.spans(config, contact, earliest)
        if spans is None:
            return earliest
        return next((max(start, earliest) for start, end in spans if end > earliest), None)

    def window_close(
        self, config: CampaignConfig, contact: Reachable, at: datetime
    ) -> datetime | None:
        """When the calling period containing `at` closes (None: not allowed at `at`, or never)."""
        spans = self.spans(config, contact, at) or []
        return next((end for start, end in spans if start <= at < end), None)

    def explain(self, config: CampaignConfig, contact: Reachable, now: datetime) -> str:
        """Why the contact waits now, for a person."""
        window = _window(config.window, config.days)
        phone = contact.phone
        rule, _ = _rule(config, phone)
        zones = zones_for(phone, contact.timezone or None)
        return explain(now, zones, window, rule)

    def dial_at(
        self,
        config: CampaignConfig,
        contact: Reachable,
        now: datetime,
        *,
        why: bool = True,
    ) -> tuple[datetime | None, str]:
        """When a pending contact may be dialled, or None when its deadline comes first.

        `why=False` skips the explanation (it costs more than the decision).
        """
        deadline = _instant(config.deadline)
        if deadline is not None and now >= deadline:
            return None, f"expired: the deadline {deadline:%Y-%m-%d %H:%M} UTC passed"
        start = _instant(config.start_at)
        earliest = max(now, start) if start else now
        at = self.allowed_from(config, contact, earliest)
        if at is None or (deadline is not None and at >= deadline):
            reason = self.explain(config, contact, now) if why else ""
            return None, "expired: no calling time before the deadline; " + reason
        if at <= now or not why:
            return at, ""
        if start and at == start:
            return at, f"waiting: the campaign starts {start:%Y-%m-%d %H:%M} UTC"
        return at, self.explain(config, contact, now)

    def retry_at(
        self, config: CampaignConfig, contact: ContactRecord, status: ContactState, now: datetime
    ) -> tuple[datetime | None, str]:
        """When to dial again after an attempt ended as `status`; None for never."""
        policy = _retry(config.max_attempts, config.retry_on, config.retry_delays)
        attempt = contact.attempt
        after = next_attempt(policy, status.value, attempt, now)
        if after is None:
            return None, ""
        at = self.allowed_from(config, contact, after)
        deadline = _instant(config.deadline)
        if at is None or (deadline is not None and at >= deadline):
            return None, ""
        return at, f"attempt {attempt + 1} due {at:%Y-%m-%d %H:%M} UTC (after {status.value})"


def add_schedule(
    config: CampaignConfig, now: datetime
) -> Callable[[Dialable], tuple[int, str]] | None:
    """For `Store.add_contacts`: when each new contact is first due, and why it waits.

    None when every contact is due now (no window, no start time). Explanations are shared by
    contacts with the same zones and state rule, so a large file costs one per combination.
    """
    policy = CallingPolicy()
    if _window(config.window, config.days).always and not config.rules and not config.start_at:
        return None
    texts: dict[tuple[str, ...], str] = {}

    def schedule(contact: Dialable) -> tuple[int, str]:
        recipient = Recipient(contact.phone_e164, contact.timezone or "")
        at, _ = policy.dial_at(config, recipient, now, why=False)
        if at is None or at <= now:
            return 0, ""
        key = (
            *_zone_names(contact.phone_e164, contact.timezone or ""),
            _rule(config, contact.phone_e164)[1],
        )
        if key not in texts:
            texts[key] = policy.dial_at(config, recipient, now)[1]
        return round(at.timestamp() * 1000), texts[key]

    return schedule
