"""The webhook receiver: an event brings the call's next read forward, and does nothing else;
without the campaign's secret, or with a body too large, it does nothing at all."""

from __future__ import annotations

import contextlib
import logging
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from campaigns import lifecycle
from campaigns.model import Contact
from dialer.campaign import CampaignConfig, CampaignState
from dialer.pace import Pace
from dialer.simulator.config import DEFAULT_AGENT_ID, DEFAULT_FROM_NUMBER
from dialer.simulator.server import RunningSimulator
from dialer.store import ContactState, Store
from dialer.store.keys import watch_key
from tests.support import (
    WORKER_TIMING,
    Stack,
    dialer_env,
    dialer_exe,
    serve_in_thread,
    sim_get,
    wait_until,
)
from workers.processes import free_port
from workers.server.receiver import create_app

CALL = "call_1"
HOOK = "http://127.0.0.1:1/webhooks/oneinbox"


def _placed_store(url: str, cid: str = "w", call_id: str = CALL) -> Store:
    store = Store(redis.Redis.from_url(url, decode_responses=True))
    store.create_campaign(
        CampaignConfig(
            campaign_id=cid,
            agent_id="agent",
            from_number="+14155550100",
            columns=("phone",),
            webhook_url=HOOK,
        )
    )
    store.add_contacts(cid, [Contact(1, "+14155550123", {"phone": "+14155550123"})], ("phone",))
    store.set_campaign_state(cid, CampaignState.RUNNING)
    store.claim(cid, 1, pace=Pace(interval_s=1e-6), max_concurrent=5, lease_s=60, stuck_s=60)
    store.transition(cid, 1, ContactState.PLACED, lease_ms=60_000, watch_in_ms=600_000)
    store.index_call(call_id, cid, 1)
    return store


def _path(store: Store, cid: str = "w") -> str:
    """The path of the campaign's webhook URL, as OneInbox is given it."""
    target = store.campaign(cid).webhook_target
    assert target is not None and target.startswith(HOOK + "/")
    return httpx.URL(target).path


def _watch(store: Store, cid: str = "w") -> float | None:
    return store.redis.zscore(watch_key(cid), "1")


def test_an_event_makes_the_call_due_now(redis_url: str) -> None:
    store = _placed_store(redis_url)
    before = _watch(store)
    with serve_in_thread(create_app(store)) as url, httpx.Client(base_url=url) as client:
        answer = client.post(_path(store), json={"event": "call.ended", "call_id": CALL})
    assert answer.status_code == 204
    after = _watch(store)
    assert after is not None and before is not None and after < before
    assert store.contact("w", 1).state == "placed"  # the event itself decides nothing


def test_each_campaign_gets_its_own_random_secret_kept_on_resume(redis_url: str) -> None:
    store = _placed_store(redis_url)
    _placed_store(redis_url, "v", "call_2")
    secret = store.campaign("w").webhook_secret
    assert len(secret) >= 32 and secret != store.campaign("v").webhook_secret
    again = store.campaign("w").model_copy(update={"webhook_secret": ""})
    assert not store.create_campaign(again)
    assert store.campaign("w").webhook_secret == secret


def test_without_the_campaign_secret_nothing_changes(redis_url: str) -> None:
    store = _placed_store(redis_url)
    other = _placed_store(redis_url, "v", "call_2")
    before = _watch(store)
    event = {"event": "call.ended", "call_id": CALL}
    with serve_in_thread(create_app(store)) as url, httpx.Client(base_url=url) as client:
        assert client.post("/webhooks/oneinbox", json=event).status_code == 404
        assert client.post("/webhooks/oneinbox/" + "x" * 32, json=event).status_code == 404
        wrong = _path(store)[:-1] + ("A" if not _path(store).endswith("A") else "B")
        assert client.post(wrong, json=event).status_code == 404
        # another campaign's secret cannot reach this campaign's calls
        assert client.post(_path(other, "v"), json=event).status_code == 204
    assert _watch(store) == before


