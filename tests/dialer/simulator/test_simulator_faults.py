"""Simulator fault injection, the daily cap, usage, stats, admin API and the side resources."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from dialer.simulator import (
    DEFAULT_AGENT_ID,
    DEFAULT_API_KEY,
    DEFAULT_FROM_NUMBER,
    SimulatorConfig,
    parse_fault_spec,
    start_in_thread,
)
from dialer.simulator.routes_calls import calls_made_today
from dialer.simulator.store import SimState

AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with (
        start_in_thread(SimulatorConfig(speed=100.0, seed=3)) as sim,
        httpx.Client(base_url=sim.url, headers=AUTH, timeout=5) as http,
    ):
        yield http


def body(to: str = "+14155550001", **extra: Any) -> dict[str, Any]:
    return {
        "agent_id": DEFAULT_AGENT_ID,
        "to_number": to,
        "from_number": DEFAULT_FROM_NUMBER,
        **extra,
    }


def fault(client: httpx.Client, **rule: Any) -> None:
    assert client.post("/_sim/faults", json=rule).status_code == 201


def outcomes(client: httpx.Client) -> list[str]:
    return [c["outcome"] for c in client.get("/_sim/creates").json()]


def test_rate_limit_refuses_the_next_n_creates_with_retry_after(client: httpx.Client) -> None:
    fault(client, kind="rate_limit", count=2, retry_after=2)
    first = client.post("/v1/calls", json=body(metadata={"attempt": "a"}))
    assert first.status_code == 429 and first.headers["Retry-After"] == "2"
    assert client.post("/v1/calls", json=body()).status_code == 429
    assert client.post("/v1/calls", json=body()).status_code == 201
    assert outcomes(client) == ["refused_429", "refused_429", "created"]
    assert client.get("/v1/calls").json()["total"] == 1
    log = client.get("/_sim/creates").json()
    assert log[0]["metadata"] == {"attempt": "a"} and log[0]["call_id"] is None
    assert isinstance(log[0]["t"], float)


def test_5xx_on_create_creates_nothing(client: httpx.Client) -> None:
    fault(client, kind="error", count=1)
    assert client.post("/v1/calls", json=body()).status_code == 503
    assert client.get("/v1/calls").json()["total"] == 0
    assert outcomes(client) == ["refused_5xx"]


def test_ambiguous_create_makes_the_call_but_answers_5xx(client: httpx.Client) -> None:
    fault(client, kind="ambiguous", count=1)
    r = client.post("/v1/calls", json=body(metadata={"attempt": "x"}))
    assert r.status_code == 504
    [call] = client.get("/v1/calls").json()["items"]
    assert call["metadata"] == {"attempt": "x"}
    [attempt] = client.get("/_sim/creates").json()
    assert (attempt["outcome"], attempt["call_id"]) == ("ambiguous_5xx", call["id"])


def test_timeout_create_makes_the_call_and_answers_too_late(client: httpx.Client) -> None:
    fault(client, kind="timeout", count=1, delay=0.6)
    with pytest.raises(httpx.ReadTimeout):
        client.post("/v1/calls", json=body(), timeout=0.2)
    assert client.get("/v1/calls").json()["total"] == 1
    assert outcomes(client) == ["ambiguous_timeout"]


def test_late_create_makes_the_call_only_after_the_client_gave_up(client: httpx.Client) -> None:
    fault(client, kind="late", count=1, delay=1.0)
    sent = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        client.post("/v1/calls", json=body(metadata={"dialer_attempt_id": "c:1:1"}), timeout=0.2)
    assert client.get("/v1/calls").json()["total"] == 0  # not yet, though the client gave up
    while client.get("/v1/calls").json()["total"] == 0:
        assert time.monotonic() - sent < 10, "the late call never appeared"
        time.sleep(0.05)
    assert time.monotonic() - sent >= 1.0
    [call] = client.get("/v1/calls").json()["items"]
    assert call["metadata"] == {"dialer_attempt_id": "c:1:1"}
    assert outcomes(client) == ["created_late"]
    assert client.post("/v1/calls", json=body()).status_code == 201  # the next is on time


def test_a_late_create_is_answered_when_the_client_waits(client: httpx.Client) -> None:
    fault(client, kind="late", count=1, delay=0.3)
    answer = client.post("/v1/calls", json=body(), timeout=5)
    assert answer.status_code == 201
    assert client.get("/v1/calls").json()["items"][0]["id"] == answer.json()["id"]


def test_get_and_list_failures(client: httpx.Client) -> None:
    call_id = client.post("/v1/calls", json=body()).json()["id"]
    fault(client, kind="error", endpoint="get", count=1, status=500)
    fault(client, kind="error", endpoint="list", count=1)
    assert client.get(f"/v1/calls/{call_id}").status_code == 500
    assert client.get(f"/v1/calls/{call_id}").status_code == 200
    assert client.get("/v1/calls").status_code == 503
    assert client.get("/v1/calls/cursor").status_code == 200


def test_slow_responses_delay_any_route(client: httpx.Client) -> None:
    fault(client, kind="slow", endpoint="*", count=1, delay=0.3)
    began = time.monotonic()
    assert client.get("/v1/usage").status_code == 200
    assert time.monotonic() - began >= 0.3


def test_probabilistic_faults_are_reproducible_with_a_seed() -> None:
    def pattern() -> list[int]:
        rule = parse_fault_spec("error:get:p=0.5")
        with start_in_thread(SimulatorConfig(seed=11, faults=[rule])) as sim:
            url = f"{sim.url}/v1/calls/{uuid.uuid4()}"
            return [httpx.get(url, headers=AUTH).status_code for _ in range(12)]

    first = pattern()
    assert first == pattern() and set(first) == {404, 503}


def test_faults_listing_removal_and_reset(client: httpx.Client) -> None:
    fault(client, kind="error", count=5)
    [rule] = client.get("/_sim/faults").json()
    assert rule["remaining"] == 5
    assert client.delete(f"/_sim/faults/{rule['id']}").status_code == 200
    assert client.post("/v1/calls", json=body()).status_code == 201
    fault(client, kind="error")
    assert client.post("/_sim/reset").status_code == 200
    assert client.get("/_sim/faults").json() == []
    assert client.get("/v1/calls").json()["total"] == 0 and outcomes(client) == []


def test_daily_cap_refuses_without_creating_and_usage_reports_it(client: httpx.Client) -> None:
    client.patch("/_sim/config", json={"max_calls_per_day": 2})
    assert [client.post("/v1/calls", json=body()).status_code for _ in range(2)] == [201, 201]
    r = client.post("/v1/calls", json=body())
    assert r.status_code == 402 and r.json()["detail"].startswith("Daily call limit reached")
    assert client.get("/v1/calls").json()["total"] == 2
    usage = client.get("/v1/usage").json()
    assert usage["calls_made_today"] == 2 and usage["calls_remaining_today"] == 0
    assert set(usage) == {
        "calls_made_today",
        "max_calls_per_day",
        "calls_remaining_today",
        "calls_this_month",
        "minutes_used_this_month",
        "cost_cents_this_month",
        "kb_token_budget",
        "period_start",
    }
    client.patch("/_sim/config", json={"daily_cap_status": 429})
    assert client.post("/v1/calls", json=body()).status_code == 429
    assert outcomes(client)[-2:] == ["refused_daily_cap", "refused_daily_cap"]


def test_the_daily_count_starts_again_at_midnight_utc() -> None:
    now = [86_400.0 * 20_417 - 10]  # 2025-11-24 23:59:50 UTC
    sim = SimState(SimulatorConfig(), clock=lambda: now[0])
    sim.log_create("+14155550001", {}, "created", "a")
    sim.log_create("+14155550001", {}, "refused_5xx")  # nothing created: not counted
    assert calls_made_today(sim, now[0]) == 1
    now[0] += 20  # 00:00:10 the next day
    sim.log_create("+14155550001", {}, "created", "b")
    assert calls_made_today(sim, now[0]) == 1
    sim.reset()
    assert calls_made_today(sim, now[0]) == 0


def test_stats_report_exact_max_active(client: httpx.Client) -> None:
    client.patch("/_sim/config", json={"scripted": {"+14155550001": ["never_ends"]}})
    ids = [client.post("/v1/calls", json=body()).json()["id"] for _ in range(3)]
    client.post(f"/v1/calls/{ids[0]}/stop")
    client.post("/v1/calls", json=body())
    for call_id in ids[1:]:
        client.delete(f"/v1/calls/{call_id}")
    stats = client.get("/_sim/stats").json()
    assert (stats["max_active"], stats["active"], stats["calls"]) == (3, 1, 2)
    assert stats["create_outcomes"] == {"created": 4}


def test_agents(client: httpx.Client) -> None:
    listing = client.get("/v1/agents").json()
    assert [a["id"] for a in listing["items"]] == [DEFAULT_AGENT_ID] and listing["total"] == 1
    made = client.post("/v1/agents", json={"name": "Sales", "language": "fr"})
    assert made.status_code == 201 and made.json()["language"] == "fr"
    assert client.get(f"/v1/agents/{made.json()['id']}").json()["name"] == "Sales"
    assert client.get(f"/v1/agents/{uuid.uuid4()}").status_code == 404
    assert client.post("/v1/agents", json={}).status_code == 422


def test_phone_numbers_register_search_and_purchase(client: httpx.Client) -> None:
    reg = {
        "phone_number": "+14155557777",
        "provider": "telnyx",
        "agent_id": DEFAULT_AGENT_ID,
        "provider_config": {
            "trunk_address": "sip.example.com",
            "auth_username": "u",
            "auth_password": "p",
        },
    }
    assert client.post("/v1/phone-numbers", json={**reg, "provider": "vonage"}).status_code == 422
    assert (
        client.post("/v1/phone-numbers", json={**reg, "provider_config": None}).status_code == 422
    )
    made = client.post("/v1/phone-numbers", json=reg)
    assert made.status_code == 201 and made.json()["status"] == "active"
    assert client.post("/v1/phone-numbers", json=reg).status_code == 409
    assert client.post("/v1/calls", json=body(from_number="+14155557777")).status_code == 201
    assert client.get("/v1/phone-numbers").json()["total"] == 2
    found = client.get("/v1/phone-numbers/search?area_code=212&contains=0042&limit=3").json()
    assert (
        found == client.get("/v1/phone-numbers/search?area_code=212&contains=0042&limit=3").json()
    )
    assert found["items"][0]["phone_number"].startswith("+1212")
    assert "0042" in found["items"][0]["phone_number"]
    bought = client.post("/v1/phone-numbers/purchase", json={"area_code": "212"})
    assert bought.status_code == 201
    assert bought.json()["phone_number"] not in [
        i["phone_number"]
        for i in client.get("/v1/phone-numbers/search?area_code=212").json()["items"]
    ]


def test_credentials_never_return_the_raw_key(client: httpx.Client) -> None:
    made = client.post(
        "/v1/credentials",
        json={"name": "tw", "provider": "twilio", "api_key": "sk_live_abcdefgh1234"},
    )
    assert made.status_code == 201 and set(made.json()) == {"id", "name", "provider", "created_at"}
    got = client.get(f"/v1/integrations/{made.json()['id']}").json()
    assert got["masked_key"] == "sk_...1234" and "abcdefgh" not in str(got)
    assert client.get("/v1/credentials").json()["total"] == 1
    reg = {
        "phone_number": "+14155557778",
        "provider": "twilio",
        "agent_id": DEFAULT_AGENT_ID,
        "credential_id": made.json()["id"],
    }
    assert client.post("/v1/phone-numbers", json=reg).status_code == 201


def test_a_create_is_received_when_it_arrives_not_when_a_delay_lets_it_through(
    client: httpx.Client,
) -> None:
    fault(client, kind="slow", endpoint="create", count=1, delay=0.3)
    before = time.time()
    assert client.post("/v1/calls", json=body()).status_code == 201
    (logged,) = client.get("/_sim/creates").json()
    assert before <= logged["received"] <= logged["t"] - 0.3
