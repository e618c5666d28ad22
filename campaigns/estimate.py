"""How long a campaign should take, as pure functions of the time they are given.

Before the run (`estimate`, the preflight's): its contacts walked through their calling windows
at the campaign's pace and concurrency, counted by time zone as the list streams by (`Zones`:
one entry per zone and state rule, not one per contact). During it (`finish`, the one ETA the
live view, `status`, the web page and the API show): the contacts due now at the tightest of
the pace, the concurrency over the measured mean call length and the account's share, then each
waiting group from its next time, cut at the deadline; the text names what binds.

An estimate, and said to be one: calls are assumed to last `call_s` seconds (so that the
concurrency cap turns into a pace), and nobody is retried.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from campaigns.state_rules import load_rules
from campaigns.when import CallingPolicy, Reachable, Recipient
from campaigns.windows import Window, parse_window, zones_for
from dialer.account import AccountLimits
from dialer.campaign import CampaignConfig, CampaignState
from dialer.store import ContactState, Store

DEFAULT_CALL_S = 90.0
# The creates a call length is measured on: those of the last 30 s, else of the last 10 min.
CALL_SAMPLES_S = (30.0, 600.0)


class WaitingGroup(Protocol):
    """Pending contacts waiting for one kind of thing (`campaigns.progress.Waiting` is one)."""

    @property
    def why(self) -> str: ...
    @property
    def count(self) -> int: ...
    @property
    def next_at(self) -> datetime: ...


class Seen(Protocol):
    """What the estimate needs of a campaign's progress (`campaigns.progress.Progress` is
    one; a protocol, as progress calls the estimate)."""

    @property
    def state(self) -> CampaignState: ...
    @property
    def counts(self) -> dict[str, int]: ...
    @property
    def live(self) -> int: ...
    @property
    def pending(self) -> int: ...
    @property
    def waiting_count(self) -> int: ...
    @property
    def waiting(self) -> Sequence[WaitingGroup]: ...


@dataclass(frozen=True)
class Estimate:
    """When dialling should end, and how many contacts wait beyond the day they could start."""

    pace_per_s: float
    limited_by: str  # "pace" or "concurrency"
    first_dial: datetime | None
    last_dial: datetime | None
    rolled_over: int  # contacts whose turn comes after their window closed: a later window
    never: int  # contacts with no calling time before the deadline (they would expire)


def _window(config: CampaignConfig) -> Window:
    return parse_window(config.window, config.days)


def effective_pace(config: CampaignConfig, call_s: float = DEFAULT_CALL_S) -> tuple[float, str]:
    """Calls per second the campaign can sustain: its pace, or its concurrency over call length."""
    by_slots = config.max_concurrent / call_s
    if by_slots < config.rate_per_s:
        return by_slots, "concurrency"
    return config.rate_per_s, "pace"


@dataclass(slots=True)
class _Group:
    contact: Recipient  # the first contact seen of the group
    count: int


class Zones:
    """The contacts to estimate, counted by what their calling times depend on (their time
    zones and state rule): one entry per such group, however long the list. Contacts of a
    group are alike to the estimate, so the first one seen stands for all of them."""

    def __init__(self, config: CampaignConfig) -> None:
        self.config = config
        self.groups: dict[tuple[str, ...], _Group] = {}
        self._alike = _window(config).always and not config.rules  # no zone matters

    def add(self, phone: str, timezone: str = "", count: int = 1) -> None:
        """Count `count` contacts like this one (a number and its `timezone` column)."""
        key = self.key(phone, timezone)
        group = self.groups.get(key)
        if group is None:
            self.groups[key] = _Group(Recipient(phone, timezone), count)
        else:
            group.count += count

    def key(self, phone: str, timezone: str = "") -> tuple[str, ...]:
        """The group of a contact: its time zones and state rule (all contacts are alike, one
        group, when the campaign has no window or rule)."""
        if self._alike:
            return ()
        zones = tuple(zone.key for zone in zones_for(phone, timezone or None))
        state = load_rules(self.config.rules).state_for(phone) if self.config.rules else None
        return (*zones, state or "")

    def __iter__(self) -> Iterator[tuple[Recipient, int]]:
        return ((group.contact, group.count) for group in self.groups.values())


def zones_of(config: CampaignConfig, contacts: Iterable[Mapping[str, str]]) -> Zones:
    """The contacts (`phone`, optional `timezone`) counted for `estimate`."""
    zones = Zones(config)
    for row in contacts:
        zones.add(row["phone"], row.get("timezone", ""))
    return zones


def estimate(
    config: CampaignConfig,
    contacts: Iterable[tuple[Reachable, int]],
    now: datetime,
    call_s: float = DEFAULT_CALL_S,
) -> Estimate:
    """Walk the contacts, counted by group (`Zones`), through their windows at the pace.

    Each group is due when its first window opens; groups due at the same instant are walked
    one after the other, in the order they were first seen."""
    pace, limit = effective_pace(config, call_s)
    walk = _Walk(config, timedelta(seconds=1 / pace))
    due: list[tuple[datetime, Reachable, int]] = []
    for contact, count in contacts:
        at, _ = walk.policy.dial_at(config, contact, now, why=False)
        if at is None:
            walk.never += count
        else:
            due.append((at, contact, count))
    due.sort(key=lambda item: item[0])
    for at, contact, count in due:
        walk.place(contact, at, count)
    return Estimate(pace, limit, walk.first, walk.clock, walk.rolled, walk.never)


_TICK = timedelta(microseconds=1)  # a datetime's resolution: instants are whole ticks apart


@dataclass
class _Walk:
    """The estimate's walk: each contact one gap after the one before, in its calling time."""

    config: CampaignConfig
    gap: timedelta
    policy: CallingPolicy = field(default_factory=CallingPolicy)
    clock: datetime | None = None  # when the last contact placed is dialled
    first: datetime | None = None
    rolled: int = 0  # contacts whose turn came after their window closed
    never: int = 0

    def place(self, contact: Reachable, at: datetime, count: int) -> None:
        """Place `count` contacts alike, due at `at`: as the walk of one contact at a time
        would, but a whole run at once while they stay in one calling period."""
        closes = self.policy.window_close(self.config, contact, at)
        while count:
            slot = at if self.clock is None else max(at, self.clock + self.gap)
            allowed = self.policy.allowed_from(self.config, contact, slot)
            if allowed is None:  # nor for the rest: their slots are no earlier
                self.never += count
                return
            run = min(count, self._fit(contact, allowed, count))
            self.rolled += _late(allowed, run, self.gap, closes)
            self.clock = allowed + (run - 1) * self.gap
            self.first = self.first or allowed
            count -= run

    def _fit(self, contact: Reachable, allowed: datetime, count: int) -> int:
        """How many contacts from `allowed` on, a gap apart, stay in its calling period."""
        end = self.policy.window_close(self.config, contact, allowed)
        if end is None:  # always allowed (else, to be safe, one at a time)
            return count if self.policy.spans(self.config, contact, allowed) is None else 1
        return count if not self.gap else (end - allowed - _TICK) // self.gap + 1


