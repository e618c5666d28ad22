"""Loading a list into its campaign (campaigns.lifecycle) on a real Redis: a campaign the load
created is not read back at its end; a resumed one has the rows its list dropped settled. The
campaign dials from its first batch while the rest loads: it is not finished while loading, a
resumed one dials only what the load has reached, and a load cut short then run again loses
nobody and dials nobody twice."""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns import lifecycle
from campaigns.model import Contact
from dialer.campaign import CampaignConfig, CampaignState
from dialer.pace import Pace
from dialer.policy import Timing
from dialer.store import ContactState, Loaded, Store
from dialer.tick import tick_campaign
from tests.support import wait_until

COLUMNS = ("phone",)


@pytest.fixture
def store(redis_url: str) -> Iterator[Store]:
    opened = Store.from_url(redis_url)
    yield opened
    opened.redis.close()


def _config() -> CampaignConfig:
    return CampaignConfig(
        campaign_id="load",
        agent_id="a",
        from_number="+14155550100",
        columns=COLUMNS,
        window="always",
    )


def _contacts(rows: range) -> list[Contact]:
    return [Contact(r, f"+1415555{r:04d}", {"phone": f"+1415555{r:04d}"}) for r in rows]


def _hmgets(store: Store) -> int:
    stats = store.redis.info("commandstats")
    return int(stats.get("cmdstat_hmget", {}).get("calls", 0))


def test_a_new_campaigns_load_does_not_read_its_contacts_back(store: Store) -> None:
    contacts = _contacts(range(1, 3001))
    store.redis.config_resetstat()
    submitted = lifecycle.submit(
        store, _config(), [contacts[i : i + 1000] for i in (0, 1000, 2000)]
    )
    assert submitted.loaded.added == 3000 and submitted.loaded.removed == 0
    assert _hmgets(store) < 100  # a few look-ups per batch; none per contact (3,000)


def test_a_resumed_campaigns_load_cancels_the_rows_its_list_dropped(store: Store) -> None:
    lifecycle.submit(store, _config(), [_contacts(range(1, 4))])
    again = lifecycle.submit(store, _config(), [_contacts(range(1, 3))])
    assert again.resumed and again.loaded.removed == 1
    dropped = store.contact("load", 3)
    assert dropped is not None and dropped.state is ContactState.CANCELED


# -- dialling while loading ------------------------------------------------------------------


def _number(n: int) -> str:
    return f"+1415555{n:04d}"


def _of(numbers: Iterable[int]) -> list[Contact]:
    """Contacts holding these numbers, in rows 1, 2, ... in the order given."""
    return [Contact(row, _number(n), {"phone": _number(n)}) for row, n in enumerate(numbers, 1)]


def _due(store: Store) -> set[str]:
    """The numbers a tick would hand out to dial now (without taking them)."""
    members = [int(m) for m in store.redis.zrangebyscore("dialer:camp:load:ready", 0, "+inf")]
    return {c.phone for c in store.contacts("load", members) if c is not None}


def _dial(store: Store, dialled: Counter[str]) -> set[str]:
    """Do what the workers do: take every contact due and claim it (a won claim is a call)."""
    rows, _ = store.pump(
        "load", max_dial=1000, requeue_after_ms=600_000, max_follow=0, follow_lease_ms=1000
    )
    called = set()
    for row in rows:
        claim = store.claim(
            "load", row, pace=Pace(interval_s=1e-6), max_concurrent=1000, lease_s=60, stuck_s=60
        )
        if claim.won and claim.contact is not None:
            called.add(claim.contact.phone)
            dialled[claim.contact.phone] += 1
    return called


def _nothing(cid: str, rows: list[int]) -> None:
    """An enqueue that sends no task (the tick's decisions are what is under test)."""


def test_the_campaign_dials_from_its_first_batch_while_the_rest_loads(store: Store) -> None:
    seen_while_loading: list[tuple[CampaignState | None, bool, set[str]]] = []

    def batches() -> Iterator[Sequence[Contact]]:
        yield _of([1, 2])
        seen_while_loading.append(
            (store.campaign_state("load"), store.loading("load"), _due(store))
        )
        yield _of([1, 2, 3])[2:]

    lifecycle.submit(store, _config(), batches(), start=True)
    assert seen_while_loading == [(CampaignState.RUNNING, True, {_number(1), _number(2)})]
    assert not store.loading("load")
    assert store.campaign_state("load") is CampaignState.RUNNING


