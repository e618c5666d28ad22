"""The outbox: an event is recorded once, leased while it is posted, due again after a failure,
kept after delivery, resent by replay; and the secret is shown once. Real redis-server."""

from __future__ import annotations

import redis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from dialer.store.outbox import Outbox, Seen

HOUR_MS = 3600 * 1000


def _outbox(url: str) -> Outbox:
    return Outbox(redis.Redis.from_url(url, decode_responses=True))


def test_an_event_is_recorded_once_and_taken_once_while_leased(redis_url: str) -> None:
    outbox = _outbox(redis_url)
    assert outbox.record("msg_1", "contact.finished", "c", "http://127.0.0.1:9/", '{"a": 1}')
    assert not outbox.record("msg_1", "contact.finished", "c", "http://127.0.0.1:9/", "{}")
    [event] = outbox.take(HOUR_MS, 10)
    assert (event.id, event.body, event.status) == ("msg_1", '{"a": 1}', "pending")
    assert outbox.take(HOUR_MS, 10) == [], "a leased event is not taken twice"
    assert outbox.due_count() == 1, "it is still owed until delivered"


def test_a_lease_that_ends_makes_the_event_due_again(redis_url: str) -> None:
    outbox = _outbox(redis_url)
    outbox.record("msg_1", "campaign.started", "c", "http://127.0.0.1:9/", "{}")
    assert outbox.take(0, 1), "taken with a lease of 0 ms (a courier that died at once)"
    [again] = outbox.take(HOUR_MS, 1)
    assert again.id == "msg_1"


def test_delivered_events_are_kept_and_failed_ones_retried(redis_url: str) -> None:
    outbox = _outbox(redis_url)
    for n in (1, 2):
        outbox.record(f"msg_{n}", "contact.finished", "c", "http://127.0.0.1:9/", "{}")
    first, second = outbox.take(HOUR_MS, 2)
    outbox.delivered(first.id)
    outbox.retry_later(second.id, "HTTP 503", 0)
    [retried] = outbox.take(HOUR_MS, 2)
    assert (retried.id, retried.attempts, retried.last_error) == (second.id, 1, "HTTP 503")
    statuses = {e.id: (e.status, e.attempts) for e in outbox.recent(10)}
    assert statuses == {first.id: ("delivered", 1), second.id: ("pending", 1)}


def test_a_campaign_event_is_recorded_only_from_the_state_it_was_derived_from(
    redis_url: str,
) -> None:
    outbox = _outbox(redis_url)
    before = outbox.seen("c")
    assert outbox.record_campaign("msg_a", "campaign.started", "c", "u", "{}", seen=before)
    assert outbox.seen("c") == Seen(state="started", seq=1, finals=-1)
    assert not outbox.record_campaign("msg_b", "campaign.paused", "c", "u", "{}", seen=before)
    assert [e.id for e in outbox.recent(10)] == ["msg_a"]


def test_the_secret_is_shown_once_and_rotation_makes_a_new_one(redis_url: str) -> None:
    outbox = _outbox(redis_url)
    signing = outbox.secret()  # a worker needs it before anyone asked to see it
    shown = outbox.reveal_secret()
    assert shown == signing and shown.startswith("whsec_")
    assert outbox.reveal_secret() is None
    rotated = outbox.reveal_secret(rotate=True)
    assert rotated is not None and rotated != shown
    assert outbox.secret() == rotated


class OutboxModel(RuleBasedStateMachine):
    """The outbox against a plain model: per event, delivered or owed; taken ones not handed
    out again until delivered, failed or replayed."""

    def __init__(self) -> None:
        super().__init__()
        client = redis.Redis.from_url(OutboxModel.url, decode_responses=True)
        client.flushall()
        self.outbox = Outbox(client)
        self.owed: set[str] = set()
        self.taken: set[str] = set()
        self.delivered: set[str] = set()

    ids = Bundle("ids")

    @rule(target=ids, n=st.integers(0, 5))
    def record(self, n: int) -> str:
        event_id = f"msg_{n}"
        new = self.outbox.record(event_id, "contact.finished", "c", "http://127.0.0.1:9/", "{}")
        known = event_id in self.owed | self.delivered
        assert new is not known
        if not known:
            self.owed.add(event_id)
        return event_id

    @rule()
    def take(self) -> None:
        got = {e.id for e in self.outbox.take(HOUR_MS, 10)}
        assert got == self.owed - self.taken
        self.taken |= got

    @rule(event_id=ids, ok=st.booleans())
    def answer(self, event_id: str, ok: bool) -> None:
        if event_id not in self.taken:
            return
        self.taken.discard(event_id)
        if ok:
            self.outbox.delivered(event_id)
            self.owed.discard(event_id)
            self.delivered.add(event_id)
        else:
            self.outbox.retry_later(event_id, "HTTP 500", 0)

    @rule(event_id=ids)
    def replay(self, event_id: str) -> None:
        assert self.outbox.replay([event_id]) == [event_id]
        self.taken.discard(event_id)
        self.delivered.discard(event_id)
        self.owed.add(event_id)

    @invariant()
    def owed_is_due(self) -> None:
        assert self.outbox.due_count() == len(self.owed)
        statuses = {e.id: e.status for e in self.outbox.recent(100)}
        assert {i for i, s in statuses.items() if s == "delivered"} == self.delivered


def test_the_outbox_agrees_with_a_plain_model(redis_url: str) -> None:
    OutboxModel.url = redis_url  # type: ignore[attr-defined]
    run = OutboxModel.TestCase
    run.settings = settings(
        max_examples=30,
        stateful_step_count=20,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    run().runTest()


def test_an_event_no_longer_kept_is_no_longer_due(redis_url: str) -> None:
    outbox = _outbox(redis_url)
    outbox.record("msg_1", "campaign.started", "c", "http://127.0.0.1:9/", "{}")
    outbox.redis.delete("dialer:events:e:msg_1")  # as its expiry, a week on, would
    assert outbox.take(HOUR_MS, 10) == []
    assert outbox.due_count() == 0
