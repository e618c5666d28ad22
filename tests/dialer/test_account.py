"""Account limits: every campaign of one OneInbox account shares its rate, its concurrency and
its send guard, in the same claim as the campaign's own (real redis-server and fakeredis)."""

from __future__ import annotations

from collections.abc import Iterator

import fakeredis
import pytest
import redis
from pydantic import SecretStr

from campaigns.model import Contact
from dialer.account import AccountLimits, NumberRules, fingerprint
from dialer.campaign import CampaignConfig, CampaignState
from dialer.pace import Pace
from dialer.settings import Settings
from dialer.store import ContactState, Store

COLUMNS = ("phone",)


@pytest.fixture(params=["real", "fake"])
def store(request: pytest.FixtureRequest, redis_url: str) -> Iterator[Store]:
    if request.param == "real":
        client = redis.Redis.from_url(redis_url, decode_responses=True)
    else:
        client = fakeredis.FakeRedis(decode_responses=True)
    yield Store(client)


def _campaign(store: Store, cid: str, account: str = "acme", n: int = 3) -> str:
    config = CampaignConfig(
        campaign_id=cid, agent_id="a", from_number="+14155550100", columns=COLUMNS, account=account
    )
    store.create_campaign(config)
    contacts = [Contact(r, f"+1415555{r:04d}", {"phone": ""}) for r in range(1, n + 1)]
    store.add_contacts(cid, contacts, COLUMNS)
    store.set_campaign_state(cid, CampaignState.RUNNING)
    return cid


def _claim(store: Store, cid: str, row: int, pace: Pace | None = None, **kw: AccountLimits):  # type: ignore[no-untyped-def]
    pace = pace or Pace(interval_s=1e-6)
    return store.claim(cid, row, pace=pace, max_concurrent=10, lease_s=60, stuck_s=30, **kw)


def test_two_campaigns_of_one_account_share_its_concurrency(store: Store) -> None:
    _campaign(store, "c1")
    _campaign(store, "c2")
    store.set_limits("acme", AccountLimits(max_concurrent=2))
    assert _claim(store, "c1", 1).won
    assert _claim(store, "c2", 1).won
    refused = _claim(store, "c1", 2)
    assert refused.reason == "account_busy" and refused.wait_s > 0
    assert store.account_hold("c1") == "account_busy"
    store.transition("c2", 1, ContactState.PLACED, lease_ms=60_000)
    assert _claim(store, "c1", 2).reason == "account_busy"  # placed: the slot is still held
    store.transition("c2", 1, ContactState.COMPLETED)  # final: the account's slot is released
    assert _claim(store, "c1", 2).won
    assert store.account_inflight("acme") == 2


def test_another_account_is_not_held_by_its_limits(store: Store) -> None:
    _campaign(store, "c1")
    _campaign(store, "c2", account="other")
    store.set_limits("acme", AccountLimits(max_concurrent=1))
    assert _claim(store, "c1", 1).won
    assert _claim(store, "c2", 1).won
    assert _claim(store, "c2", 2).won


def test_the_accounts_pace_books_slots_for_all_its_campaigns(store: Store) -> None:
    _campaign(store, "c1")
    _campaign(store, "c2")
    store.set_limits("acme", AccountLimits(rate_per_s=0.1))  # a slot every ~10 s
    assert _claim(store, "c1", 1).won
    refused = _claim(store, "c2", 1)
    assert refused.reason == "account_pace"
    assert 9.0 < refused.wait_s <= 10.1
    assert store.account_hold("c2") == "account_pace"


def test_the_slot_is_the_later_of_the_campaigns_and_the_accounts(store: Store) -> None:
    _campaign(store, "c1")
    _campaign(store, "c2")
    store.set_limits("acme", AccountLimits(rate_per_s=4))  # ~0.25 s apart
    ahead = Pace(interval_s=1e-6, max_wait_s=1.0)
    first, second = _claim(store, "c1", 1, ahead), _claim(store, "c2", 1, ahead)
    assert first.won and second.won
    assert 0.2 < second.wait_s - first.wait_s <= 0.26
    assert 0.2 < store.pace_backlog_s("c2") <= 0.51  # booked on the campaign's schedule too


