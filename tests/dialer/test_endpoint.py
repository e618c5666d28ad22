"""Where the API key may go: https, or plain http only to this machine; a base URL from a
`.env` file never; the address in use named by the preflight and warned about once. Where we
are called back (a webhook URL): https, or plain http only to this machine, no other scheme."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.checks import Level, check_endpoint
from dialer.endpoint import DEFAULT_BASE_URL, check_base_url, check_callback_url, is_loopback
from dialer.errors import ConfigError, InputError
from dialer.http import make_http_client
from dialer.run_options import RunOptions
from dialer.simulator.config import DEFAULT_API_KEY
from dialer.simulator.server import RunningSimulator
from tests.support import campaign_args, cli_env, dialer_cli

KEY = "oi_sk_live_endpoint_test_0123456789"


def this_machine_address() -> str | None:
    """One of this machine's own non-loopback addresses (none is contacted), or None."""
    for target in ("10.255.255.255", "203.0.113.1", "198.51.100.1"):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            try:
                sock.connect((target, 9))  # picks the outgoing interface; sends nothing
            except OSError:
                continue
            address = str(sock.getsockname()[0])
        if not address.startswith("127.") and address != "0.0.0.0":
            return address
    return None


@contextlib.contextmanager
def recorder(host: str = "127.0.0.1") -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on loopback that records every request it gets (and answers 200 {})."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(f"{self.command} {self.path} {self.headers.get('Authorization')}")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"items": [], "total": 0, "limit": 20, "offset": 0}')

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    "url",
    [DEFAULT_BASE_URL, "https://eu.example.com/", "http://127.0.0.1:8700", "http://localhost:1",
     "http://[::1]:8080", "http://127.9.9.9"],
)  # fmt: skip
def test_https_or_this_machine_is_accepted(url: str) -> None:
    assert check_base_url(url) == url


@pytest.mark.parametrize(
    "url",
    ["http://api.oneinbox.ai", "http://10.0.0.5:8700", "http://localhost.evil.example",
     "http://127.0.0.1.evil.example", "ftp://127.0.0.1", "https://", "api.oneinbox.ai"],
)  # fmt: skip
def test_plain_http_elsewhere_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="https"):
        check_base_url(url)


def test_the_client_refuses_plain_http_before_any_request() -> None:
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200, json={}))
    with pytest.raises(ConfigError, match="refused"):
        make_http_client(
            "http://api.example.test",
            KEY,
            connect_timeout=1,
            read_timeout=1,
            transport=transport,
        )
    assert sent == []