def test_dialling_starts_once_the_first_contacts_of_a_batch_are_stored(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 10,000-row batch takes a while to store: its first 200 are stored on their own."""
    stored: list[tuple[int, CampaignState | None]] = []
    add = store.add_contacts

    def add_contacts(cid: str, contacts: Sequence[Contact], *args: Any, **kwargs: Any) -> Loaded:
        stored.append((len(contacts), store.campaign_state(cid)))
        return add(cid, contacts, *args, **kwargs)

    monkeypatch.setattr(store, "add_contacts", add_contacts)
    lifecycle.submit(store, _config(), [_of(range(1, 1001)), _of(range(1001, 1501))], start=True)
    paused, running = CampaignState.PAUSED, CampaignState.RUNNING
    assert stored == [(200, paused), (800, running), (500, running)]


def test_the_campaign_is_not_finished_while_its_list_loads(store: Store) -> None:
    """Everything stored so far settled, more on its way: the tick leaves it running."""
    ticked: list[tuple[bool, CampaignState | None]] = []

    def batches() -> Iterator[Sequence[Contact]]:
        yield _of([1])
        store.transition("load", 1, ContactState.CANCELED)  # all it holds so far is final
        finished = tick_campaign(store, "load", _nothing, _nothing, Timing())
        ticked.append((finished, store.campaign_state("load")))
        yield _of([1, 2])[1:]

    lifecycle.submit(store, _config(), batches(), start=True)
    assert ticked == [(False, CampaignState.RUNNING)]
    store.transition("load", 2, ContactState.CANCELED)
    assert tick_campaign(store, "load", _nothing, _nothing, Timing())
    assert store.campaign_state("load") is CampaignState.DONE


def test_a_resumed_campaign_dials_only_the_contacts_its_load_has_reached(store: Store) -> None:
    """Number 3 was pending, then left the list: it is never dialled, though it was due."""
    lifecycle.submit(store, _config(), [_of([1, 2, 3, 4])])
    due_while_loading: list[set[str]] = []

    def batches() -> Iterator[Sequence[Contact]]:
        yield _of([2, 1])
        due_while_loading.append(_due(store))
        yield _of([2, 1, 4])[2:]

    again = lifecycle.submit(store, _config(), batches(), start=True)
    assert due_while_loading == [{_number(1), _number(2)}]
    assert again.loaded.removed == 1
    assert _due(store) == {_number(1), _number(2), _number(4)}
    removed = store.contact("load", 3)
    assert removed is not None and removed.state is ContactState.CANCELED


def test_a_dial_task_sent_before_a_load_never_dials_a_contact_the_load_holds(
    store: Store,
) -> None:
    """A task queued before the list was run again names number 3, then the list drops it:
    while the load runs, that task's claim is refused (the contact waits for the load), and
    the load's end cancels it. Nobody outside the new list is dialled."""
    lifecycle.submit(store, _config(), [_of([1, 2, 3, 4])], start=True)
    rows, _ = store.pump(  # the tick queues everyone: their tasks are on their way
        "load", max_dial=1000, requeue_after_ms=600_000, max_follow=0, follow_lease_ms=1000
    )
    assert sorted(rows) == [1, 2, 3, 4]
    stale: list[bool] = []

    def batches() -> Iterator[Sequence[Contact]]:
        yield _of([2, 1])
        claim = store.claim(  # the stale task for number 3 arrives mid-load
            "load", 3, pace=Pace(interval_s=1e-6), max_concurrent=1000, lease_s=60, stuck_s=60
        )
        stale.append(claim.won)
        yield _of([2, 1, 4])[2:]

    lifecycle.submit(store, _config(), batches(), start=True)
    assert stale == [False]
    removed = store.contact("load", 3)
    assert removed is not None and removed.state is ContactState.CANCELED


def test_a_load_that_fails_part_way_pauses_its_campaign(store: Store) -> None:
    def batches() -> Iterator[Sequence[Contact]]:
        yield _of([1])
        raise OSError("the disk went away")

    with pytest.raises(OSError):
        lifecycle.submit(store, _config(), batches(), start=True)
    assert store.campaign_state("load") is CampaignState.PAUSED
    assert not store.loading("load")


def test_a_killed_loads_mark_expires_and_its_held_contacts_wait_for_the_next_run(
    store: Store,
) -> None:
    """A process killed mid-load renews nothing: its mark expires, its unreached contacts stay
    held (never dialled) until the list is run again; `dialer resume` releases them."""
    lifecycle.submit(store, _config(), [_of([1, 2, 3])], start=True)
    load = store.begin_load("load", hold=True, ttl_s=0.3)  # the killed process's load
    store.add_contacts("load", _of([1]), COLUMNS, load=load)
    with store.keep_loading("load", load, ttl_s=0.3):
        time.sleep(0.6)  # twice its time to live: renewed while its process lives
        assert store.loading("load")
    store.redis.set("dialer:camp:load:loading", load, px=300)  # killed: nobody renews it
    wait_until(lambda: not store.loading("load"), 5, "the mark of a killed load to expire")
    assert _due(store) == {_number(1)}
    lifecycle.start(store, "load")  # `dialer resume`: as they were before that load
    assert _due(store) == {_number(1), _number(2), _number(3)}


class Cut(Exception):
    """The load stops here (a failure part-way)."""


def _batches(numbers: list[int], cut: int | None = None) -> Iterator[Sequence[Contact]]:
    """`numbers` as a list, two rows a batch; a failure before batch `cut` when it is given."""
    contacts = _of(numbers)
    for index, start in enumerate(range(0, len(contacts), 2)):
        if index == cut:
            raise Cut
        yield contacts[start : start + 2]


numbers_st = st.lists(st.integers(1, 10), min_size=1, max_size=8, unique=True)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(first=numbers_st, second=numbers_st, dial_first=st.booleans(), cut=st.integers(0, 3),
       killed=st.booleans())  # fmt: skip
def test_a_load_cut_short_then_run_again_loses_nobody_and_dials_nobody_twice(
    store: Store, first: list[int], second: list[int], dial_first: bool, cut: int, killed: bool
) -> None:
    """List one loads (and is dialled, or not); list two's load stops part-way (failed, or
    its process killed) while dialling, and list two is run again whole. Meanwhile only the
    numbers list two's loads have reached are dialled; at the end every number of list two
    was dialled once, and one that left the list was dialled only if it was before."""
    store.redis.flushdb()
    dialled: Counter[str] = Counter()
    lifecycle.submit(store, _config(), _batches(first), start=True)
    before = _dial(store, dialled) if dial_first else set()
    reached = _reached(store, second, cut, killed, dialled)
    assert reached <= {_number(n) for n in second}
    lifecycle.submit(store, _config(), _batches(second), start=True)
    while _dial(store, dialled):
        pass
    assert set(dialled.values()) <= {1}, dialled
    assert set(dialled) == {_number(n) for n in second} | before
    for n in set(first) - set(second):
        member = store.redis.hget("dialer:camp:load:numbers", _number(n))
        contact = store.contact("load", int(member))
        assert contact is not None
        assert contact.state is (
            ContactState.DIALING if _number(n) in before else ContactState.CANCELED
        )


def _reached(
    store: Store, numbers: list[int], cut: int, killed: bool, dialled: Counter[str]
) -> set[str]:
    """Load `numbers` up to batch `cut`, dialling after each batch; the numbers dialled then."""
    called: set[str] = set()
    if killed:  # the process dies: no end, no failure handling, the mark expires
        load = store.begin_load("load", hold=True, ttl_s=0.05)
        for batch in itertools.islice(_batches(numbers), cut):
            store.add_contacts("load", batch, COLUMNS, load=load)
            called |= _dial(store, dialled)
        wait_until(lambda: not store.loading("load"), 5, "the killed load's mark to expire")
        return called | _dial(store, dialled)

    cut = min(cut, (len(numbers) - 1) // 2)  # a failure before the last batch at the latest

    def dialling() -> Iterator[Sequence[Contact]]:
        nonlocal called
        for batch in _batches(numbers, cut):
            yield batch
            called |= _dial(store, dialled)

    with pytest.raises(Cut):
        lifecycle.submit(store, _config(), dialling(), start=True)
    return called
