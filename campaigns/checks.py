"""The preflight's checks, each a plain function (`campaigns/preflight.py` runs them).

Each check answers ok, warn (dialling may go on, but read this) or fail (nothing is dialled):
where the API key is sent (and which `.env` file was read); the results and rejects files can
be written; the deadline is still ahead; the API key works; the campaign's agent exists and its
from-number is registered; today's call quota covers the campaign; Redis and workers answer; the
contacts' countries against what the from-number can reach; the account's limits, its
do-not-call list and the gap across its campaigns. Then an estimate of when dialling should end.

Rows may name their own `agent_id` and `from_number`: each distinct value is looked up once, and
the rows whose value is unknown are rejected (`unknown_agent`, `unregistered_from_number`) while
the rest of the list goes on.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import phonenumbers

from campaigns.model import Contact, Reject, RejectReason
from dialer.account import DEFAULT_ACCOUNT, AccountLimits
from dialer.campaign import CampaignConfig
from dialer.client import OneInboxClient
from dialer.endpoint import DEFAULT_BASE_URL
from dialer.errors import AuthError, DialerError, ProviderError
from dialer.models import Usage
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
class UnknownRows:
    """The rows' own agent ids and from-numbers the account does not have."""

    agents: frozenset[str] = frozenset()
    numbers: frozenset[str] = frozenset()

    def reject(self, contact: Contact) -> Reject | None:
        """Why `contact` cannot be dialled with its own agent or from-number; None when it can."""
        if contact.agent_id and contact.agent_id in self.agents:
            return Reject(
                contact.source_row,
                contact.phone_e164,
                RejectReason.UNKNOWN_AGENT,
                f"agent_id {contact.agent_id} is not an agent of this account",
            )
        if contact.from_number and contact.from_number in self.numbers:
            return Reject(
                contact.source_row,
                contact.phone_e164,
                RejectReason.UNREGISTERED_FROM_NUMBER,
                f"from_number {contact.from_number} is not among your registered numbers",
            )
        return None


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


def check_outputs(results: Path, rejects: Path) -> list[Check]:
    """The results and rejects files can be written: neither is a folder, and their folder is
    one we may write in, or can be created (private) under one."""
    checks = []
    for name, path in (("results file", results), ("rejects file", rejects)):
        problem = _unwritable(path)
        level = Level.FAIL if problem else Level.OK
        checks.append(Check(name, level, problem or f"{path} can be written"))
    return checks


