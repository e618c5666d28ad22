"""The pages' pure parts: the session cookie and its CSRF token, origins, times in words. The
pages themselves are tested in a browser (tests/workers/server/test_web.py), their forms'
CSRF check over HTTP (tests/workers/server/test_csrf.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.requests import Request

from workers.server.web.details import ahead, duration
from workers.server.web.login import (
    COOKIE,
    Session,
    Sessions,
    login,
    logout,
    same_origin,
    session_of,
)

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _request(cookie: str = "", origin: str | None = None, site: str | None = None) -> Request:
    headers = [(b"host", b"127.0.0.1:8000")]
    if site is not None:
        headers.append((b"sec-fetch-site", site.encode()))
    if cookie:
        headers.append((b"cookie", f"{COOKIE}={cookie}".encode()))
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers,
             "scheme": "http", "query_string": b"", "server": ("127.0.0.1", 8000)}  # fmt: skip
    return Request(scope)


def _cookie(sessions: Sessions) -> str:
    answer = login(sessions, _request())
    header = answer.headers["set-cookie"]
    assert "HttpOnly" in header and "SameSite=strict" in header
    return header.split(f"{COOKIE}=", 1)[1].split(";", 1)[0]


def test_a_session_is_only_one_signed_with_this_servers_token() -> None:
    server = Sessions("server-token")
    cookie = _cookie(server)
    mine = session_of(server, _request(cookie))
    assert mine is not None and len(mine.csrf) == 40
    assert session_of(Sessions("another-token"), _request(cookie)) is None
    nonce, signature = cookie.split(".")
    assert session_of(server, _request(f"x{nonce}.{signature}")) is None
    assert session_of(server, _request("")) is None


def test_each_session_has_its_own_csrf_token() -> None:
    server = Sessions("t")
    first = session_of(server, _request(_cookie(server)))
    second = session_of(server, _request(_cookie(server)))
    assert first is not None and second is not None and first.csrf != second.csrf


def test_a_logged_out_cookie_no_longer_works() -> None:
    server = Sessions("t")
    cookie = _cookie(server)
    session = session_of(server, _request(cookie))
    assert isinstance(session, Session)
    logout(server, session)
    assert session_of(server, _request(cookie)) is None
    assert session_of(Sessions("t"), _request(_cookie(server))) is None  # a restart ends it


def test_a_session_ends_after_its_age() -> None:
    now = [0.0]
    server = Sessions("t", max_age_s=60, clock=lambda: now[0])
    cookie = _cookie(server)
    assert session_of(server, _request(cookie)) is not None
    now[0] = 61
    assert session_of(server, _request(cookie)) is None


def test_the_cookie_is_secure_when_the_public_url_is_https() -> None:
    assert "secure" not in login(Sessions("t"), _request()).headers["set-cookie"].lower()
    secure = login(Sessions("t", secure=True), _request()).headers["set-cookie"]
    assert "secure" in secure.lower()


def test_a_cookie_that_is_not_ascii_is_no_session() -> None:
    server = Sessions("t")
    assert session_of(server, _request("a.\u00e9")) is None
    assert session_of(server, _request("\u00e9.\u00e9\u00e9")) is None


def test_a_form_from_another_site_is_not_same_origin() -> None:
    assert same_origin(_request(origin="http://127.0.0.1:8000"))
    assert same_origin(_request())  # no Origin header: the CSRF token decides
    assert not same_origin(_request(origin="https://evil.example"))
    assert not same_origin(_request(origin="null"))
    # A browser that names the site decides, even when no-referrer made its Origin `null`.
    assert same_origin(_request(origin="null", site="same-origin"))
    assert not same_origin(_request(origin="http://127.0.0.1:8000", site="cross-site"))
    assert not same_origin(_request(site="same-site"))


def test_times_in_words() -> None:
    assert duration(45) == "45 s"
    assert duration(12 * 60) == "12 min"
    assert duration(3 * 3600 + 600) == "3 h 10 min"
    assert duration(2 * 86400 + 4 * 3600) == "2 days 4 h"
    assert ahead(NOW + timedelta(hours=1), NOW) == "in 1 h (Tue 1 Dec 10:00 UTC)"