def test_the_accounts_send_guard_holds_for_all_its_campaigns(store: Store) -> None:
    _campaign(store, "c1")
    _campaign(store, "c2")
    store.set_limits("acme", AccountLimits(rate_per_s=2))  # 2 sends in any second
    guard = Pace(interval_s=1e-6, send_limit=100, guard_window_s=60)
    assert store.pass_send_guard("c1", guard) == 0
    assert store.pass_send_guard("c2", guard) == 0
    assert store.pass_send_guard("c1", guard) > 0
    assert store.pass_send_guard("c2", guard) > 0


def test_a_429_slows_every_campaign_of_the_account(store: Store) -> None:
    _campaign(store, "c1")
    _campaign(store, "c2")
    store.set_limits("acme", AccountLimits(rate_per_s=100))
    store.slow_down("c1", 5.0)
    refused = _claim(store, "c2", 1)
    assert refused.reason == "account_pace" and refused.wait_s > 4.0


def test_deployment_defaults_apply_until_limits_are_set_in_redis(store: Store) -> None:
    _campaign(store, "c1")
    defaults = AccountLimits(max_concurrent=1)
    assert _claim(store, "c1", 1, account_defaults=defaults).won
    assert _claim(store, "c1", 2, account_defaults=defaults).reason == "account_busy"
    store.set_limits("acme", AccountLimits(max_concurrent=5))
    assert _claim(store, "c1", 2, account_defaults=defaults).won
    store.clear_limits("acme")
    assert store.limits("acme") == AccountLimits()
    assert _claim(store, "c1", 3, account_defaults=defaults).reason == "account_busy"


def test_limits_round_trip_and_describe_themselves(store: Store) -> None:
    store.set_limits("acme", AccountLimits(rate_per_s=5, max_concurrent=20))
    assert store.limits("acme") == AccountLimits(5.0, 20)
    assert store.limits("acme").describe() == "5/s, 20 at once"
    assert AccountLimits().describe() == "none"


def test_the_account_is_named_by_dialer_account_or_a_print_of_the_key() -> None:
    key = "oi_sk_secret_value"
    by_key = Settings(api_key=SecretStr(key))
    assert by_key.account_name() == fingerprint(key)
    assert key not in by_key.account_name() and len(fingerprint(key)) == len("key-") + 12
    assert Settings(api_key=SecretStr(key), account="acme").account_name() == "acme"
    defaults = Settings(account_rate="5/s", account_max_concurrent=20).account_defaults()
    assert defaults == AccountLimits(5.0, 20)


def test_a_number_on_the_do_not_call_list_is_suppressed_when_its_turn_comes(store: Store) -> None:
    _campaign(store, "c1")
    _campaign(store, "c2", account="other")
    assert store.dnc_add("acme", ["+14155550002"], reason="asked on the phone") == 1
    refused = _claim(store, "c1", 2)
    assert refused.reason == "suppressed"
    contact = store.contact("c1", 2)
    assert contact is not None and contact.state is ContactState.SUPPRESSED
    assert contact.error == "on the do-not-call list: asked on the phone"
    assert store.counts("c1") == {"pending": 2, "suppressed": 1}
    assert store.pending_rows("c1") == [1, 3]
    assert _claim(store, "c2", 2).won  # another account's list is its own


def test_the_do_not_call_list_keeps_when_and_why_and_can_be_undone(store: Store) -> None:
    assert store.dnc_add("acme", ["+14155550002", "+14155550003"], reason="first") == 2
    assert store.dnc_add("acme", ["+14155550002"], reason="again") == 0
    entry = store.dnc_check("acme", "+14155550002")
    assert entry is not None and entry.reason == "first"
    assert store.dnc_size("acme") == 2
    assert {e.number for e in store.dnc_entries("acme")} == {"+14155550002", "+14155550003"}
    assert store.dnc_remove("acme", ["+14155550002", "+19999999999"]) == 1
    assert store.dnc_check("acme", "+14155550002") is None
    _campaign(store, "c1")
    assert _claim(store, "c1", 2).won  # off the list again: dialled


