"""The courier posts each due event signed per Standard Webhooks (verified here with the
`standardwebhooks` package), keeps a failed one due with a backoff, and refuses a URL that is
not https. Real redis-server and real HTTP."""

from __future__ import annotations

import httpx
import pytest
import redis

from dialer.errors import ConfigError
from dialer.store.outbox import Outbox
from tests.events_receiver import Received, receiving
from workers.courier import EventTiming, backoff_ms, deliver
from workers.processes import free_port

TIMING = EventTiming(timeout_s=2, retry_s=0.5, retry_max_s=4)


def _outbox(redis_url: str) -> Outbox:
    return Outbox(redis.Redis.from_url(redis_url, decode_responses=True))


def _send(outbox: Outbox) -> int:
    from standardwebhooks.webhooks import Webhook

    with httpx.Client(timeout=TIMING.timeout_s) as http:
        return deliver(outbox, http, Webhook(outbox.secret()), TIMING)


def test_every_event_arrives_signed_and_is_then_delivered(redis_url: str) -> None:
    outbox = _outbox(redis_url)
    received = Received(secret=outbox.secret())
    with receiving(received, free_port()) as url:
        for n in range(3):
            outbox.record(f"msg_{n}", "contact.finished", "c", url, f'{{"n": {n}}}')
        assert _send(outbox) == 3
    assert received.forged == 0
    assert sorted(received.ids()) == ["msg_0", "msg_1", "msg_2"]
    assert {e.status for e in outbox.recent(10)} == {"delivered"}
    assert outbox.due_count() == 0


def test_a_receiver_with_another_secret_rejects_every_event(redis_url: str) -> None:
    outbox = _outbox(redis_url)
    other = Outbox(redis.Redis.from_url(redis_url, decode_responses=True))
    received = Received(secret="whsec_" + "QUJD" * 8)  # not ours
    with receiving(received, free_port()) as url:
        other.record("msg_1", "contact.finished", "c", url, "{}")
        assert _send(outbox) == 0
    assert (received.forged, received.events) == (1, [])


def test_a_failed_event_stays_due_after_a_backoff(redis_url: str) -> None:
    outbox = _outbox(redis_url)
    received = Received(secret=outbox.secret(), status=503)
    with receiving(received, free_port()) as url:
        outbox.record("msg_1", "campaign.started", "c", url, "{}")
        assert _send(outbox) == 0
        assert _send(outbox) == 0, "not due again before its backoff"
    [event] = outbox.recent(1)
    assert (event.status, event.attempts) == ("pending", 1)
    assert event.last_error.startswith("HTTP 503")
    assert len(received.events) == 1


def test_a_receiver_that_is_down_costs_an_attempt_not_the_event(redis_url: str) -> None:
    outbox = _outbox(redis_url)
    outbox.record("msg_1", "campaign.started", "c", f"http://127.0.0.1:{free_port()}/", "{}")
    assert _send(outbox) == 0
    [event] = outbox.recent(1)
    assert (event.status, event.attempts) == ("pending", 1)
    assert "ConnectError" in event.last_error


def test_an_event_to_a_plain_http_address_elsewhere_is_never_posted(redis_url: str) -> None:
    outbox = _outbox(redis_url)
    outbox.record("msg_1", "campaign.started", "c", "http://crm.example.com/hook", "{}")
    assert _send(outbox) == 0
    [event] = outbox.recent(1)
    assert "must be https" in event.last_error


def test_backoff_doubles_up_to_its_ceiling_and_gives_up_when_told() -> None:
    timing = EventTiming(retry_s=1, retry_max_s=5, give_up=4)
    assert [backoff_ms(n, timing) for n in (1, 2, 3)] == [1000, 2000, 4000]
    assert backoff_ms(3, EventTiming(retry_s=1, retry_max_s=3)) == 3000
    assert backoff_ms(4, timing) is None
    assert backoff_ms(10_000, EventTiming()) == 600_000, "never given up by default"


def test_event_timing_names_a_bad_setting() -> None:
    assert EventTiming.parse("retry_s=0.2, timeout_s=1") == EventTiming(retry_s=0.2, timeout_s=1)
    with pytest.raises(ConfigError, match="unknown setting 'retries'"):
        EventTiming.parse("retries=3")
    with pytest.raises(ConfigError, match="needs a number"):
        EventTiming.parse("retry_s=soon")
