"""Logs: one line per contact transition with its campaign, row and call id; text or JSON;
never the API key, whatever produced the line."""

from __future__ import annotations

import io
import json
import logging

import fakeredis

from campaigns.model import Contact
from dialer.campaign import CampaignConfig, CampaignState
from dialer.pace import Pace
from dialer.store import ContactState, Store
from workers.logs import configure

KEY = "oi_sk_live_abcdef123456"


def _store() -> Store:
    store = Store(fakeredis.FakeRedis(decode_responses=True))
    store.create_campaign(
        CampaignConfig(campaign_id="L", agent_id="a", from_number="+14155550100", columns=("p",))
    )
    store.add_contacts("L", [Contact(1, "+14155550107", {"p": "+14155550107"})], ("p",))
    store.set_campaign_state("L", CampaignState.RUNNING)
    return store


def _lines(fmt: str) -> list[str]:
    out = io.StringIO()
    # `dialer run` in-process (CliRunner, in other tests) quiets the store's logger for good.
    logging.getLogger("dialer.store").setLevel(logging.NOTSET)
    # The store knows a contact by its member (issue 21): the first number loaded is member 1.
    handler = configure(fmt, secrets=[KEY], stream=out)
    try:
        store = _store()
        store.claim("L", 1, pace=Pace(interval_s=1e-6), max_concurrent=5, lease_s=1, stuck_s=1)
        store.transition("L", 1, ContactState.PLACED, fields={"call_id": "call-9"})
        store.transition("L", 1, ContactState.FAILED, fields={"error": f"echoed Bearer {KEY}"})
        logging.getLogger("dialer.other").warning("the key is %s", KEY)
    finally:
        logging.getLogger().removeHandler(handler)
    return out.getvalue().splitlines()


def test_json_lines_name_campaign_row_and_call() -> None:
    events = [json.loads(line) for line in _lines("json")]
    moves = [(e["from_state"], e["to_state"]) for e in events if e["event"] == "transition"]
    assert moves == [("pending", "dialing"), ("dialing", "placed"), ("placed", "failed")]
    placed = next(e for e in events if e.get("to_state") == "placed")
    assert (placed["campaign"], placed["row"], placed["call_id"]) == ("L", 1, "call-9")


def test_the_key_never_reaches_a_log_line() -> None:
    for fmt in ("json", "text"):
        text = "\n".join(_lines(fmt))
        assert KEY not in text
        assert "[redacted]" in text


def test_text_lines_carry_the_fields() -> None:
    [first, *_] = _lines("text")
    assert "transition" in first and "campaign=L" in first and "row=1" in first


def test_a_value_from_outside_cannot_forge_a_text_line() -> None:
    out = io.StringIO()
    handler = configure("text", stream=out)
    forged = "call_1\n2026-11-25T10:00:00Z INFO dialer.store transition to_state=completed"
    try:
        logging.getLogger("dialer.webhooks").info("webhook", extra={"call_id": forged})
        logging.getLogger("dialer.webhooks").info("got %s\r\nfake", "x", extra={"event": "a b=c"})
    finally:
        logging.getLogger().removeHandler(handler)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert "\\n2026-11-25T10:00:00Z" in lines[0] and 'call_id="call_1\\n' in lines[0]
    assert "got x\\r\\nfake" in lines[1] and 'event="a b=c"' in lines[1]