def test_unknown_calls_and_junk_change_nothing(redis_url: str) -> None:
    store = _placed_store(redis_url)
    before = _watch(store)
    path = _path(store)
    with serve_in_thread(create_app(store)) as url, httpx.Client(base_url=url) as client:
        unknown = {"event": "call.ended", "call_id": "call_nope"}
        assert client.post(path, json=unknown).status_code == 204
        for call_id in ("nope", "call_1\nforged", "", 12, "call_" + "a" * 65):
            event = {"event": "call.ended", "call_id": call_id}
            assert client.post(path, json=event).status_code == 400, call_id
        assert client.post(path, content=b"not json").status_code == 400
        assert client.post(path, json=[1, 2]).status_code == 400
    assert _watch(store) == before


def test_uuid_call_ids_are_accepted(redis_url: str) -> None:
    call_id = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
    store = _placed_store(redis_url, call_id=call_id)
    before = _watch(store)
    with serve_in_thread(create_app(store)) as url, httpx.Client(base_url=url) as client:
        answer = client.post(_path(store), json={"event": "call.ended", "call_id": call_id})
    assert answer.status_code == 204
    assert _watch(store) != before


def test_an_event_for_a_finished_contact_does_not_resurrect_it(redis_url: str) -> None:
    store = _placed_store(redis_url)
    store.transition("w", 1, ContactState.COMPLETED)
    with serve_in_thread(create_app(store)) as url, httpx.Client(base_url=url) as client:
        client.post(_path(store), json={"event": "call.ended", "call_id": CALL})
    assert _watch(store) is None


def _hold(url: str, path: str) -> socket.socket:
    """A request whose body never comes: it holds one of the receiver's slots."""
    port = httpx.URL(url).port
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n".encode())
    return sock


def test_requests_beyond_the_limit_are_refused_at_once(redis_url: str) -> None:
    store = _placed_store(redis_url)
    event = {"event": "call.ended", "call_id": CALL}
    with (
        serve_in_thread(create_app(store, max_requests=2)) as url,
        httpx.Client(base_url=url) as client,
        contextlib.closing(_hold(url, _path(store))),
        contextlib.closing(_hold(url, _path(store))),
    ):
        wait_until(
            lambda: client.post(_path(store), json=event).status_code == 503,
            10,
            "a third request to be refused while two are held",
        )
    with serve_in_thread(create_app(store, max_requests=2)) as url:
        assert httpx.post(url + _path(store), json=event).status_code == 204


def test_a_body_that_trickles_in_is_cut_off(redis_url: str) -> None:
    store = _placed_store(redis_url)
    with (
        serve_in_thread(create_app(store, body_timeout_s=0.3)) as url,
        contextlib.closing(_hold(url, _path(store))) as sock,
    ):
        sock.sendall(b'{"event": ')  # and the rest never comes
        sock.settimeout(10)
        assert sock.recv(100).startswith(b"HTTP/1.1 408 ")