def _late(allowed: datetime, run: int, gap: timedelta, closes: datetime | None) -> int:
    """How many of `run` contacts dialled from `allowed` on, a gap apart, have their turn at or
    after `closes` (their window closed: they roll over)."""
    if closes is None:
        return 0
    if closes <= allowed:
        return run
    if not gap:
        return 0
    return max(0, run - ((closes - allowed - _TICK) // gap + 1))


def describe(est: Estimate, *, deadline: bool = False) -> str:
    """The preflight's estimate in one sentence (`dialer check`, a dry run, the web page)."""
    if est.last_dial is None:
        if deadline:
            return "Estimate: no contact can be dialled before the deadline."
        return "Estimate: there is no contact to dial."
    when = f"{est.last_dial:%Y-%m-%d %H:%M} UTC"
    starts = f"{est.first_dial:%Y-%m-%d %H:%M} UTC" if est.first_dial else "now"
    text = (
        f"Estimate: dialling starts {starts} and ends about {when}, at "
        f"{est.pace_per_s:.2f} calls/s (limited by {est.limited_by}); "
        f"{est.rolled_over} contacts roll over to a later day"
    )
    if est.never:
        text += f"; {est.never} have no calling time before the deadline and would expire"
    return text + "."


@dataclass(frozen=True)
class Bound:
    """One thing that caps how fast contacts are dialled: calls per second, and in words."""

    per_s: float
    words: str


@dataclass(frozen=True)
class Rates:
    """What the campaign can dial at, beside its own options: the mean call length (measured,
    or assumed) and its share of its account's limits."""

    call_s: float = DEFAULT_CALL_S
    measured: bool = False
    account: str = ""
    account_limits: AccountLimits = field(default_factory=AccountLimits)
    sharing: int = 1  # running campaigns on the account, this one included


@dataclass(frozen=True)
class Finish:
    """When dialling the contacts left should end, and what binds it (`text` says both)."""

    text: str
    seconds: float | None = None  # from now to the last dial; None when there is no telling
    limited_by: str = ""
    next_dial: datetime | None = None  # set when nobody is due now


def measured_call_s(creates_ms: Sequence[int], calls: int) -> float | None:
    """The mean call length, from when the creates were sent (oldest first) and the `calls` in
    progress: a create takes the slot a call left, so the `calls`-th create after a call's own
    came when one ended (Little's law, counted on the creates). Creates per second up to now
    would be thrown by a run's first creates, sent together before any call ended: they made
    the first measure ~2 s for calls of ~8 s. None until a call has ended."""
    if calls <= 0 or len(creates_ms) <= calls:
        return None
    lags = [later - sent for sent, later in zip(creates_ms, creates_ms[calls:], strict=False)]
    return sum(lags) / len(lags) / 1000


def bounds(config: CampaignConfig, rates: Rates) -> list[Bound]:
    """Every cap on the dialling pace, in calls per second, with the words that name it."""
    seen = "" if rates.measured else " (assumed)"
    last = f"calls last ~{rates.call_s:.0f} s{seen}"
    found = [
        Bound(config.rate_per_s, f"the pace of {config.rate_per_s:g} calls/s"),
        Bound(
            config.max_concurrent / rates.call_s, f"{config.max_concurrent} calls at once, {last}"
        ),
    ]
    limits, share = rates.account_limits, max(1, rates.sharing)
    shared = f", shared by {share} campaigns" if share > 1 else ""
    who = f"account {rates.account}'s"
    if limits.rate_per_s:
        words = f"{who} pace of {limits.rate_per_s:g} calls/s{shared}"
        found.append(Bound(limits.rate_per_s / share, words))
    if limits.max_concurrent:
        words = f"{who} {limits.max_concurrent} calls at once{shared}, {last}"
        found.append(Bound(limits.max_concurrent / share / rates.call_s, words))
    return found


def finish(now: Seen, config: CampaignConfig, at: datetime, rates: Rates) -> Finish:
    """When dialling should end from `at`: the contacts due now at the binding pace, then each
    waiting group from its next time; none while paused or cancelled."""
    if now.live == 0:
        return Finish("done")
    if now.state is CampaignState.CANCELED:
        return Finish("cancelled: calls in progress finish, nobody new is dialled")
    if now.state is CampaignState.PAUSED:
        return Finish("paused: no ETA until it is resumed")
    bound = min(bounds(config, rates), key=lambda b: b.per_s)
    due = max(0, now.pending - now.waiting_count)
    clock, backlog, held_by = at, float(due), ""
    for wait in now.waiting:
        if wait.next_at > clock + timedelta(seconds=backlog / bound.per_s):
            clock, backlog = wait.next_at, 0.0
            held_by = (
                f"{wait.count} contacts waiting {wait.why} (next at {_hhmm(wait.next_at, at)})"
            )
        backlog += wait.count
    end = clock + timedelta(seconds=backlog / bound.per_s)
    return _said(now, config, at, end, bound, held_by, due)


def _said(
    now: Seen,
    config: CampaignConfig,
    at: datetime,
    end: datetime,
    bound: Bound,
    held_by: str,
    due: int,
) -> Finish:
    seconds = max(0.0, (end - at).total_seconds())
    limited_by = held_by or bound.words
    deadline = datetime.fromisoformat(config.deadline) if config.deadline else None
    if deadline is not None and end > deadline:
        limited_by = f"the deadline {_hhmm(deadline, at)}; contacts left then expire"
        seconds = max(0.0, (deadline - at).total_seconds())
    next_dial = now.waiting[0].next_at if due == 0 and now.waiting else None
    lookups = now.counts.get(ContactState.RECONCILING.value, 0)
    ends = _hhmm(at + timedelta(seconds=seconds), at)
    text = f"~{_span(seconds)} of dialling (ends ~{ends})"
    if next_dial is not None:
        text = f"nobody due now; next dial at {_hhmm(next_dial, at)}; {text}"
    text += f"; limited by {limited_by}"
    if lookups:
        text += f"; {lookups} being looked up after a crash (was a call created?)"
    return Finish(text, seconds, limited_by, next_dial)


def _hhmm(when: datetime, today: datetime) -> str:
    when = when.astimezone(UTC)
    return (
        f"{when:%H:%M} UTC"
        if when.date() == today.astimezone(UTC).date()
        else f"{when:%Y-%m-%d %H:%M} UTC"
    )


def _span(seconds: float) -> str:
    s = round(seconds)
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    hours, minutes = divmod(s // 60, 60)
    return f"{hours} h {minutes} min" if hours < 48 else f"{hours // 24} days {hours % 24} h"


def rates_of(store: Store, config: CampaignConfig, now: Seen, at: datetime) -> Rates:
    """The campaign's measured call length and its share of its account's limits."""
    account = store.account_of(config.campaign_id)
    running = set(store.active_campaigns())
    sharing = sum(1 for c in store.account_campaigns(account) if c in running) or 1
    limits = store.limits(account)
    measured = _measure(store, config.campaign_id, _in_use(now, config, limits, sharing), at)
    return Rates(
        call_s=measured or DEFAULT_CALL_S,
        measured=measured is not None,
        account=account,
        account_limits=limits,
        sharing=sharing,
    )


def _in_use(now: Seen, config: CampaignConfig, limits: AccountLimits, sharing: int) -> int:
    """The calls in progress the creates are counted against: all the slots when they are full
    or one is between a call that ended and the next create (the count and the creates are not
    read at one instant), else those in progress now."""
    calls = sum(now.counts.get(s.value, 0) for s in (ContactState.DIALING, ContactState.PLACED))
    slots = config.max_concurrent
    if limits.max_concurrent:
        slots = min(slots, max(1, limits.max_concurrent // max(1, sharing)))
    return slots if calls >= slots - 1 else calls


def _measure(store: Store, cid: str, calls: int, at: datetime) -> float | None:
    at_ms = round(at.timestamp() * 1000)
    for sample_s in CALL_SAMPLES_S:  # the shortest that holds a call ended: cheap at 100/s
        measured = measured_call_s(store.recent_creates(cid, at_ms - round(sample_s * 1000)), calls)
        if measured is not None:
            return measured
    return None


def finish_of(store: Store, cid: str, now: Seen, at: datetime) -> Finish:
    """`finish` for the campaign `cid` as the store has it, `now` being its progress at `at`."""
    config = store.campaign(cid)
    return finish(now, config, at, rates_of(store, config, now, at))
