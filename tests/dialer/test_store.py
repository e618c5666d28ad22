"""The store's compare-and-set scripts, on a real redis-server and on fakeredis."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import fakeredis
import pytest
import redis

from campaigns.model import Contact
from dialer.campaign import CampaignConfig, CampaignState
from dialer.pace import Pace
from dialer.store import ContactState, Store
from dialer.store.keys import inflight_key, queued_key, ready_key, sends_key, watch_key
from tests.support import scripts_held

COLUMNS = ("phone", "name")


def _contact(row: int) -> Contact:
    phone = f"+1415555{row:04d}"
    return Contact(row, phone, {"phone": phone, "name": f"n{row}"}, {"name": f"n{row}"})


@pytest.fixture(params=["real", "fake"])
def store(request: pytest.FixtureRequest, redis_url: str) -> Iterator[Store]:
    if request.param == "real":
        client = redis.Redis.from_url(redis_url, decode_responses=True)
    else:
        client = fakeredis.FakeRedis(decode_responses=True)
    yield Store(client)


def _campaign(store: Store, n: int = 3, **kw: Any) -> str:
    config = CampaignConfig(
        campaign_id="c1", agent_id="agent", from_number="+14155550100", columns=COLUMNS, **kw
    )
    store.create_campaign(config)
    store.add_contacts("c1", [_contact(r) for r in range(1, n + 1)], COLUMNS)
    store.set_campaign_state("c1", CampaignState.RUNNING)
    return "c1"


def _claim(store: Store, row: int, *, max_concurrent: int = 10, interval_s: float = 1e-6):  # type: ignore[no-untyped-def]
    pace = Pace(interval_s=interval_s)
    return store.claim("c1", row, pace=pace, max_concurrent=max_concurrent, lease_s=60, stuck_s=30)


def _guard(limit: int) -> Pace:
    """A send guard of `limit` sends a minute: long enough that no test outlives its window."""
    return Pace(interval_s=1e-6, send_limit=limit, guard_window_s=60)


def test_adding_contacts_twice_stores_each_once(store: Store) -> None:
    _campaign(store)
    again = store.add_contacts("c1", [_contact(1), _contact(4)], COLUMNS)
    assert again.added == 1
    assert store.total("c1") == 4
    assert store.counts("c1") == {"pending": 4}


def test_a_load_cut_short_and_repeated_stores_each_contact_once(store: Store) -> None:
    _campaign(store, n=0)
    assert store.add_contacts("c1", [_contact(r) for r in range(1, 451)], COLUMNS).added == 450
    everyone = [_contact(r) for r in range(1, 501)]
    assert store.add_contacts("c1", everyone, COLUMNS).added == 50
    assert store.total("c1") == 500
    assert store.counts("c1") == {"pending": 500}
    assert store.pending_rows("c1") == list(range(1, 501))
    assert store.contact("c1", 500).phone == "+14155550500"
    assert [contact.source_row for contact in store.iter_contacts("c1")] == list(range(1, 501))


def test_a_contact_already_dialled_is_not_made_pending_by_a_reload(store: Store) -> None:
    _campaign(store)
    assert _claim(store, 1).won
    store.add_contacts("c1", [_contact(1)], COLUMNS)
    assert store.contact("c1", 1).state is ContactState.DIALING
    assert 1 not in store.pending_rows("c1")


def test_only_one_of_two_claims_wins(store: Store) -> None:
    _campaign(store)
    first, second = _claim(store, 1), _claim(store, 1)
    assert first.won and first.send == 1
    assert not second.won and second.reason == "not_pending"
    assert store.counts("c1") == {"pending": 2, "dialing": 1}


RACERS = 8


def _race(calls: list[Callable[[], Any]], client: redis.Redis) -> list[Any]:
    """Run `calls` in threads whose scripts reach Redis together and run back to back."""
    with ThreadPoolExecutor(len(calls)) as pool, scripts_held(client, expect=len(calls)):
        futures = [pool.submit(call) for call in calls]
    return [f.result() for f in futures]


def test_claims_racing_for_one_contact_one_wins_the_rest_find_it_taken(redis_url: str) -> None:
    store = Store.from_url(redis_url)
    _campaign(store)
    assert _claim(store, 2).won  # the script is loaded: every racer runs it on its first try
    claims = _race([lambda: _claim(store, 1)] * RACERS, store.redis)
    assert sorted(c.won for c in claims) == [False] * (RACERS - 1) + [True]
    assert {c.reason for c in claims if not c.won} == {"not_pending"}
    assert store.counts("c1") == {"pending": 1, "dialing": 2}


def test_transitions_racing_from_one_read_one_moves_the_contact(redis_url: str) -> None:
    store = Store.from_url(redis_url)
    _campaign(store)
    assert _claim(store, 1).won
    assert (
        store.transition("c1", 1, ContactState.PLACED, fields={"call_id": "x"})
        is ContactState.DIALING
    )
    placed = store.contact("c1", 1)
    ends = [ContactState.COMPLETED, ContactState.NO_ANSWER] * (RACERS // 2)
    moved = _race(
        [functools.partial(store.transition, "c1", 1, end, read=placed) for end in ends],
        store.redis,
    )
    winners = [end for end, left in zip(ends, moved, strict=True) if left is ContactState.PLACED]
    assert len(winners) == 1 and moved.count(None) == RACERS - 1
    assert store.contact("c1", 1).state is winners[0]
    assert store.counts("c1") == {"pending": 2, winners[0].value: 1}


def test_a_won_claim_returns_the_contact_as_it_left_it(store: Store) -> None:
    _campaign(store)
    claim = _claim(store, 2)
    assert claim.contact == store.contact("c1", 2)
    assert claim.contact.state is ContactState.DIALING and claim.contact.phone == "+14155550002"
    assert _claim(store, 2).contact is None  # a lost claim returns nothing


def test_contacts_reads_several_in_order(store: Store) -> None:
    _campaign(store)
    first, missing, third = store.contacts("c1", [1, 9, 3])
    assert first.phone == "+14155550001" and third.phone == "+14155550003"
    assert missing is None


def test_the_send_guard_lets_limit_sends_through_per_window(store: Store) -> None:
    waits = [store.pass_send_guard("c1", _guard(3)) for _ in range(5)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert all(59.0 < w <= 60.0 for w in waits[3:])  # refused sends are not counted
    assert store.redis.llen(sends_key("c1")) == 3


def test_the_send_guard_forgets_sends_older_than_its_window(store: Store) -> None:
    key = sends_key("c1")
    assert store.pass_send_guard("c1", _guard(2)) == 0.0
    assert store.pass_send_guard("c1", _guard(2)) == 0.0
    old = (store.server_ms() - 61_000) * 1000
    store.redis.delete(key)
    store.redis.rpush(key, old, old)  # both sends were a window ago
    assert store.pass_send_guard("c1", _guard(2)) == 0.0
    assert store.pass_send_guard("c1", _guard(2)) == 0.0  # neither old send counts
    assert store.pass_send_guard("c1", _guard(2)) > 59.0
    assert store.redis.llen(key) == 2  # never more stamps than the limit


def test_a_claim_whose_slot_is_now_passes_the_send_guard_for_its_caller(store: Store) -> None:
    _campaign(store, n=4)
    sends = sends_key("c1")

    def claim(row: int, interval_s: float = 1e-6):  # type: ignore[no-untyped-def]
        pace = Pace(interval_s=interval_s, max_wait_s=10, send_limit=2)
        return store.claim("c1", row, pace=pace, max_concurrent=10, lease_s=60, stuck_s=30)

    assert claim(1).guard_passed and claim(2).guard_passed
    third = claim(3, interval_s=5)  # the guard is full: the claim still wins, and the
    assert third.won and not third.guard_passed  # caller asks the guard again later
    later = claim(4)  # its slot is 5 s ahead: the caller passes the guard then
    assert later.won and later.wait_s > 0 and not later.guard_passed
    assert store.redis.llen(sends) == 2


def test_the_send_guard_holds_under_concurrent_senders(store: Store) -> None:
    def sender() -> int:
        return sum(store.pass_send_guard("c1", _guard(7)) == 0.0 for _ in range(10))

    with ThreadPoolExecutor(4) as pool:
        passed = sum(pool.map(lambda _: sender(), range(4)))
    assert passed == 7


def test_claim_refuses_when_the_campaign_is_paused(store: Store) -> None:
    _campaign(store)
    store.set_campaign_state("c1", CampaignState.PAUSED)
    assert _claim(store, 1).reason == "not_running"


def test_a_claim_holds_its_slot_for_the_lease_and_looks_again_once_stuck(store: Store) -> None:
    _campaign(store)
    before = store.server_ms()
    assert _claim(store, 1).won  # lease_s=60, stuck_s=30
    held_until = store.redis.zscore(inflight_key("c1"), "1")
    looked_at = store.redis.zscore(watch_key("c1"), "1")
    assert held_until is not None and looked_at is not None
    assert 60_000 <= held_until - before < 61_000
    assert 30_000 <= looked_at - before < 31_000


def test_a_slot_whose_lease_lapsed_frees_the_concurrency_it_held(store: Store) -> None:
    """A worker that died mid-create holds its slot only until the lease ends: the claim counts
    the slots held now, not every member left in the set (they go with the contact's next
    transition)."""
    _campaign(store, n=2)
    assert _claim(store, 1, max_concurrent=1).won
    assert _claim(store, 2, max_concurrent=1).reason == "busy"
    store.redis.zadd(inflight_key("c1"), {"1": store.server_ms() - 1})  # its lease ended
    assert _claim(store, 2, max_concurrent=1).won


def test_claim_holds_the_concurrency_cap(store: Store) -> None:
    _campaign(store, n=3)
    assert _claim(store, 1, max_concurrent=2).won
    assert _claim(store, 2, max_concurrent=2).won
    assert _claim(store, 3, max_concurrent=2).reason == "busy"
    store.transition("c1", 1, ContactState.PLACED, lease_ms=60_000)
    store.transition("c1", 1, ContactState.COMPLETED)  # final: the slot is released
    assert _claim(store, 3, max_concurrent=2).won


def test_claim_paces_creates(store: Store) -> None:
    _campaign(store, n=2)
    assert _claim(store, 1, interval_s=10).won
    refused = _claim(store, 2, interval_s=10)
    assert refused.reason == "pace"
    assert 9.0 < refused.wait_s <= 10.0


def test_transitions_follow_the_rules(store: Store) -> None:
    _campaign(store)
    assert (
        store.transition("c1", 1, ContactState.COMPLETED) is None
    )  # pending -> completed: refused
    assert _claim(store, 1).won
    assert (
        store.transition("c1", 1, ContactState.PLACED, fields={"call_id": "x"})
        is ContactState.DIALING
    )
    assert store.transition("c1", 1, ContactState.DIALING) is None  # only a claim dials
    assert store.transition("c1", 1, ContactState.VOICEMAIL) is ContactState.PLACED
    assert store.contact("c1", 1).call_id == "x"
    assert store.counts("c1") == {"pending": 2, "voicemail": 1}


def test_pump_hands_out_due_rows_once_and_recovers_lost_ones(store: Store) -> None:
    _campaign(store, n=3)
    dial, _ = store.pump(
        "c1", max_dial=2, requeue_after_ms=60_000, max_follow=10, follow_lease_ms=1000
    )
    assert dial == [1, 2]
    again, _ = store.pump(
        "c1", max_dial=5, requeue_after_ms=60_000, max_follow=10, follow_lease_ms=1000
    )
    assert again == [3]
    lost, _ = store.pump("c1", max_dial=5, requeue_after_ms=0, max_follow=10, follow_lease_ms=1000)
    assert sorted(lost) == [1, 2, 3]  # tasks never started are handed out again


def test_pump_moves_more_contacts_than_one_batch_of_its_commands(store: Store) -> None:
    """The pump moves members a batch (1,000) per command: 2,500 due rows and 1,500 due
    follow-ups are each handed out once, none left behind."""
    ready, watch = ready_key("c1"), watch_key("c1")
    store.redis.zadd(ready, {str(row): 0 for row in range(1, 2501)})
    store.redis.zadd(watch, {str(row): 0 for row in range(3001, 4501)})
    dial, follow = store.pump(
        "c1", max_dial=3000, requeue_after_ms=60_000, max_follow=2000, follow_lease_ms=60_000
    )
    assert sorted(dial) == list(range(1, 2501)) and sorted(follow) == list(range(3001, 4501))
    assert store.redis.zcard(ready) == 0 and store.redis.zcard(queued_key("c1")) == 2500
    assert store.pump(
        "c1", max_dial=3000, requeue_after_ms=60_000, max_follow=2000, follow_lease_ms=60_000
    ) == ([], [])  # the follow-ups are leased, the dials queued
    store.pump("c1", max_dial=0, requeue_after_ms=0, max_follow=0, follow_lease_ms=0)  # lost
    assert store.redis.zcard(ready) == 2500 and store.redis.zcard(queued_key("c1")) == 0


def test_slow_down_delays_the_next_create(store: Store) -> None:
    _campaign(store)
    store.slow_down("c1", 5.0)
    refused = _claim(store, 1)
    assert refused.reason == "pace" and refused.wait_s > 4.0


def test_cancel_takes_pending_contacts_out_of_the_queue(store: Store) -> None:
    _campaign(store)
    assert store.transition("c1", 2, ContactState.CANCELED) is ContactState.PENDING
    assert store.pending_rows("c1") == [1, 3]
    assert store.redis.zscore(ready_key("c1"), "2") is None


def _listed(row: int, number: int, name: str = "") -> Contact:
    """Row `row` of a list, holding number `number` (as `_contact(number)` does)."""
    phone = f"+1415555{number:04d}"
    name = name or f"n{number}"
    return Contact(row, phone, {"phone": phone, "name": name}, {"name": name})


def _load(store: Store, contacts: list[Contact]) -> Any:
    load = store.begin_load("c1")
    loaded = store.add_contacts("c1", contacts, COLUMNS, load=load)
    loaded.removed = store.end_load("c1", load)
    return loaded


def test_a_list_loaded_again_is_matched_by_number_not_by_row(store: Store) -> None:
    _campaign(store, n=0)
    _load(store, [_listed(1, 1), _listed(2, 2), _listed(3, 3)])
    assert _claim(store, 1).won  # number 1 is being dialled
    # Edited: a row inserted at the top, number 2 renamed, number 3 deleted.
    again = _load(store, [_listed(1, 9), _listed(2, 1), _listed(3, 2, "Renamed")])
    assert (again.added, again.kept, again.updated, again.removed) == (1, 1, 1, 1)
    assert store.total("c1") == 4
    assert store.contact("c1", 1).state is ContactState.DIALING
    renamed = store.contact("c1", 2)
    assert renamed.cells == [renamed.phone, "Renamed"] and renamed.source_row == 3
    gone = store.contact("c1", 3)
    assert gone.state is ContactState.CANCELED and gone.error == "no longer in the list"
    new = store.contact("c1", 4)
    assert (new.phone, new.source_row, new.state) == ("+14155550009", 1, ContactState.PENDING)
    assert store.pending_rows("c1") == [2, 4]
    assert store.counts("c1") == {"pending": 2, "dialing": 1, "canceled": 1}


def test_a_campaign_stored_by_the_previous_version_is_indexed_by_number(store: Store) -> None:
    store.create_campaign(
        CampaignConfig(campaign_id="c1", agent_id="a", from_number="+14155550100", columns=COLUMNS)
    )
    for row in (1, 2):  # today's layout: keyed by source row, no numbers index, no load
        phone = f"+1415555{row:04d}"
        store.redis.hset(f"dialer:camp:c1:c:{row}", mapping={"state": "completed", "phone": phone})
    store.redis.hset("dialer:camp:c1", mapping={"total": 2, "last_row": 2})
    store.redis.hset("dialer:camp:c1:counts", "completed", 2)
    again = _load(store, [_listed(1, 7), _listed(2, 1), _listed(3, 2)])
    assert (again.added, again.kept, again.removed) == (1, 2, 0)
    assert store.contact("c1", 3).phone == "+14155550007", "a new member, not row 1's key"
    assert store.contact("c1", 1).source_row == 2, "the row holding its number now"
    assert store.counts("c1") == {"pending": 1, "completed": 2}