def test_a_command_sends_nothing_to_a_plain_http_host(tmp_path: Path) -> None:
    address = this_machine_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to listen on")
    with recorder(address) as (url, seen):
        env = {"ONEINBOX_API_KEY": KEY, "ONEINBOX_BASE_URL": url}
        done = dialer_cli(["agents", "list"], env, tmp_path)
    assert seen == []
    assert done.returncode == 2, done.stdout + done.stderr
    assert url in done.stderr and "https" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_base_url_in_a_dot_env_file_is_refused(tmp_path: Path) -> None:
    with recorder() as (url, seen):
        (tmp_path / ".env").write_text(f"ONEINBOX_API_KEY={KEY}\nONEINBOX_BASE_URL={url}\n")
        done = dialer_cli(["agents", "list"], {"COLUMNS": "300"}, tmp_path)
        assert seen == []
        assert done.returncode == 2, done.stdout + done.stderr
        assert str((tmp_path / ".env").resolve()) in " ".join(done.stderr.split())
        # the same address from the environment is taken (and the key in .env still is)
        done = dialer_cli(["agents", "list"], {"ONEINBOX_BASE_URL": url}, tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert len(seen) == 1 and seen[0].endswith("Bearer " + KEY)


def test_a_dot_env_may_name_the_default_address(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"ONEINBOX_BASE_URL={DEFAULT_BASE_URL}/\n")
    done = dialer_cli(["agents", "list"], {}, tmp_path)
    assert "not used" not in done.stderr and "ONEINBOX_API_KEY is not set" in done.stderr


def test_another_address_is_warned_about_once(caplog: pytest.LogCaptureFixture) -> None:
    url = f"http://localhost:1/{uuid.uuid4().hex}"
    with caplog.at_level(logging.WARNING, logger="dialer"):
        for _ in range(3):
            make_http_client(url, KEY, connect_timeout=1, read_timeout=1).close()
        make_http_client(DEFAULT_BASE_URL, KEY, connect_timeout=1, read_timeout=1).close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and url in warnings[0] and KEY not in warnings[0]


def test_the_preflight_names_the_address_and_the_env_file(tmp_path: Path) -> None:
    ok = check_endpoint(DEFAULT_BASE_URL, None)
    assert ok.level is Level.OK and DEFAULT_BASE_URL in ok.detail and "no .env" in ok.detail
    env_file = tmp_path / ".env"
    other = check_endpoint("http://127.0.0.1:8700", env_file)
    assert other.level is Level.WARN
    assert "http://127.0.0.1:8700" in other.detail and str(env_file) in other.detail


def test_dialer_check_shows_the_address_in_use(simulator: RunningSimulator, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"ONEINBOX_API_KEY={DEFAULT_API_KEY}\n")
    (tmp_path / "c.csv").write_text("phone\n+14155550100\n")
    env = cli_env(simulator, tmp_path, COLUMNS="400")
    del env["ONEINBOX_API_KEY"]  # from the .env file
    done = dialer_cli(campaign_args("check", "c.csv"), env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    text = " ".join(done.stdout.split())
    assert simulator.url in text and str((tmp_path / ".env").resolve()) in text


@pytest.mark.parametrize(
    ("url", "normalised"),
    [("https://hooks.example.com/webhooks/oneinbox", "https://hooks.example.com/webhooks/oneinbox"),
     ("  HTTPS://Hooks.Example.COM/w  ", "https://hooks.example.com/w"),
     ("http://127.0.0.1:8080/webhooks/oneinbox", "http://127.0.0.1:8080/webhooks/oneinbox"),
     ("http://localhost:8000/w", "http://localhost:8000/w"), ("http://[::1]:8080/w", "http://[::1]:8080/w")],
)  # fmt: skip
def test_a_callback_url_is_https_or_to_this_machine(url: str, normalised: str) -> None:
    assert check_callback_url(url) == normalised
    assert RunOptions(webhook_url=url).webhook_url == normalised


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "gopher://127.0.0.1:6379/_FLUSHALL", "http://169.254.169.254/latest",
     "http://10.0.0.5:8080/w", "http://localhost.evil.example/w", "ftp://127.0.0.1/w",
     "javascript:alert(1)", "https://", "hooks.example.com/w", "//hooks.example.com/w"],
)  # fmt: skip
def test_any_other_callback_url_is_refused_naming_the_field(url: str) -> None:
    with pytest.raises(InputError, match=r"^--webhook-url: .*https"):
        check_callback_url(url)
    with pytest.raises(InputError, match=r"^--webhook-url: "):
        RunOptions(webhook_url=url)
    with pytest.raises(InputError, match=r"^--events-url: "):
        check_callback_url(url, "events_url")


def test_a_huge_refused_url_is_not_echoed_whole() -> None:
    for url in ("gopher://x/" + "a" * 200_000, "ftp://" + "b" * 1_000):
        with pytest.raises(InputError) as refused:
            check_callback_url(url)
        assert len(str(refused.value)) < 300


@given(st.text(max_size=60) | st.from_regex(r"\A(https?|ftp|file)://[^/]{0,20}(/.{0,20})?\Z"))
def test_a_callback_url_is_accepted_only_when_safe_or_refused_as_input(url: str) -> None:
    try:
        checked = check_callback_url(url)
    except InputError:
        return
    parsed = httpx.URL(checked)
    assert parsed.host
    assert parsed.scheme == "https" or (parsed.scheme == "http" and is_loopback(parsed.host))


def test_a_run_given_another_webhook_url_stops_before_anything(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("phone\n+14155550100\n")
    env = {"ONEINBOX_API_KEY": KEY, "DIALER_STATE_DIR": str(tmp_path / "state")}
    args = campaign_args("run", "c.csv", "--webhook-url", "gopher://127.0.0.1:6379/_FLUSHALL")
    done = dialer_cli(args, env, tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "--webhook-url" in done.stderr and "https" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_refuses_a_public_url_it_could_not_hand_out(tmp_path: Path) -> None:
    env = {"ONEINBOX_API_KEY": KEY, "DIALER_STATE_DIR": str(tmp_path / "state")}
    args = ["serve", "--port", "1", "--public-url", "http://hooks.example.com"]
    done = dialer_cli(args, env, tmp_path, timeout=30)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "--public-url" in done.stderr and "https" in done.stderr
    assert "Serving" not in done.stdout and "Traceback" not in done.stderr


def test_a_redis_url_in_a_dot_env_file_is_refused(tmp_path: Path) -> None:
    secret = "hunter2-redis-password"
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"ONEINBOX_API_KEY={KEY}\nDIALER_REDIS_URL=redis://:{secret}@127.0.0.1:1/0\n"
    )
    done = dialer_cli(["status"], {"COLUMNS": "300"}, tmp_path, timeout=30)
    assert done.returncode == 2, done.stdout + done.stderr
    said = " ".join(done.stderr.split())
    assert "DIALER_REDIS_URL" in said and str(env_file.resolve()) in said
    assert secret not in said and "Traceback" not in said
