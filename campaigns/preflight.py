"""The preflight, one for every door: catch the usual mistakes before anyone is dialled.

    begin    the checks that need no list: where the key goes, the output files, the
             deadline, the key, the agent and from-number, Redis and the workers. A failure
             here stops everything: the list is not even read.
    refuse   fed each valid contact while the list streams by, in the very pass that loads
             it (`dialer run`, the server's create) or in a pass of its own (`read`: `dialer
             check`, a dry run, the new-campaign page's review). A row's own agent id or
             from-number is looked up the first time it is seen; rows naming one the account
             lacks are rejected (`unknown_agent`, `unregistered_from_number`).
    stored   fed each batch to dial once it is stored: counted by country, by time zone for
             the estimate, and against the account's do-not-call list and gap. Only counts are
             kept, never a contact.
    finish   what needs the list: today's quota, the rows' lookups, the contacts' countries,
             the account's limits, do-not-call list and gap; then the estimate. Warnings only.

The checks themselves are in `campaigns/checks.py`; the doors only render the result.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from campaigns import checks, paths
from campaigns.checks import Check, Level, UnknownRows
from campaigns.estimate import Estimate, Zones, estimate
from campaigns.model import Contact, Reject, RejectReason
from campaigns.planning import RunPlan
from dialer.account import AccountLimits
from dialer.campaign import CampaignConfig
from dialer.client import OneInboxClient
from dialer.http import make_http_client
from dialer.models import Usage
from dialer.settings import Settings
from dialer.store import Store

NO_KEY = "this server has no API key (its workers have it): key, agent, numbers, quota unchecked"


@dataclass(frozen=True)
class Infra:
    """Where the campaign would run, for the Redis and workers checks."""

    store: Store | None = None  # the campaign store, when it is at hand
    ping: Callable[[], list[Any] | None] | None = None  # shared workers' ping; None: embedded
    env_file: Path | None = None  # the `.env` file read, named beside the endpoint


@dataclass(frozen=True)
class Preflight:
    """All checks, the estimate when the contacts could be read, and what the file gave."""

    checks: list[Check]
    estimate: Estimate | None
    unknown: UnknownRows = field(default_factory=UnknownRows)
    contacts: int = 0
    rejects: Counter[str] = field(default_factory=Counter)

    @property
    def failed(self) -> bool:
        """True when something must be fixed before dialling."""
        return any(c.level is Level.FAIL for c in self.checks)


@dataclass
class _Seen:
    """What the pass gave so far, as counts: nothing is kept per contact, so a list of a
    million rows costs what a list of ten does (the rows' own agents and from-numbers, and the
    groups of `Zones`, are few)."""

    contacts: int = 0  # valid contacts, refused ones included
    regions: Counter[str | None] = field(default_factory=Counter)
    account: checks.AccountCounts = field(default_factory=checks.AccountCounts)
    refused: list[str] = field(default_factory=list)  # refused numbers not yet counted by account
    zones: Zones | None = None  # the contacts to dial, for the estimate
    agents: dict[str, bool] = field(default_factory=dict)  # a row's own agent -> known
    numbers: dict[str, bool] = field(default_factory=dict)  # a row's own from-number -> known
    registered: set[str] | None = None
    listed: bool = False  # `registered` was asked


@dataclass
class Checking:
    """A preflight under way: `begin`'s checks done, the list's pass feeding `refuse` each
    valid contact and `stored` each batch to dial (once it is stored: the counting, a time
    zone look-up per contact, never delays the first call)."""

    config: CampaignConfig
    checks: list[Check]
    client: OneInboxClient | None = None
    usage: Usage | None = None
    infra: Infra | None = None
    local: bool = True  # `dialer run`/`check`: the estimate and the account's rules too
    defaults: AccountLimits | None = None  # the deployment's account limits
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    seen: _Seen = field(default_factory=_Seen)

    @property
    def failed(self) -> bool:
        """True when a check that needs no list failed: nothing may be read or dialled."""
        return any(c.level is Level.FAIL for c in self.checks)

    def refuse(self, contact: Contact) -> Reject | None:
        """Why this valid contact cannot be dialled with its own agent or from-number (None
        when it can: `stored` counts it with its batch); a refused one is counted here."""
        refused = self._unknown(contact).reject(contact)
        if refused is not None:
            self._count([contact.phone_e164])
            self.seen.refused.append(contact.phone_e164)
        return refused

    def stored(self, batch: Sequence[Contact]) -> None:
        """Count a batch of contacts to dial (stored, or read by `read`), for the checks that
        need the list and the estimate."""
        phones = [contact.phone_e164 for contact in batch]
        self._count(phones)
        self._check_account(self.seen.refused + phones)
        self.seen.refused = []
        zones = self._zones()
        for contact in batch:
            zones.add(contact.phone_e164, contact.timezone or "")

    def _count(self, phones: Sequence[str]) -> None:
        self.seen.contacts += len(phones)
        self.seen.regions.update(map(checks.region_of_e164, phones))

    def _check_account(self, phones: Sequence[str]) -> None:
        store = self._store()
        if store is not None:
            self.seen.account.add(store, self.config, phones)

    def _store(self) -> Store | None:
        """The store the account's rules are checked in (None: not checked here)."""
        store = self.infra.store if self.infra else None
        return store if self.local and not self.failed else None

    def _zones(self) -> Zones:
        if self.seen.zones is None:
            self.seen.zones = Zones(self.config)
        return self.seen.zones

    def screen(self, batch: Sequence[Contact]) -> list[Reject]:
        """A batch as a load takes it: each contact to `refuse`, those kept to `stored`; the
        rejects it made."""
        kept: list[Contact] = []
        rejects: list[Reject] = []
        for contact in batch:
            refused = self.refuse(contact)
            if refused is None:
                kept.append(contact)
            else:
                rejects.append(refused)
        self.stored(kept)
        return rejects

    def _unknown(self, contact: Contact) -> UnknownRows:
        agent, number = contact.agent_id or "", contact.from_number or ""
        if self.client is None:
            return UnknownRows()
        if agent and agent != self.config.agent_id and agent not in self.seen.agents:
            self.seen.agents[agent] = checks.agent_exists(self.client, agent)
        if number and number != self.config.from_number and number not in self.seen.numbers:
            self.seen.numbers[number] = self._registered(number)
        return self.unknown()

    def _registered(self, number: str) -> bool:
        if not self.seen.listed and self.client is not None:
            self.seen.registered, self.seen.listed = checks.registered_numbers(self.client), True
        return self.seen.registered is None or number in self.seen.registered

    def unknown(self) -> UnknownRows:
        """The rows' own agent ids and from-numbers found unknown so far."""
        agents = frozenset(a for a, known in self.seen.agents.items() if not known)
        numbers = frozenset(n for n, known in self.seen.numbers.items() if not known)
        return UnknownRows(agents, numbers)

    def finish(self, rejects: Iterable[Reject]) -> Preflight:
        """The checks that need the list, and the estimate, once its pass is over."""
        rejects = list(rejects)
        reasons = Counter(r.reason.value for r in rejects)
        listed = [r.phone for r in rejects if r.reason is RejectReason.DNC and r.phone]
        self._check_account(self.seen.refused + listed)
        self.seen.refused = []
        contacts = self.seen.contacts
        found = list(self.checks)
        if self.usage is not None:
            found.insert(_after(found, "from-number"), checks.check_quota(
                self.usage, self.config, contacts))  # fmt: skip
        found += checks.check_rows(self.unknown())
        if contacts and self.client is not None and not self.failed:  # None: nothing checked
            found.append(checks.check_countries(self.config.from_number, self.seen.regions))
        if self.local and not self.failed:
            found += self._account()
        est = estimate(self.config, self._zones(), self.now)
        return Preflight(found, est, self.unknown(), contacts, reasons)

    def _account(self) -> list[Check]:
        store = self._store()
        if store is None:
            return [Check("account", Level.OK, "limits, do-not-call list and gap: checked at run")]
        defaults = self.defaults or AccountLimits()
        return checks.account_checks(store, self.config, self.seen.account, defaults)


