"""The simulator over real HTTP: lifecycle, validation, auth, pagination, faults, caps, admin."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from dialer.simulator import (
    DEFAULT_AGENT_ID,
    DEFAULT_API_KEY,
    DEFAULT_FROM_NUMBER,
    SimulatorConfig,
    start_in_thread,
)

AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
Start = Callable[..., httpx.Client]


@pytest.fixture
def start() -> Iterator[Start]:
    """Start a simulator with the given config fields; return an authenticated client on it."""
    stack: list[Any] = []

    def _start(**fields: Any) -> httpx.Client:
        fields.setdefault("speed", 100.0)
        sim = start_in_thread(SimulatorConfig(**fields))
        client = httpx.Client(base_url=sim.url, headers=AUTH, timeout=5)
        stack.extend([sim, client])
        return client

    yield _start
    for item in reversed(stack):
        item.close() if isinstance(item, httpx.Client) else item.stop()


def body(to: str = "+14155550001", **extra: Any) -> dict[str, Any]:
    return {
        "agent_id": DEFAULT_AGENT_ID,
        "to_number": to,
        "from_number": DEFAULT_FROM_NUMBER,
        **extra,
    }


def wait_for(read: Callable[[], Any], until: Callable[[Any], bool], timeout: float = 5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if until(value) or time.monotonic() > deadline:
            assert until(value), value
            return value
        time.sleep(0.01)


def seen_statuses(client: httpx.Client, call_id: str) -> tuple[list[str], dict[str, Any]]:
    seen: list[str] = []

    def read() -> dict[str, Any]:
        call: dict[str, Any] = client.get(f"/v1/calls/{call_id}").json()
        if not seen or seen[-1] != call["status"]:
            seen.append(call["status"])
        return call

    return seen, wait_for(read, lambda c: c["ai_summary"] is not None)


def test_create_returns_the_full_call_response(start: Start) -> None:
    client = start()
    r = client.post("/v1/calls", json=body(metadata={"attempt": "a1"}, variables={"x": "y"}))
    assert r.status_code == 201
    call = r.json()
    assert uuid.UUID(call["id"]) and call["agent_id"] == DEFAULT_AGENT_ID
    assert (call["type"], call["direction"], call["status"]) == (
        "outbound",
        "outbound",
        "initiated",
    )
    assert call["metadata"] == {"attempt": "a1"} and call["variables"] == {"x": "y"}
    for field in (
        "started_at",
        "ended_at",
        "duration_seconds",
        "end_reason",
        "transcript",
        "recording_url",
        "room_name",
        "scheduled_at",
        "outcome",
        "ai_summary",
    ):
        assert call[field] is None
    assert call["messages"] == [] and call["analysis"] == {"outcome": None, "summary": None}


def test_completed_call_reaches_every_status_then_post_call_fields(start: Start) -> None:
    client = start(speed=40.0, scripted={"+14155550001": ["completed"]})
    call_id = client.post("/v1/calls", json=body()).json()["id"]
    seen, call = seen_statuses(client, call_id)
    assert seen[:2] == ["initiated", "in_progress"] and "completed" in seen
    assert call["outcome"] == "Interested" and call["messages"] and call["transcript"]
    assert 20 <= call["duration_seconds"] <= 120 and call["credits_used"] > 0
    assert call["started_at"] < call["ended_at"]


def test_post_call_fields_lag_the_terminal_status(start: Start) -> None:
    # A post-call lag of 0.5-0.6 s (10-12 s at speed 20): long enough for a poll on a busy machine.
    client = start(
        speed=20.0, post_call_delay=(10.0, 12.0), scripted={"+14155550001": ["no_answer"]}
    )
    call_id = client.post("/v1/calls", json=body()).json()["id"]
    done = wait_for(
        lambda: client.get(f"/v1/calls/{call_id}").json(),
        lambda c: c["status"] == "completed",
        timeout=5,
    )
    assert done["outcome"] is None and done["end_reason"] == "no_answer"
    final = wait_for(
        lambda: client.get(f"/v1/calls/{call_id}").json(),
        lambda c: c["outcome"] is not None,
        timeout=3,
    )
    assert final["outcome"] == "Not Connected" and final["duration_seconds"] == 0
    assert final["started_at"] is None


@pytest.mark.parametrize(
    ("script", "status", "outcome"),
    [("voicemail", "completed", "Voicemail"), ("failed", "failed", None)],
)
def test_voicemail_and_failed_calls(
    start: Start, script: str, status: str, outcome: str | None
) -> None:
    client = start(speed=200.0, scripted={"+14155550001": [script]})
    call_id = client.post("/v1/calls", json=body()).json()["id"]
    call = wait_for(
        lambda: client.get(f"/v1/calls/{call_id}").json(), lambda c: c["ai_summary"] is not None
    )
    assert (call["status"], call["outcome"]) == (status, outcome)


def test_scheduled_call_is_queued(start: Start) -> None:
    client = start()
    call = client.post("/v1/calls", json=body(scheduled_at="2099-01-01T00:00:00Z")).json()
    assert call["status"] == "queued" and call["scheduled_at"] == "2099-01-01T00:00:00Z"


def test_stop_ends_a_live_call_and_is_a_noop_on_a_final_one(start: Start) -> None:
    client = start(scripted={"+14155550001": ["never_ends"]})
    call_id = client.post("/v1/calls", json=body()).json()["id"]
    wait_for(
        lambda: client.get(f"/v1/calls/{call_id}").json()["status"], lambda s: s == "in_progress"
    )
    stopped = client.post(f"/v1/calls/{call_id}/stop").json()
    assert (stopped["status"], stopped["end_reason"]) == ("completed", "api_stop")
    again = client.post(f"/v1/calls/{call_id}/stop").json()
    assert again["ended_at"] == stopped["ended_at"]


def test_delete_forgets_the_call(start: Start) -> None:
    client = start()
    call_id = client.post("/v1/calls", json=body()).json()["id"]
    assert client.delete(f"/v1/calls/{call_id}").status_code == 200
    assert client.get(f"/v1/calls/{call_id}").status_code == 404


def test_validation_errors_have_the_fastapi_shape(start: Start) -> None:
    client = start()
    r = client.post("/v1/calls", json=body(to="4155550001"))
    assert r.status_code == 422
    [err] = r.json()["detail"]
    assert err["loc"] == ["body", "to_number"] and err["type"] == "string_pattern_mismatch"
    assert err["input"] == "4155550001" and err["ctx"] == {"pattern": r"^\+[1-9]\d{1,14}$"}
    assert set(err) >= {"loc", "msg", "type", "input", "ctx"}
    missing = client.post("/v1/calls", json={"to_number": "+14155550001"}).json()["detail"]
    assert {tuple(e["loc"]) for e in missing} == {("body", "agent_id"), ("body", "from_number")}
    bad_id = client.get("/v1/calls/not-a-uuid").json()["detail"][0]
    assert bad_id["loc"] == ["path", "call_id"] and bad_id["type"] == "uuid_parsing"
    for query in ("limit=0", "limit=101", "offset=-1"):
        assert client.get(f"/v1/calls?{query}").status_code == 422


def test_auth_is_required_on_every_v1_route(start: Start) -> None:
    client = start()
    for path in ("/v1/calls", "/v1/usage", "/v1/agents", "/v1/phone-numbers"):
        r = httpx.get(client.base_url.join(path))
        assert r.status_code == 401 and isinstance(r.json()["detail"], str)
        bad = httpx.get(client.base_url.join(path), headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401
    assert httpx.post(client.base_url.join("/v1/calls"), json={}).status_code == 401


def test_not_found_for_unknown_agent_call_and_from_number(start: Start) -> None:
    client = start()
    other = str(uuid.uuid4())
    assert client.post("/v1/calls", json=body(agent_id=other)).status_code == 404
    assert client.post("/v1/calls", json=body(from_number="+14155559999")).status_code == 404
    assert client.get(f"/v1/calls/{other}").json() == {"detail": f"Call {other} not found"}
    assert client.post(f"/v1/calls/{other}/stop").status_code == 404
    outcomes = [c["outcome"] for c in client.get("/_sim/creates").json()]
    assert outcomes == ["refused_404", "refused_404"]


def test_blocked_country_is_refused_with_400(start: Start) -> None:
    client = start(blocked_countries=["IN"])
    r = client.post("/v1/calls", json=body(to="+919876543210"))
    assert r.status_code == 400 and "International calling to IN" in r.json()["detail"]
    assert client.post("/v1/calls", json=body()).status_code == 201


def test_offset_and_cursor_pages_cover_every_call_once(start: Start) -> None:
    client = start()
    ids = [client.post("/v1/calls", json=body(f"+1415555{i:04d}")).json()["id"] for i in range(7)]
    pages = [client.get(f"/v1/calls?limit=3&offset={o}").json() for o in (0, 3, 6)]
    assert all(p["total"] == 7 for p in pages)
    assert [c["id"] for p in pages for c in p["items"]] == ids[::-1]
    got, cursor = [], None
    while True:
        page = client.get(
            "/v1/calls/cursor", params={"limit": 3, "cursor": cursor} if cursor else {"limit": 3}
        ).json()
        got += [c["id"] for c in page["items"]]
        if cursor is None:  # a call created mid-walk must not shift the pages
            client.post("/v1/calls", json=body("+14155558888"))
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        cursor = page["next_cursor"]
    assert got == ids[::-1]
    assert client.get("/v1/calls/cursor?cursor=garbage").status_code == 400


def test_list_filters_by_agent_and_status(start: Start) -> None:
    client = start(scripted={"+14155550001": ["never_ends"]})
    client.post("/v1/calls", json=body(scheduled_at="2099-01-01T00:00:00Z"))
    assert client.get("/v1/calls?status=queued").json()["total"] == 1
    assert client.get("/v1/calls?status=completed").json()["total"] == 0
    assert client.get(f"/v1/calls?agent_id={uuid.uuid4()}").json()["total"] == 0


def test_same_seed_gives_the_same_outcomes(start: Start) -> None:
    def outcomes(seed: int) -> list[tuple[Any, ...]]:
        client = start(seed=seed, speed=1000.0)
        ids = [
            client.post("/v1/calls", json=body(f"+1415555{i % 3:04d}")).json()["id"]
            for i in range(6)
        ]
        calls = [
            wait_for(
                lambda i=i: client.get(f"/v1/calls/{i}").json(),
                lambda c: c["ai_summary"] is not None,
            )
            for i in ids
        ]
        return [(c["status"], c["outcome"], c["duration_seconds"]) for c in calls]

    assert outcomes(5) == outcomes(5)