def _unwritable(path: Path) -> str:
    if path.is_dir():
        return f"{path} is a folder: give a file name (--results/--rejects)"
    existing = next(p for p in path.parents if p.exists())
    if not existing.is_dir():
        return f"{existing} is a file, not a folder: choose another path for {path.name}"
    if not os.access(existing, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return f"{path} cannot be written: choose another path or fix its permissions"
    return ""


def check_deadline(config: CampaignConfig, now: datetime) -> list[Check]:
    """A deadline already past would expire every contact."""
    if not config.deadline:
        return []
    deadline = datetime.fromisoformat(config.deadline)
    if deadline <= now:
        return [
            Check(
                "deadline", Level.FAIL, f"{deadline:%Y-%m-%d %H:%M} UTC has passed: set a later one"
            )
        ]
    return [Check("deadline", Level.OK, f"{deadline:%Y-%m-%d %H:%M} UTC")]


def check_access(
    client: OneInboxClient, config: CampaignConfig
) -> tuple[list[Check], Usage | None]:
    """The API key, the campaign's agent and from-number; today's usage, for `check_quota`."""
    try:
        usage = client.get_usage()
    except AuthError as exc:
        return [Check("API key", Level.FAIL, str(exc))], None
    except ProviderError as exc:
        return [Check("API key", Level.WARN, f"could not check: {exc}")], None
    checks = [Check("API key", Level.OK, "accepted")]
    checks.append(_agent(client, config.agent_id))
    checks.append(_from_number(client, config.from_number))
    return checks, usage


def check_quota(usage: Usage, config: CampaignConfig, contacts: int) -> Check:
    """Today's quota covers the campaign (every attempt of every contact)."""
    remaining = usage.calls_remaining_today
    needed = contacts * config.max_attempts
    if remaining is None:
        return Check("quota", Level.WARN, "OneInbox did not report today's remaining calls")
    if remaining < needed:
        return Check(
            "quota",
            Level.WARN,
            f"{remaining} calls left today (cap {usage.max_calls_per_day}) "
            f"for {contacts} contacts (up to {needed} calls): "
            "the rest wait for the reset at 00:00 UTC",
        )
    return Check("quota", Level.OK, f"{remaining} calls left today, {needed} needed")


def _missing(exc: ProviderError) -> bool:
    """404 (no such thing) or 422 (not even a valid id): the value is wrong, not the network."""
    return exc.status_code in (404, 422)


def _agent(client: OneInboxClient, agent_id: str) -> Check:
    try:
        agent = client.get_agent(agent_id)
    except ProviderError as exc:
        if _missing(exc):
            return Check(
                "agent",
                Level.FAIL,
                f"no agent {agent_id}: {exc}; `dialer agents list` shows your agents' ids",
            )
        return Check("agent", Level.WARN, f"could not check agent {agent_id}: {exc}")
    name = getattr(agent, "name", None) or agent_id
    return Check("agent", Level.OK, f"{name}")


def _registered(client: OneInboxClient) -> set[str] | None:
    try:
        return {n.phone_number for n in client.list_numbers()}
    except ProviderError:
        return None


def _from_number(client: OneInboxClient, number: str) -> Check:
    registered = _registered(client)
    if registered is None:
        return Check("from-number", Level.WARN, "could not list your numbers")
    if number in registered:
        return Check("from-number", Level.OK, f"{number} registered")
    return Check(
        "from-number",
        Level.FAIL,
        f"{number} is not among your registered numbers ({len(registered)} found); "
        "register it with `dialer numbers register` or use one from `dialer numbers list`",
    )


def agent_exists(client: OneInboxClient, agent_id: str) -> bool:
    """False only when the account surely has no such agent (not when it could not be asked)."""
    return _agent(client, agent_id).level is not Level.FAIL


def registered_numbers(client: OneInboxClient) -> set[str] | None:
    """The account's registered from-numbers; None when they could not be listed."""
    return _registered(client)


def check_rows(unknown: UnknownRows) -> list[Check]:
    """What the rows' own agent ids and from-numbers that the account lacks mean."""
    checks = []
    if unknown.agents:
        listed = ", ".join(sorted(unknown.agents))
        checks.append(
            Check(
                "rows' agents",
                Level.WARN,
                f"no agent {listed}: those rows are rejected (unknown_agent)",
            )
        )
    if unknown.numbers:
        listed = ", ".join(sorted(unknown.numbers))
        checks.append(
            Check(
                "rows' from-numbers",
                Level.WARN,
                f"{listed} not registered: those rows are rejected (unregistered_from_number)",
            )
        )
    return checks


_NANP_AREAS: dict[str, str | None] = {}  # a North American area code -> its region


def region_of_e164(e164: str) -> str | None:
    """The region of a valid E.164 number (as the loader made it), read off its calling code
    with no parse: a `phonenumbers` parse per contact cost 22 s at a million rows. In North
    America the area code decides (one parse per area code); only the few calling codes that
    other regions share too (+44 with Jersey, +7 with Kazakhstan...) are parsed each time."""
    for size in (1, 2, 3):
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(e164[1 : 1 + size] or 0))
        if regions:
            break
    else:
        return None
    if len(regions) == 1:
        return str(regions[0])
    if size == 1 and e164[1] == "1":
        area = e164[2:5]
        if area not in _NANP_AREAS:
            _NANP_AREAS[area] = region_of(e164)
        return _NANP_AREAS[area]
    return region_of(e164)


def regions_of(phones: Iterable[str]) -> Counter[str | None]:
    """The contacts counted by the region of their number (None: no region)."""
    return Counter(map(region_of_e164, phones))


def check_countries(from_number: str, regions: Mapping[str | None, int]) -> Check:
    """Contacts in other countries than the from-number need the carrier's geo permissions
    (`regions`: the contacts counted by region, `regions_of`)."""
    home = region_of(from_number)
    abroad = Counter({r: n for r, n in regions.items() if r != home and n})
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


@dataclass
class AccountCounts:
    """How many of the contacts seen so far the account's do-not-call list and gap hold: the
    preflight adds each batch's as the list streams by."""

    listed: int = 0  # on the do-not-call list
    held: int = 0  # called by another campaign of the account less than --min-gap ago

    def add(self, store: Store, config: CampaignConfig, phones: Sequence[str]) -> None:
        """Count these contacts (a batch: the store asks in chunks)."""
        if not phones:
            return
        account = config.account or DEFAULT_ACCOUNT
        self.listed += store.dnc_listed(account, phones)
        self.held += store.recently_called(account, phones, config.min_gap_s, config.campaign_id)


def check_account_rules(
    store: Store, config: CampaignConfig, phones: Sequence[str], defaults: AccountLimits
) -> list[Check]:
    """What the campaign's account adds, for these contacts (`account_checks`)."""
    counts = AccountCounts()
    counts.add(store, config, phones)
    return account_checks(store, config, counts, defaults)


def account_checks(
    store: Store, config: CampaignConfig, counts: AccountCounts, defaults: AccountLimits
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
    listed, held = counts.listed, counts.held
    size = store.dnc_size(account)
    detail = f"{size} numbers on the list; {listed} of these contacts are on it"
    checks.append(
        Check(
            "do-not-call",
            Level.WARN if listed else Level.OK,
            detail + (" (never dialled: they end suppressed)" if listed else ""),
        )
    )
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
