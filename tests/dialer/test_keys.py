"""Key names: the layout existing state relies on, and the KEYS each Lua script is given."""

from __future__ import annotations

import re
from importlib.resources import files

import pytest

from dialer.store import keys
from dialer.store.keys import SCRIPT_KEYS, script_keys

LUA = files("dialer.store").joinpath("lua")


def test_the_key_layout_is_what_stored_state_was_written_with() -> None:
    assert keys.campaign_key("c1") == "dialer:camp:c1"
    assert keys.counts_key("c1") == "dialer:camp:c1:counts"
    assert keys.ready_key("c1") == "dialer:camp:c1:ready"
    assert keys.queued_key("c1") == "dialer:camp:c1:queued"
    assert keys.inflight_key("c1") == "dialer:camp:c1:inflight"
    assert keys.watch_key("c1") == "dialer:camp:c1:watch"
    assert keys.pace_key("c1") == "dialer:camp:c1"  # the claim reads `tat` with the state
    assert keys.sends_key("c1") == "dialer:camp:c1:sends"
    assert keys.creates_key("c1") == "dialer:camp:c1:creates"
    assert keys.contact_key("c1", 7) == "dialer:camp:c1:c:7"
    assert keys.attempt_key("c1", 7, 2) == "dialer:camp:c1:c:7:a:2"
    assert keys.call_key("abc") == "dialer:call:abc"
    assert keys.account_limits_key("acme") == "dialer:acct:acme:limits"
    assert keys.account_campaigns_key("acme") == "dialer:acct:acme:campaigns"
    assert keys.occurrence_key("job@2026") == "dialer:occurrence:job@2026"
    assert (keys.ACTIVE, keys.TICK_LEASE, keys.BEAT_LEASE) == (
        "dialer:active",
        "dialer:tick",
        "dialer:beat",
    )
    assert (keys.SCHEDULES, keys.SCHEDULE_RUNS) == ("dialer:schedules", "dialer:schedule-runs")
    assert (keys.SCHEDULE_ERRORS, keys.BEAT_SEEN) == ("dialer:schedule-errors", "dialer:beat-seen")


def _declared_keys(script: str) -> list[str]:
    """The key names a script's `-- KEYS:` header gives, by position: `1 contact hash, 2 ...`
    (a variadic tail such as `4.. contact hashes` is left out)."""
    header = re.search(
        r"^-- KEYS:(.*?)^-- ARGV:", LUA.joinpath(f"{script}.lua").read_text(), re.M | re.S
    )
    assert header, f"{script}.lua has no '-- KEYS:' header followed by '-- ARGV:'"
    entries = re.findall(r"(\d+)(\.\.)?\s+(\w+)", header.group(1))
    fixed = [(int(n), name) for n, tail, name in entries if not tail]
    assert [n for n, _ in fixed] == list(range(1, len(fixed) + 1)), f"{script}.lua: KEYS gaps"
    return [name for _, name in fixed]


@pytest.mark.parametrize("script", sorted(SCRIPT_KEYS))
def test_each_script_is_given_its_keys_in_the_order_its_header_declares(script: str) -> None:
    assert list(SCRIPT_KEYS[script]) == _declared_keys(script)


def test_every_script_that_takes_keys_has_its_list() -> None:
    with_keys = {
        p.name.removesuffix(".lua")
        for p in LUA.iterdir()
        if p.name.endswith(".lua") and "-- KEYS:" in p.read_text()
    }
    assert with_keys == set(SCRIPT_KEYS)


def test_script_keys_names_the_keys_of_one_campaign_and_contact() -> None:
    assert script_keys("transition", "c1", 7, "acme") == [
        "dialer:camp:c1:c:7",
        "dialer:camp:c1:counts",
        "dialer:camp:c1:ready",
        "dialer:camp:c1:queued",
        "dialer:camp:c1:inflight",
        "dialer:camp:c1:watch",
        "dialer:acct:acme:inflight",
    ]


def test_the_claim_is_given_the_campaigns_keys_then_its_accounts() -> None:
    assert script_keys("claim", "c1", 7, "acme", "+14155550100") == [
        "dialer:camp:c1:c:7",
        "dialer:camp:c1:counts",
        "dialer:camp:c1",
        "dialer:camp:c1:ready",
        "dialer:camp:c1:queued",
        "dialer:camp:c1:inflight",
        "dialer:camp:c1:watch",
        "dialer:camp:c1",
        "dialer:camp:c1:sends",
        "dialer:camp:c1:held",
        "dialer:acct:acme:limits",
        "dialer:acct:acme:pace",
        "dialer:acct:acme:inflight",
        "dialer:acct:acme:sends",
        "dialer:acct:acme:dnc",
        "dialer:acct:acme:called:+14155550100",
    ]
    assert script_keys("send", "c1", account="acme") == [
        "dialer:camp:c1:sends",
        "dialer:acct:acme:limits",
        "dialer:acct:acme:sends",
    ]