def _after(found: list[Check], name: str) -> int:
    """The index just after the check called `name` (the end when there is none)."""
    names = [c.name for c in found]
    return names.index(name) + 1 if name in names else len(found)


@contextlib.contextmanager
def begin(
    settings: Settings, plan: RunPlan, *, infra: Infra | None = None, local: bool = True
) -> Iterator[Checking]:
    """The checks that need no list; the client to OneInbox stays open for the rows' lookups.

    `local`: a command on this machine (`dialer run`, `check`): where the key is sent, the
    output files, the deadline, Redis and the workers, the estimate. The server (not `local`)
    may have no API key: then it says what it could not check, and checks nothing else.
    """
    now = datetime.now(UTC)
    found: list[Check] = []
    if local:
        env_file = infra.env_file if infra else None
        found.append(checks.check_endpoint(settings.base_url, env_file))
        found += paths.check_outputs(plan.results, plan.rejects_path)
        found += checks.check_deadline(plan.config, now)
    elif settings.api_key is None:
        yield Checking(plan.config, [Check("API key", Level.WARN, NO_KEY)], local=False, now=now)
        return
    http = make_http_client(
        settings.base_url,
        settings.require_api_key(),
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
    )
    with http:
        client = OneInboxClient(http)
        access, usage = checks.check_access(client, plan.config)
        checking = Checking(plan.config, found + access, client, usage, infra, local,
                            settings.account_defaults(), now)  # fmt: skip
        if local and not checking.failed:
            checking.checks += _infrastructure(infra)
        yield checking


def _infrastructure(infra: Infra | None) -> list[Check]:
    if infra is None or infra.store is None:
        return [Check("redis", Level.OK, "a private redis-server will be started")]
    return checks.check_workers(infra.store, infra.ping)


def read(checking: Checking, plan: RunPlan) -> Preflight:
    """The list's pass when nothing is loaded (`dialer check`, a dry run, a preview): read
    once, streamed, for the checks that need it."""
    rejects: list[Reject] = []
    with plan.contact_file:
        for good, bad in plan.contact_file.batches():
            rejects += bad
            rejects += checking.screen(good)
    return checking.finish(rejects)


def outputs_only(plan: RunPlan) -> Preflight:
    """Without the preflight (--no-preflight), still the check that the output files can be
    written."""
    return Preflight(paths.check_outputs(plan.results, plan.rejects_path), None)


def run(
    settings: Settings, plan: RunPlan, *, infra: Infra | None = None, local: bool = True
) -> Preflight:
    """The whole preflight in a pass of its own over the list (nothing is loaded)."""
    with begin(settings, plan, infra=infra, local=local) as checking:
        if checking.failed:
            plan.contact_file.close()
            return Preflight(checking.checks, None)
        return read(checking, plan)