def test_a_huge_field_and_a_client_gone_mid_body_leave_short_lines_and_no_secret(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = _placed_store(redis_url)
    path = _path(store)
    uvicorn_log = logging.getLogger("uvicorn")  # it does not propagate to caplog's root
    uvicorn_log.addHandler(caplog.handler)
    with caplog.at_level(logging.INFO), serve_in_thread(create_app(store)) as url:
        event = {"event": "x" * 900_000, "call_id": CALL}
        assert httpx.post(url + path, json=event, timeout=30).status_code == 204
        sock = _hold(url, path)  # says 100 bytes...
        sock.sendall(b'{"event": ')
        sock.close()  # ...and goes away
        wait_until(lambda: any("webhook" in r.getMessage() for r in caplog.records), 10, "a log")
        time.sleep(0.5)  # the dropped request's handling ends
    uvicorn_log.removeHandler(caplog.handler)
    served = [r for r in caplog.records if r.name.startswith(("dialer", "uvicorn"))]  # not httpx's
    assert served and all(len(str(r.__dict__)) < 5000 for r in served), "a field was logged whole"
    assert not [r for r in served if r.levelno >= logging.ERROR or r.exc_info]
    secret = path.rsplit("/", 1)[1]
    assert not [r for r in served if secret in r.getMessage() or secret in str(r.exc_text)]


def _status(path: Path) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in KiB."""
    fields = dict(line.split(":", 1) for line in path.read_text().splitlines())
    return {k: int(fields[k].split()[0]) for k in ("VmRSS", "VmHWM")}


@contextlib.contextmanager
def _receiver(redis_url: str, tmp: Path) -> Iterator[tuple[str, Path]]:
    """A real `dialer webhooks` process; yields its URL and its /proc status file."""
    port = free_port()
    log = (tmp / "receiver.log").open("wb")
    process = subprocess.Popen(
        [dialer_exe(), "webhooks", "--port", str(port)],
        env=dialer_env({"DIALER_REDIS_URL": redis_url}),
        stdout=log,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(url + "/healthz", timeout=1).status_code == 200
        return False

    try:
        wait_until(up, 30, "the receiver to start")
        yield url, Path(f"/proc/{process.pid}/status")
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _push(url: str, path: str, total: int, *, chunked: bool) -> int:
    """POST `total` bytes of body to `path` as fast as the receiver takes them; the bytes sent."""
    sock = socket.create_connection(("127.0.0.1", httpx.URL(url).port))
    length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}"
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\n{length}\r\n\r\n".encode())
    piece = b"x" * (1 << 16)
    framed = b"%x\r\n%b\r\n" % (len(piece), piece) if chunked else piece
    sent = 0
    with contextlib.suppress(OSError), sock:
        sock.settimeout(10)
        while sent < total:
            sock.sendall(framed)
            sent += len(piece)
    return sent


def test_an_oversized_body_is_refused_without_the_receiver_growing(
    redis_url: str, tmp: Path
) -> None:
    store = _placed_store(redis_url)
    total = 96 << 20
    with _receiver(redis_url, tmp) as (url, status):
        before = _status(status)
        sent = [_push(url, _path(store), total, chunked=c) for c in (False, True)]
        sent.append(_push(url, "/webhooks/oneinbox/" + "x" * 32, total, chunked=True))
        after = _status(status)
        event = {"event": "call.ended", "call_id": CALL}
        assert httpx.post(url + _path(store), json=event).status_code == 204  # still serving
    grown_mib = (after["VmHWM"] - before["VmRSS"]) / 1024
    assert grown_mib < 16, f"the receiver grew by {grown_mib:.0f} MiB for refused bodies"
    assert all(s < total // 4 for s in sent), f"the receiver took {sent} bytes of {total}"


@pytest.mark.integration
@pytest.mark.timeout(90)
def test_webhooks_bring_the_final_read_forward_in_a_real_campaign(
    stack: Stack, sim: RunningSimulator
) -> None:
    # Polls are slowed to 20 s and more: finishing in seconds means the events were used.
    stack.env["DIALER_TIMING"] = WORKER_TIMING.replace("poll_scale=0.1", "poll_scale=20")
    with serve_in_thread(create_app(stack.store)) as receiver:
        config = CampaignConfig(
            campaign_id="h",
            agent_id=DEFAULT_AGENT_ID,
            from_number=DEFAULT_FROM_NUMBER,
            columns=("phone",),
            window="always",
            rate_per_s=20,
            webhook_url=f"{receiver}/webhooks/oneinbox",
        )
        contacts = [Contact(r, f"+1415555{5000 + r:04d}", {"phone": ""}) for r in range(1, 4)]
        lifecycle.submit(stack.store, config, [contacts])
        lifecycle.start(stack.store, "h")
        stack.worker()
        wait_until(
            lambda: stack.store.campaign_state("h") is CampaignState.DONE,
            12,  # the slow schedule alone would need 20 s or more
            "webhooks to bring the calls' final reads forward",
        )
    delivered = sim_get(sim.url, "deliveries")
    assert any(d["response_status"] == 204 for d in delivered)  # type: ignore[union-attr]
    for contact in stack.store.iter_contacts("h"):
        assert contact.state in {"completed", "voicemail", "no_answer", "failed"}
        assert contact.polls < 4  # a few reads, not the slow schedule
