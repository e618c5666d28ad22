"""Preflight: catch the usual mistakes before anyone is dialled.

Each check answers ok, warn (dialling may go on, but read this) or fail (nothing is dialled):
where the API key is sent (and which `.env` file was read); the API key works; the agent
exists; the from-numbers are registered (where the API lets us look); today's call quota covers
the campaign; Redis and workers answer; the contacts' countries against what the from-number can
reach; the account's limits, its do-not-call list and the gap across its campaigns. Then an
estimate of when dialling should end.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from campaigns.estimate import Estimate
from dialer.account import DEFAULT_ACCOUNT, AccountLimits
from dialer.campaign import CampaignConfig
from dialer.client import OneInboxClient
from dialer.endpoint import DEFAULT_BASE_URL
from dialer.errors import AuthError, DialerError, NotFound, ProviderError
from dialer.phone import region_of
from dialer.store import Store


class Level(StrEnum):
    """How a check came out."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    """One line of the preflight report."""

    name: str
    level: Level
    detail: str


@dataclass(frozen=True)
class Preflight:
    """All checks, and the estimate when the contacts could be read."""

    checks: list[Check]
    estimate: Estimate | None

    @property
    def failed(self) -> bool:
        """True when something must be fixed before dialling."""
        return any(c.level is Level.FAIL for c in self.checks)


def check_endpoint(base_url: str, env_file: Path | None) -> Check:
    """Where the API key goes, and the `.env` file read (full path): a warning when the key
    goes anywhere but OneInbox."""
    read = f".env read: {env_file}" if env_file else "no .env file read"
    if base_url.rstrip("/") == DEFAULT_BASE_URL:
        return Check("endpoint", Level.OK, f"{base_url} (OneInbox); {read}")
    return Check(
        "endpoint",
        Level.WARN,
        f"{base_url}: NOT OneInbox's address ({DEFAULT_BASE_URL}), the API key is sent there "
        f"(ONEINBOX_BASE_URL); {read}",
    )


def check_account(
    client: OneInboxClient,
    config: CampaignConfig,
    contacts: int,
    row_numbers: Iterable[str] = (),
) -> list[Check]:
    """The API key, the agent, the from-numbers (the campaign's and the rows' own) and today's
    quota."""
    try:
        usage = client.get_usage()
    except AuthError as exc:
        return [Check("API key", Level.FAIL, str(exc))]
    except ProviderError as exc:
        return [Check("API key", Level.WARN, f"could not check: {exc}")]
    checks = [Check("API key", Level.OK, "accepted")]
    checks.append(_agent(client, config.agent_id))
    checks.append(_from_numbers(client, {config.from_number, *row_numbers}))
    remaining = usage.calls_remaining_today
    needed = contacts * config.max_attempts
    if remaining is None:
        checks.append(Check("quota", Level.WARN, "OneInbox did not report today's remaining calls"))
    elif remaining < needed:
        checks.append(
            Check(
                "quota",
                Level.WARN,
                f"{remaining} calls left today (cap {usage.max_calls_per_day}) "
                f"for {contacts} contacts (up to {needed} calls): "
                "the rest wait for the reset at 00:00 UTC",
            )
        )
    else:
        checks.append(Check("quota", Level.OK, f"{remaining} calls left today, {needed} needed"))
    return checks


def _agent(client: OneInboxClient, agent_id: str) -> Check:
    try:
        agent = client.get_agent(agent_id)
    except NotFound as exc:
        return Check("agent", Level.FAIL, f"no agent {agent_id}: {exc}")
    except ProviderError as exc:
        return Check("agent", Level.WARN, f"could not check agent {agent_id}: {exc}")
    name = getattr(agent, "name", None) or agent_id
    return Check("agent", Level.OK, f"{name}")


def _from_numbers(client: OneInboxClient, numbers: set[str]) -> Check:
    try:
        registered = {n.phone_number for n in client.list_numbers()}
    except ProviderError as exc:
        return Check("from-number", Level.WARN, f"could not list your numbers: {exc}")
    missing = sorted(numbers - registered)
    if not missing:
        return Check("from-number", Level.OK, f"{', '.join(sorted(numbers))} registered")
    return Check(
        "from-number",
        Level.FAIL,
        f"{', '.join(missing)} not among your registered numbers ({len(registered)} found); "
        "register with `dialer numbers register` or use one from `dialer numbers list`",
    )


def check_countries(from_number: str, phones: Iterable[str]) -> Check:
    """Contacts in other countries than the from-number need the carrier's geo permissions."""
    home = region_of(from_number)
    abroad = Counter(r for r in (region_of(p) for p in phones) if r != home)
    if not abroad:
        return Check("countries", Level.OK, f"every contact is in {home}, like the from-number")
    listed = ", ".join(f"{region} {n}" for region, n in abroad.most_common(5))
    return Check(
        "countries",
        Level.WARN,
        f"{sum(abroad.values())} contacts outside {home} ({listed}): enable those destination "
        "regions (geo permissions) in your carrier console, or their calls fail",
    )


def check_workers(store: Store, ping: Callable[[], list[Any] | None] | None) -> list[Check]:
    """Redis answers; with shared Redis (`ping` given), at least one worker answers a ping."""
    try:
        store.ping()
    except DialerError as exc:
        return [Check("redis", Level.FAIL, str(exc))]
    checks = [Check("redis", Level.OK, "reachable")]
    if ping is not None:
        replies = ping() or []
        if replies:
            checks.append(Check("workers", Level.OK, f"{len(replies)} answered"))
        else:
            checks.append(
                Check("workers", Level.WARN, "no worker answered: start `dialer worker` processes")
            )
    return checks


def check_account_rules(
    store: Store, config: CampaignConfig, phones: list[str], defaults: AccountLimits
) -> list[Check]:
    """What the campaign's account adds: its limits (shared with its other campaigns), its
    do-not-call list (and how many of these contacts are on it: they end `suppressed`), and how
    many of these contacts another campaign called less than `--min-gap` ago (they wait)."""
    account = config.account or DEFAULT_ACCOUNT
    limits = store.limits(account)
    shown = limits.describe() if limits.any else f"{defaults.describe()} (the deployment's)"
    others = [c for c in store.account_campaigns(account) if c != config.campaign_id]
    shared = f"; shared with {len(others)} other campaigns" if others else ""
    checks = [Check("account", Level.OK, f"{account}: limits {shown}{shared}")]
    listed = store.dnc_listed(account, phones)
    size = store.dnc_size(account)
    detail = f"{size} numbers on the list; {listed} of these contacts are on it"
    checks.append(
        Check(
            "do-not-call",
            Level.WARN if listed else Level.OK,
            detail + (" (never dialled: they end suppressed)" if listed else ""),
        )
    )
    held = store.recently_called(account, phones, config.min_gap_s, config.campaign_id)
    gap = f"{config.min_gap_s / 60:g} min" if config.min_gap_s else "off"
    checks.append(
        Check(
            "gap",
            Level.WARN if held else Level.OK,
            f"--min-gap {gap}: {held} contacts called by another campaign of the account "
            "that recently wait"
            if held
            else f"--min-gap {gap}: no contact is held now",
        )
    )
    return checks
