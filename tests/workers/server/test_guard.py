"""What `dialer serve` refuses before it reads a body, and how it holds connections: uploads
without the token or a session cost it nothing, a stalled body is cut off, uploads beyond the
cap wait their turn, slow request heads cannot starve genuine webhooks, /docs loads nothing from
elsewhere."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.support import dialer_env, dialer_exe, wait_until
from tests.workers.test_webhooks import CALL, _path, _placed_store
from workers.processes import free_port
from workers.server import connections, guard
from workers.server.receiver import create_app

pytestmark = pytest.mark.timeout(120)
TOKEN = "guard-test-token-0c4d1e"
UPLOAD = 50 << 20  # the default upload limit


def _status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in KiB."""
    text = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in text.splitlines())
    return {k: int(fields[k].split()[0]) for k in ("VmRSS", "VmHWM")}


@contextlib.contextmanager
def _serve(redis_url: str, tmp: Path) -> Iterator[tuple[str, int]]:
    """A real `dialer serve` process on the test's Redis; yields its URL and pid."""
    port = free_port()
    env = {"DIALER_REDIS_URL": redis_url, "DIALER_WEB_TOKEN": TOKEN, "DIALER_STATE_DIR": str(tmp)}
    with (tmp / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            [dialer_exe(), "serve", "--port", str(port)],
            env=dialer_env(env), stdout=log, stderr=log,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(url + "/healthz", timeout=1).status_code == 200
        return False

    try:
        wait_until(up, 60, "the server to start")
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def _upload(url: str, path: str, total: int, headers: str = "") -> tuple[int, bytes]:
    """POST a multipart body of `total` bytes as fast as the server takes it; the bytes it took
    before answering, and the start of its answer."""
    sock = socket.create_connection(("127.0.0.1", httpx.URL(url).port))
    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {total}\r\n{headers}"
        "Content-Type: multipart/form-data; boundary=b\r\n\r\n"
        '--b\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\n'
    )
    sock.sendall(head.encode())
    piece, sent, answer = b"phone\n" + b"1" * ((1 << 16) - 6), len(head), b""
    with sock:
        sock.settimeout(10)
        with contextlib.suppress(OSError):
            while sent < total:
                sock.sendall(piece)
                sent += len(piece)
        with contextlib.suppress(OSError):
            answer = sock.recv(64)
    return sent, answer


def test_uploads_without_the_token_or_a_session_are_refused_before_their_body(
    redis_url: str, tmp: Path
) -> None:
    paths = ["/api/campaigns", "/api/contacts/inspect", "/campaigns/new/check", "/schedules"]
    with _serve(redis_url, tmp) as (url, pid):
        before = _status(pid)
        taken: list[int] = []
        threads = [
            threading.Thread(target=lambda p=p: taken.append(_upload(url, p, UPLOAD)[0]))
            for p in paths * 2  # eight at once
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        after = _status(pid)
        wrong = f"Authorization: Bearer not-{TOKEN}\r\n"
        assert _upload(url, "/api/campaigns", 4 << 20, wrong)[1].startswith(b"HTTP/1.1 401 ")
        assert httpx.get(
            url + "/api/campaigns", headers={"Authorization": f"Bearer {TOKEN}"}
        ).is_success
    grown_mib = (after["VmHWM"] - before["VmRSS"]) / 1024
    assert grown_mib < 16, f"the server grew by {grown_mib:.0f} MiB for refused uploads"
    assert len(taken) == 8 and all(t < UPLOAD // 4 for t in taken), f"it took {taken} bytes"


def _echo_app(max_loads: int = guard.MAX_LOADS, idle_s: float = guard.BODY_IDLE_S) -> Starlette:
    async def echo(request: Request) -> PlainTextResponse:
        return PlainTextResponse(str(len(await request.body())))

    app = Starlette(routes=[Route("/api/campaigns", echo, methods=["POST"])])
    app.add_middleware(guard.Bounded, max_loads=max_loads, idle_s=idle_s)
    return app


@contextlib.contextmanager
def _run(app: object, **options: object) -> Iterator[str]:
    """Serve `app` in a thread with the servers' connection handling (`connections.config`)."""
    server = uvicorn.Server(connections.config(app, "127.0.0.1", 0, log_level="warning", **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 10, "the test server to start", every=0.01)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _hold(url: str, path: str, head_only: bool = False) -> socket.socket:
    """A request whose body (or the end of its head) never comes."""
    sock = socket.create_connection(("127.0.0.1", httpx.URL(url).port))
    ending = "" if head_only else "Content-Length: 100\r\n\r\n"
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\n{ending}".encode())
    return sock


def test_a_body_that_stalls_is_cut_off() -> None:
    with _run(_echo_app(idle_s=0.3)) as url, contextlib.closing(_hold(url, "/api/campaigns")) as s:
        s.sendall(b"phone\n")  # and the rest never comes
        s.settimeout(10)
        assert s.recv(100).startswith(b"HTTP/1.1 408 ")


def test_uploads_beyond_the_cap_are_refused_at_once() -> None:
    with (
        _run(_echo_app(max_loads=2)) as url,
        contextlib.closing(_hold(url, "/api/campaigns")),
        contextlib.closing(_hold(url, "/api/campaigns")),
    ):
        wait_until(
            lambda: httpx.post(url + "/api/campaigns", content=b"x").status_code == 503,
            10,
            "a third upload to be refused while two are read",
        )
    with _run(_echo_app(max_loads=2)) as url:
        assert httpx.post(url + "/api/campaigns", content=b"xy").text == "2"


def test_slow_request_heads_do_not_starve_genuine_webhooks(redis_url: str) -> None:
    store = _placed_store(redis_url)
    event = {"event": "call.ended", "call_id": CALL}
    app = create_app(store)
    with _run(app, http=connections.with_timeout(2.0)) as url, contextlib.ExitStack() as held:
        slow = [held.enter_context(contextlib.closing(_hold(url, "/x", True))) for _ in range(70)]
        started = time.monotonic()
        answer = httpx.post(url + _path(store), json=event, timeout=10)
        assert answer.status_code == 204, "a genuine webhook waited behind slow connections"
        assert time.monotonic() - started < 5
        for sock in slow[:3]:  # and the slow ones are closed once their head is late
            sock.settimeout(10)
            assert sock.recv(10) == b""


def test_partial_uploads_left_by_a_stopped_server_are_swept_at_start(
    redis_url: str, tmp: Path
) -> None:
    left = tmp / "uploads" / ".leads.csv.1a2b3c4d.part"
    left.parent.mkdir(parents=True)
    left.write_bytes(b"phone\n+1415555")
    kept = tmp / "uploads" / "leads.csv"
    kept.write_text("phone\n+14155550100\n")
    with _serve(redis_url, tmp):
        assert not left.exists()
        assert kept.exists()  # a list kept whole stays


def test_the_api_docs_load_nothing_from_elsewhere(redis_url: str, tmp: Path) -> None:
    with _serve(redis_url, tmp) as (url, _):
        docs = httpx.get(url + "/docs")
        assert docs.status_code == 200 and "/api/campaigns" in docs.text
        assert "<script" not in docs.text and "cdn" not in docs.text.lower()
        assert "script-src 'self'" in docs.headers["content-security-policy"]
        assert docs.headers["x-content-type-options"] == "nosniff"
        assert docs.headers["referrer-policy"] == "no-referrer"
        assert docs.headers["cache-control"] == "no-store"
        assert httpx.get(url + "/redoc").status_code == 404
