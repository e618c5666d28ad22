"""Placing and following calls (dialer.calls) against the simulator over real HTTP and a real
Redis, without Celery: every create outcome of the API, and what the contact ends as."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from campaigns.model import Contact
from dialer.calls import Dispatcher, place, place_many
from dialer.campaign import CampaignConfig, CampaignState
from dialer.client import OneInboxClient
from dialer.following import follow_up
from dialer.http import OneInboxHttp, make_http_client
from dialer.pace import GUARD_WINDOW_S, Pace
from dialer.policy import Timing
from dialer.simulator.config import DEFAULT_AGENT_ID, DEFAULT_API_KEY, DEFAULT_FROM_NUMBER
from dialer.simulator.server import RunningSimulator
from dialer.store import ContactState, Store, contact_key
from dialer.store.contact import HASH_FIELDS
from dialer.store.keys import attempt_key, ready_key, sends_key
from dialer.tick import Enqueue, tick
from tests.support import scripts_held, sim_get, wait_until

COLUMNS = ("phone", "name")
FAST = Timing(
    lease_s=30,
    stuck_s=0.5,
    requeue_s=5,
    follow_lease_s=5,
    reconcile_grace_s=0.6,
    reconcile_limit_s=3,
    post_call_wait_s=2,
    poll_scale=0.05,
)
UNPACED = Pace(interval_s=1e-6)  # a claim is never refused for pace


def _contact(row: int) -> Contact:
    phone = f"+1415555{row + 200:04d}"
    return Contact(row, phone, {"phone": phone, "name": f"name {row}"}, {"name": f"name {row}"})


@pytest.fixture
def dispatcher(redis_url: str, simulator: RunningSimulator) -> Iterator[Dispatcher]:
    http = make_http_client(simulator.url, DEFAULT_API_KEY, connect_timeout=2, read_timeout=1)
    d = Dispatcher(Store.from_url(redis_url), OneInboxClient(http), FAST)
    yield d
    http.close()
    d.store.redis.close()


def _start(d: Dispatcher, n: int = 1, **kw: Any) -> str:
    kw.setdefault("rate_per_s", 100)
    config = CampaignConfig(
        campaign_id="t",
        agent_id=DEFAULT_AGENT_ID,
        from_number=DEFAULT_FROM_NUMBER,
        columns=COLUMNS,
        variable_columns=("name",),
        **kw,
    )
    d.store.create_campaign(config)
    d.store.add_contacts("t", [_contact(r) for r in range(1, n + 1)], COLUMNS)
    d.store.set_campaign_state("t", CampaignState.RUNNING)
    return "t"


def _inline(d: Dispatcher, work: Callable[[Dispatcher, str, int], None]) -> Enqueue:
    """A task run at once, in this thread, for each row it is given."""

    def run(cid: str, rows: list[int]) -> None:
        for row in rows:
            work(d, cid, row)

    return run


def _drive(d: Dispatcher, cid: str, timeout: float = 20) -> None:
    """Run the tick and its tasks inline until the campaign is no longer running."""

    def step() -> bool:
        tick(d.store, _inline(d, place), _inline(d, follow_up), d.timing)
        return d.store.campaign_state(cid) is not CampaignState.RUNNING

    wait_until(step, timeout, "the campaign to finish", every=0.02)


def _fault(sim: RunningSimulator, spec: dict[str, Any]) -> None:
    httpx.post(f"{sim.url}/_sim/faults", json=spec, timeout=5).raise_for_status()


def _created(sim: RunningSimulator) -> list[dict[str, Any]]:
    return [c for c in sim_get(sim.url, "creates") if c["call_id"]]  # type: ignore[union-attr]


def test_a_contact_is_dialled_with_its_variables_and_followed_to_the_end(
    dispatcher: Dispatcher, simulator: RunningSimulator
) -> None:
    cid = _start(dispatcher)
    _drive(dispatcher, cid)
    contact = dispatcher.store.contact(cid, 1)
    assert contact.state in {"completed", "voicemail", "no_answer", "failed"}
    [create] = _created(simulator)
    assert create["metadata"]["dialer_attempt_id"] == "t:1:1"
    call = dispatcher.client.get_call(contact.call_id)
    assert call.variables == {"name": "name 1"}
    assert contact.call_status == call.status
    assert contact.summary == (call.summary_text() or "")


def test_429_is_not_an_attempt_and_slows_the_campaign(
    dispatcher: Dispatcher, simulator: RunningSimulator
) -> None:
    _fault(simulator, {"kind": "rate_limit", "count": 2, "retry_after": 0.3})
    cid = _start(dispatcher)
    _drive(dispatcher, cid)
    outcomes = [c["outcome"] for c in sim_get(simulator.url, "creates")]  # type: ignore[union-attr]
    assert outcomes == ["refused_429", "refused_429", "created"]
    assert len(_created(simulator)) == 1


@pytest.mark.parametrize("kind", ["ambiguous", "timeout"])
def test_an_uncertain_create_that_landed_is_found_not_sent_again(
    dispatcher: Dispatcher, simulator: RunningSimulator, kind: str
) -> None:
    _fault(simulator, {"kind": kind, "count": 1, "delay": 2.0})
    cid = _start(dispatcher)
    _drive(dispatcher, cid)
    assert len(_created(simulator)) == 1
    contact = dispatcher.store.contact(cid, 1)
    assert contact.call_id == _created(simulator)[0]["call_id"]
    assert contact.state in {"completed", "voicemail", "no_answer", "failed"}


def test_a_5xx_that_created_nothing_is_dialled_again_after_the_grace_period(
    dispatcher: Dispatcher, simulator: RunningSimulator
) -> None:
    _fault(simulator, {"kind": "error", "count": 1, "status": 502})
    cid = _start(dispatcher)
    _drive(dispatcher, cid)
    outcomes = [c["outcome"] for c in sim_get(simulator.url, "creates")]  # type: ignore[union-attr]
    assert outcomes == ["refused_5xx", "created"]
    assert dispatcher.store.contact(cid, 1).state is not ContactState.UNKNOWN


def test_reconciliation_that_cannot_finish_ends_unknown_and_is_not_redialled(
    dispatcher: Dispatcher, simulator: RunningSimulator
) -> None:
    _fault(simulator, {"kind": "ambiguous", "count": 1})
    _fault(simulator, {"kind": "error", "endpoint": "list"})
    cid = _start(dispatcher)
    _drive(dispatcher, cid)
    contact = dispatcher.store.contact(cid, 1)
    assert contact.state is ContactState.UNKNOWN
    assert "not dialled again" in contact.error
    assert len(_created(simulator)) == 1


def test_a_refused_create_is_an_error_with_the_providers_message(
    dispatcher: Dispatcher, simulator: RunningSimulator
) -> None:
    httpx.patch(
        f"{simulator.url}/_sim/config", json={"blocked_countries": ["US"]}
    ).raise_for_status()
    cid = _start(dispatcher)
    _drive(dispatcher, cid)
    contact = dispatcher.store.contact(cid, 1)
    assert contact.state is ContactState.ERROR
    assert "carrier" in contact.error.lower()


def test_a_bad_key_stops_the_campaign_before_anyone_else_is_dialled(
    redis_url: str, simulator: RunningSimulator
) -> None:
    http = make_http_client(simulator.url, "oi_sk_wrong", connect_timeout=2, read_timeout=2)
    d = Dispatcher(Store.from_url(redis_url), OneInboxClient(http), FAST)
    cid = _start(d, n=5)
    _drive(d, cid)
    assert d.store.campaign_state(cid) is CampaignState.PAUSED
    assert "API key" in d.store.campaign_reason(cid)
    assert d.store.counts(cid) == {"pending": 5}
    http.close()
    d.store.redis.close()


def test_failing_gets_are_polled_again_until_the_call_is_final(
    dispatcher: Dispatcher, simulator: RunningSimulator
) -> None:
    _fault(simulator, {"kind": "error", "endpoint": "get", "count": 3})
    cid = _start(dispatcher)
    _drive(dispatcher, cid)
    assert dispatcher.store.contact(cid, 1).state in {
        "completed",
        "voicemail",
        "no_answer",
        "failed",
    }


def test_a_create_whose_worker_died_is_reconciled_not_resent(
    dispatcher: Dispatcher, simulator: RunningSimulator
) -> None:
    cid = _start(dispatcher)
    config = dispatcher.store.campaign(cid)
    assert dispatcher.store.claim(
        cid, 1, pace=UNPACED, max_concurrent=10, lease_s=30, stuck_s=0.5
    ).won
    from dialer.calls import build_request

    # The worker sent the create, then died before recording the answer.
    dispatcher.client.create_call(build_request(config, dispatcher.store.contact(cid, 1), send=1))
    _drive(dispatcher, cid)
    assert len(_created(simulator)) == 1
    assert dispatcher.store.contact(cid, 1).call_id == _created(simulator)[0]["call_id"]


def test_duplicate_deliveries_of_a_dial_task_racing_place_one_call(
    dispatcher: Dispatcher, simulator: RunningSimulator
) -> None:
    """Eight deliveries of one dial task each read the contact as pending, then their claims
    reach Redis together (held there until all eight wait): one call is placed."""
    cid = _start(dispatcher, n=2)
    place(dispatcher, cid, 2)  # the scripts are loaded: each racer claims on its first try
    racers = [threading.Thread(target=place, args=(dispatcher, cid, 1)) for _ in range(8)]
    with scripts_held(dispatcher.store.redis, expect=8):
        for racer in racers:
            racer.start()
    for racer in racers:
        racer.join()
    attempts = [c["metadata"]["dialer_attempt_id"] for c in _created(simulator)]
    assert sorted(attempts) == ["t:1:1", "t:2:1"]
    assert dispatcher.store.contact(cid, 1).state is ContactState.PLACED


def test_a_call_that_never_ends_is_marked_unknown_at_its_hard_limit(
    dispatcher: Dispatcher, simulator: RunningSimulator
) -> None:
    phone = _contact(1).phone_e164
    httpx.patch(f"{simulator.url}/_sim/config", json={"scripted": {phone: ["never_ends"]}})
    dispatcher.timing = Timing(**{**FAST.__dict__, "lease_s": 0.5})
    cid = _start(dispatcher, max_call_s=1.0)
    _drive(dispatcher, cid)
    contact = dispatcher.store.contact(cid, 1)
    assert contact.state is ContactState.UNKNOWN
    assert "did not end" in contact.error


def test_a_create_waits_while_the_send_guard_is_full(
    dispatcher: Dispatcher, simulator: RunningSimulator
) -> None:
    cid = _start(dispatcher, n=2)  # 100/s: the guard lets 100 creates through per second
    sends = sends_key(cid)
    now_us = dispatcher.store.server_ms() * 1000
    dispatcher.store.redis.rpush(sends, *[now_us] * 100)  # 100 creates just went out
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # time passes: those 100 leave the window
        if dispatcher.store.redis.llen(sends) >= 100:  # not a (short) wait for a send slot
            waits.append(seconds)
            dispatcher.store.redis.delete(sends)

    dispatcher.sleep = sleep
    place_many(dispatcher, cid, [1, 2])
    # the first waited until those 100 left the guard's window; the second did not
    assert len(waits) == 1 and 0 < waits[0] <= GUARD_WINDOW_S
    assert len(_created(simulator)) == 2
    assert dispatcher.store.redis.llen(sends) == 2


def test_the_create_is_built_from_the_claim_not_from_an_older_read(
    dispatcher: Dispatcher, simulator: RunningSimulator
) -> None:
    cid = _start(dispatcher)
    stale = dispatcher.store.contact(cid, 1)
    fresh = json.dumps([stale.phone, "Fresh"])  # the list loaded again renamed the contact
    dispatcher.store.redis.hset(contact_key(cid, 1), "row", fresh)
    place(dispatcher, cid, 1, stale)
    [create] = _created(simulator)
    assert dispatcher.client.get_call(create["call_id"]).variables == {"name": "Fresh"}


def test_a_claim_for_a_contact_whose_number_is_not_the_one_asked_is_refused(
    dispatcher: Dispatcher, simulator: RunningSimulator
) -> None:
    cid = _start(dispatcher)
    stale = dispatcher.store.contact(cid, 1)
    dispatcher.store.redis.hset(contact_key(cid, 1), "phone", "+14155550999")
    place(dispatcher, cid, 1, stale)
    assert _created(simulator) == []
    assert dispatcher.store.redis.exists("dialer:acct:default:called:+14155550999") == 0


def test_the_tick_gives_each_dial_its_own_task_up_to_64_a_tick(
    dispatcher: Dispatcher,
) -> None:
    # A task sends its rows one after the other: a slow create would hold up the rest.
    _start(dispatcher, n=70, rate_per_s=1000, max_concurrent=1000)
    tasks: list[list[int]] = []
    tick(dispatcher.store, lambda _, rows: tasks.append(rows), lambda *_: None, dispatcher.timing)
    assert len(tasks) <= 64 and {len(rows) for rows in tasks} == {2}  # 70 rows: 35 pairs
    assert sorted(r for rows in tasks for r in rows) == list(range(1, 71))
    dispatcher.store.redis.flushdb()
    _start(dispatcher, n=40, rate_per_s=1000, max_concurrent=1000)
    tasks.clear()
    tick(dispatcher.store, lambda _, rows: tasks.append(rows), lambda *_: None, dispatcher.timing)
    assert [len(rows) for rows in tasks] == [1] * 40


def test_a_late_follow_up_of_an_earlier_attempt_cannot_undo_the_next(
    dispatcher: Dispatcher, simulator: RunningSimulator
) -> None:
    """A poll that read attempt 1, then waited (a slow GET, a redelivered task) while another
    poll ended attempt 1 and attempt 2 was placed, must not end or re-dial attempt 2."""
    from campaigns.when import CallingPolicy
    from dialer.following import poll, reconcile

    dispatcher.when = CallingPolicy()  # retries, as the workers have them
    phone = _contact(1).phone_e164
    scripted = {"scripted": {phone: ["no_answer", "never_ends"]}}
    httpx.patch(f"{simulator.url}/_sim/config", json=scripted).raise_for_status()
    cid = _start(
        dispatcher, max_attempts=3, retry_on="no_answer", retry_delays="1s", window="always"
    )
    config = dispatcher.store.campaign(cid)
    place(dispatcher, cid, 1)
    late = dispatcher.store.contact(cid, 1)  # attempt 1, placed: what the late poll read

    def attempt_two_placed() -> bool:
        follow_up(dispatcher, cid, 1)
        place(dispatcher, cid, 1)
        now = dispatcher.store.contact(cid, 1)
        return now.attempt == 2 and now.state is ContactState.PLACED

    wait_until(attempt_two_placed, 10, "attempt 2 to be placed", every=0.05)
    second = dispatcher.store.contact(cid, 1)
    assert second.call_id != late.call_id
    poll(dispatcher, config, late)  # attempt 1's call has ended: no answer
    reconciling = replace(late, state=ContactState.RECONCILING, sent_at=late.placed_at)
    reconcile(dispatcher, config, reconciling)
    now = dispatcher.store.contact(cid, 1)
    assert (now.state, now.attempt, now.call_id) == ("placed", 2, second.call_id)
    assert len(_created(simulator)) == 2


def test_a_transition_from_what_was_read_is_refused_once_the_contact_moved_on(
    dispatcher: Dispatcher,
) -> None:
    cid = _start(dispatcher)
    store = dispatcher.store
    read = store.contact(cid, 1)
    assert store.claim(cid, 1, pace=UNPACED, max_concurrent=10, lease_s=30, stuck_s=0.5).won
    assert store.transition(cid, 1, ContactState.PENDING, read=read) is None  # no longer pending
    dialing = store.contact(cid, 1)
    assert store.transition(cid, 1, ContactState.PLACED, read=replace(dialing, attempt=2)) is None
    assert store.transition(cid, 1, ContactState.PLACED, read=dialing) is ContactState.DIALING


def test_a_contact_loaded_inside_its_window_is_not_dialled_after_the_window_closed(
    dispatcher: Dispatcher, simulator: RunningSimulator
) -> None:
    """Loaded at 20:59 inside an 08:00-21:00 window, due at once; a dial task that runs at 21:00
    (a busy queue, a slow tick) must not call: the contact waits for the next morning."""
    from campaigns.when import CallingPolicy, add_schedule

    loaded = datetime(2026, 1, 5, 20, 59, tzinfo=UTC)  # a Monday, in the recipients' zone (UTC)
    config = CampaignConfig(
        campaign_id="t",
        agent_id=DEFAULT_AGENT_ID,
        from_number=DEFAULT_FROM_NUMBER,
        columns=COLUMNS,
        rate_per_s=100,
        window="08:00-21:00",
    )
    store = dispatcher.store
    store.create_campaign(config)
    contacts = [dataclasses.replace(_contact(r), timezone="UTC") for r in (1, 2)]
    store.add_contacts("t", contacts, COLUMNS, add_schedule(config, loaded))
    store.set_campaign_state("t", CampaignState.RUNNING)
    assert [store.contact("t", r).waiting for r in (1, 2)] == ["", ""]  # due now

    dispatcher.when = CallingPolicy()
    dispatcher.now = lambda: loaded + timedelta(seconds=59.9)  # still inside: dialled
    place(dispatcher, "t", 1)
    dispatcher.now = lambda: loaded + timedelta(minutes=1)  # 21:00: the window has closed
    place(dispatcher, "t", 2)

    assert [c["to_number"] for c in _created(simulator)] == [_contact(1).phone_e164]
    waiting = store.contact("t", 2)
    assert waiting.state is ContactState.PENDING
    assert waiting.due_at == datetime(2026, 1, 6, 8, tzinfo=UTC)
    assert waiting.waiting.startswith("waiting:") and "opens Tue 08:00" in waiting.waiting
    due_ms = store.redis.zscore(ready_key("t"), "2")
    assert due_ms is not None and due_ms > store.server_ms() + 10 * 3600 * 1000  # 11 h away


def test_a_retried_contact_keeps_its_attempts_in_fields_the_record_reads(
    dispatcher: Dispatcher, simulator: RunningSimulator
) -> None:
    """A field the record did not know would be dropped from archived attempts and results."""
    from campaigns.when import CallingPolicy

    dispatcher.when = CallingPolicy()
    phone = _contact(1).phone_e164
    scripted = {"scripted": {phone: ["no_answer", "completed"]}}
    httpx.patch(f"{simulator.url}/_sim/config", json=scripted).raise_for_status()
    cid = _start(
        dispatcher, max_attempts=2, retry_on="no_answer", retry_delays="1s", window="always"
    )
    _drive(dispatcher, cid)
    store = dispatcher.store
    for stored in (contact_key(cid, 1), attempt_key(cid, 1, 1)):
        assert set(store.redis.hkeys(stored)) <= set(HASH_FIELDS)
    now = store.contact(cid, 1)
    [first] = store.attempts(cid, 1, now.attempt)
    assert (now.state, now.attempt, now.last_status) == ("completed", 2, "no_answer")
    assert (first.state, first.attempt) == ("no_answer", 1)
    assert first.call_id and first.call_id != now.call_id and first.placed_at < now.placed_at


def test_a_worker_takes_a_resumed_campaigns_new_settings_within_a_second(
    dispatcher: Dispatcher,
) -> None:
    cid = _start(dispatcher, max_concurrent=3)
    clock = [100.0]
    d = replace(dispatcher, clock=lambda: clock[0])
    assert d.campaign(cid).max_concurrent == 3
    d.store.reconfigure(d.store.campaign(cid).model_copy(update={"max_concurrent": 1}))
    clock[0] += 0.5
    assert d.campaign(cid).max_concurrent == 3, "read at most once a second"
    clock[0] += 0.6
    assert d.campaign(cid).max_concurrent == 1


class _Recording(OneInboxClient):
    """The real client, noting when a create is built and when it is sent."""

    def __init__(self, http: OneInboxHttp, events: list[str]) -> None:
        super().__init__(http)
        self.events = events

    def prepare_create(self, req: Any) -> httpx.Request:
        self.events.append("build")
        return super().prepare_create(req)

    def send_create(self, request: httpx.Request) -> Any:
        self.events.append("send")
        return super().send_create(request)


def test_a_create_is_built_before_it_waits_for_its_slot(
    dispatcher: Dispatcher, simulator: RunningSimulator
) -> None:
    """After its slot and the send guard, a create only goes out: building it (about 0.4 ms of
    Python) after the guard let creates bunch when the interpreter was busy."""
    events: list[str] = []
    dispatcher.client = _Recording(dispatcher.client._http, events)
    dispatcher.sleep = lambda seconds: events.append("wait")
    cid = _start(dispatcher, n=2, rate_per_s=10)  # the second's slot is 0.1 s after the first's
    place_many(dispatcher, cid, [1, 2])
    assert events == ["build", "send", "build", "wait", "send"]
    assert len(_created(simulator)) == 2
