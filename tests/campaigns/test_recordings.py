"""Fresh recording links (campaigns.recordings): expiry read from the signed link, and expired
ones fetched again from the simulator over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from campaigns.recordings import Refreshed, link_expired, link_expiry, refresh_recordings
from dialer.client import OneInboxClient
from dialer.http import make_http_client
from dialer.models import CallRequest
from dialer.simulator.config import DEFAULT_AGENT_ID, DEFAULT_API_KEY, DEFAULT_FROM_NUMBER
from dialer.simulator.server import RunningSimulator
from dialer.store import ContactRecord
from tests.support import wait_until

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("url", "expiry"),
    [
        (f"https://r.example/a.wav?expires={int(NOW.timestamp())}", NOW),
        (f"https://r.example/a.wav?Expires={int(NOW.timestamp())}&Signature=x", NOW),
        (
            "https://b.s3.amazonaws.com/a.wav?X-Amz-Date=20261207T080000Z&X-Amz-Expires=14400",
            NOW,
        ),
        ("https://r.example/a.wav", None),
        ("https://r.example/a.wav?expires=soon", None),
    ],
)
def test_the_expiry_is_read_from_the_signed_link(url: str, expiry: datetime | None) -> None:
    assert link_expiry(url) == expiry


def test_a_link_about_to_expire_or_that_cannot_tell_is_expired() -> None:
    later = int((NOW + timedelta(hours=1)).timestamp())
    assert not link_expired(f"https://r.example/a?expires={later}", NOW)
    assert link_expired(f"https://r.example/a?expires={later}", NOW + timedelta(minutes=58))
    assert link_expired("https://r.example/a", NOW)


def test_expired_links_are_fetched_again_and_unreadable_calls_keep_theirs(
    simulator: RunningSimulator,
) -> None:
    script = {"scripted": {"+14155550777": ["interested"]}}  # answered: it has a recording
    httpx.patch(f"{simulator.url}/_sim/config", json=script, timeout=5).raise_for_status()
    with make_http_client(simulator.url, DEFAULT_API_KEY, connect_timeout=2, read_timeout=2) as h:
        client = OneInboxClient(h)
        request = CallRequest(
            agent_id=DEFAULT_AGENT_ID, to_number="+14155550777", from_number=DEFAULT_FROM_NUMBER
        )
        call = client.create_call(request)
        wait_until(lambda: client.get_call(call.id).post_call_ready(), 20, "post-call data")
        old = "https://r.example/old.wav?expires=1"
        fresh_link = f"https://r.example/ok.wav?expires={int(NOW.timestamp()) + 7200}"
        contacts = [
            _contact(1, call.id, old),
            _contact(2, call.id, fresh_link),
            _contact(3, "4b7d6f0e-0000-4000-8000-000000000000", old),  # unknown to OneInbox
            _contact(4, "", ""),
        ]
        tally = Refreshed()
        out = list(refresh_recordings(contacts, client.get_call, NOW, tally))
    renewed = out[0].recording_url
    assert renewed.startswith("https://") and renewed != old and link_expiry(renewed) is not None
    assert [c.recording_url for c in out[1:]] == [fresh_link, old, ""]
    assert (tally.fetched, tally.failed) == (1, 1) and "4b7d6f0e" in tally.last_error


def _contact(row: int, call_id: str, link: str) -> ContactRecord:
    fields = {"state": "voicemail", "phone": "+14155550777", "call_id": call_id}
    return ContactRecord.from_redis(row, fields | {"recording_url": link})