def _number_claim(store: Store, cid: str, row: int, rules: NumberRules):  # type: ignore[no-untyped-def]
    contact = store.contact(cid, row)
    assert contact is not None
    pace = Pace(interval_s=1e-6)
    return store.claim(
        cid,
        row,
        pace=pace,
        max_concurrent=10,
        lease_s=60,
        stuck_s=30,
        number=contact.phone,
        rules=rules,
    )


def test_a_number_another_campaign_just_called_waits_out_the_gap(store: Store) -> None:
    _campaign(store, "first")
    _campaign(store, "second")
    gap = NumberRules(min_gap_s=1800)
    assert _number_claim(store, "first", 1, gap).won
    held = _number_claim(store, "second", 1, gap)
    assert held.reason == "gap" and 1799 < held.wait_s <= 1800
    assert held.waiting.startswith("held by the re-call gap: called by campaign first at ")
    assert "next at" in held.waiting
    assert _number_claim(store, "second", 2, gap).won  # another number: no wait
    assert _number_claim(store, "second", 1, NumberRules(min_gap_s=0)).won  # --min-gap 0


def test_a_campaigns_own_calls_are_not_held_by_the_gap(store: Store) -> None:
    _campaign(store, "first")
    gap = NumberRules(min_gap_s=1800)
    assert _number_claim(store, "first", 1, gap).won
    store.transition("first", 1, ContactState.PENDING, ready_in_ms=0)  # its own retry
    assert _number_claim(store, "first", 1, gap).won


def test_a_number_gets_its_days_calls_from_all_campaigns_then_waits(store: Store) -> None:
    for cid in ("a", "b", "c", "d"):
        _campaign(store, cid)
    florida = NumberRules(calls_per_day=3)
    for cid in ("a", "b", "c"):
        assert _number_claim(store, cid, 1, florida).won
    held = _number_claim(store, "d", 1, florida)
    assert held.reason == "daily_limit" and 86_399 < held.wait_s <= 86_400
    assert "next allowed" in held.waiting


def test_a_number_forgets_calls_a_day_old_and_the_ledger_drops_them(store: Store) -> None:
    """The ledger is read whole in one command: calls older than 24 hours neither count toward
    the day's limit nor hold the gap, and are dropped from it; a newer call still holds."""
    from dialer.store.keys import ledger_key

    for cid in ("a", "b"):
        _campaign(store, cid)
    contact = store.contact("b", 1)
    assert contact is not None
    key, now = ledger_key("acme", contact.phone), store.server_ms()
    day = 86_400_000
    store.redis.zadd(key, {f"a|1|{n}": now - day - n for n in range(1, 4)})  # a day and more ago
    rules = NumberRules(min_gap_s=1800, calls_per_day=3)
    assert _number_claim(store, "b", 1, rules).won
    assert [m.split("|")[0] for m in store.redis.zrange(key, 0, -1)] == ["b"]  # the old gone
    store.redis.zadd(key, {"a|1|9": now - day + 60_000})  # 23 h 59 min ago: still counts
    store.transition("b", 1, ContactState.PENDING, ready_in_ms=0)
    held = _number_claim(store, "b", 1, NumberRules(calls_per_day=2))
    assert held.reason == "daily_limit" and 59 < held.wait_s <= 60


def test_us_states_rules_allow_three_calls_a_day_in_florida_and_oklahoma() -> None:
    from campaigns.when import CallingPolicy

    ruled = CampaignConfig(campaign_id="c", agent_id="a", from_number="+1", rules="us-states")
    plain = ruled.model_copy(update={"rules": ""})
    policy = CallingPolicy()
    assert policy.calls_per_day(ruled, "+13055550100") == 3  # Miami
    assert policy.calls_per_day(ruled, "+14055550100") == 3  # Oklahoma City
    assert policy.calls_per_day(ruled, "+14155550100") == 0  # San Francisco
    assert policy.calls_per_day(plain, "+13055550100") == 0
