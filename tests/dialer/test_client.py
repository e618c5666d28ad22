"""The OneInbox client and its HTTP layer, against `httpx.MockTransport` only."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from dialer.client import OneInboxClient
from dialer.errors import (
    Ambiguous,
    AuthError,
    ConfigError,
    NotFound,
    Permanent,
    ProviderError,
    RateLimited,
    Retryable,
)
from dialer.http import (
    AGENT_HINT,
    AUTH_HINT,
    DAILY_CAP_HINT,
    FROM_NUMBER_HINT,
    GEO_HINT,
    NOT_SENT,
    NUMBER_HINT,
    make_http_client,
    parse_retry_after,
    raise_for_response,
    seconds_until_utc_midnight,
)
from dialer.models import CallRequest
from dialer.transport import StdlibTransport

KEY = "oi_sk_live_5ecret_k3y_do_not_leak"
BASE = "https://api.test"
BRANCHES = (Retryable, Ambiguous, Permanent, AuthError)
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
Handler = Callable[[httpx.Request], httpx.Response]


@dataclass
class Recorder:
    """A MockTransport handler that records every request and answers from `reply`."""

    reply: Handler
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.reply(request)


def make_client(reply: Handler) -> tuple[OneInboxClient, Recorder]:
    recorder = Recorder(reply)
    http = make_http_client(
        BASE, KEY, connect_timeout=1.5, read_timeout=7.0, transport=httpx.MockTransport(recorder)
    )
    return OneInboxClient(http), recorder


def answer(status: int, body: Any = None, **kw: Any) -> Handler:
    def reply(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body, **kw)
        return httpx.Response(status, json=body, **kw)

    return reply


def call_json(call_id: str = "c1", **fields: Any) -> dict[str, Any]:
    return {"id": call_id, "status": "initiated", **fields}


def a_request() -> CallRequest:
    return CallRequest(
        agent_id="agt",
        to_number="+14155551234",
        from_number="+15739693824",
        metadata={"dialer_attempt_id": "att-1"},
    )


POST: Callable[[OneInboxClient], object] = lambda c: c.create_call(a_request())  # noqa: E731
GET: Callable[[OneInboxClient], object] = lambda c: c.get_call("c1")  # noqa: E731
BOTH = pytest.mark.parametrize("send", [POST, GET], ids=["POST", "GET"])


def branch_of(error: BaseException) -> type[ProviderError]:
    hits = [cls for cls in BRANCHES if isinstance(error, cls)]
    assert len(hits) == 1, f"{type(error).__name__} sits in {hits}"
    return hits[0]


# -- building the httpx client ------------------------------------------------------------


def test_every_request_carries_bearer_key_and_user_agent() -> None:
    client, rec = make_client(answer(200, call_json()))
    client.get_call("c1")
    headers = rec.requests[0].headers
    assert headers["Authorization"] == f"Bearer {KEY}"
    assert headers["User-Agent"].startswith("dialer/")
    assert headers["Accept"] == "application/json"


def test_timeouts_are_explicit_and_redirects_off() -> None:
    http = make_http_client(BASE, SecretStr(KEY), connect_timeout=1.5, read_timeout=7.0)
    assert http.timeout == httpx.Timeout(connect=1.5, read=7.0, write=7.0, pool=1.5)
    assert http.follow_redirects is False
    assert http.headers["Authorization"] == f"Bearer {KEY}"


def test_default_transport_is_the_stdlib_one() -> None:
    """It sends each request once (tests/dialer/test_transport.py drops a connection)."""
    http = make_http_client(BASE, KEY, connect_timeout=1, read_timeout=1)
    assert isinstance(http._transport, StdlibTransport)


@pytest.mark.parametrize("key", ["", "   ", SecretStr(" ")])
def test_empty_key_is_a_config_error(key: str | SecretStr) -> None:
    with pytest.raises(ConfigError):
        make_http_client(BASE, key, connect_timeout=1, read_timeout=1)


# -- the key never leaks ------------------------------------------------------------------


def _exercise_everything(client: OneInboxClient) -> list[BaseException]:
    errors: list[BaseException] = []
    for send in (POST, GET):
        try:
            send(client)
        except ProviderError as exc:
            errors.append(exc)
    return errors


@pytest.mark.parametrize(
    "reply",
    [
        answer(401, {"detail": f"Invalid API key {KEY}"}),
        answer(403, f"forbidden for Bearer {KEY}"),
        answer(422, {"detail": [{"loc": ["header"], "msg": f"bad {KEY}", "input": KEY}]}),
        answer(500, f"<html>{KEY}</html>"),
        answer(200, "not json"),
    ],
)
def test_key_is_redacted_from_errors_and_logs(
    reply: Handler, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client, _ = make_client(reply)
    errors = _exercise_everything(client)
    assert errors
    for error in errors:
        assert KEY not in str(error) and KEY not in repr(error)
        assert KEY not in getattr(error, "detail", "")
    assert KEY not in caplog.text
    assert KEY not in repr(client)


def test_key_not_in_transport_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout(f"timed out {request.headers['Authorization']}", request=request)

    client, _ = make_client(boom)
    for error in _exercise_everything(client):
        assert KEY not in str(error) and KEY not in repr(error)
    assert KEY not in caplog.text


def test_successful_calls_log_no_key(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client, _ = make_client(answer(201, call_json()))
    client.create_call(a_request())
    client.get_call("c1")
    assert KEY not in caplog.text
    assert KEY not in repr(client) and KEY not in str(client)


# -- transport errors ---------------------------------------------------------------------


def _raisable_httpx_errors() -> list[type[httpx.HTTPError]]:
    found = [
        obj
        for obj in vars(httpx).values()
        if isinstance(obj, type) and issubclass(obj, httpx.HTTPError)
    ]
    return sorted(found, key=lambda cls: cls.__name__)


ALL_HTTPX_ERRORS = _raisable_httpx_errors()


def test_the_walk_finds_the_transport_errors() -> None:
    names = {cls.__name__ for cls in ALL_HTTPX_ERRORS}
    expected = {
        "ConnectError",
        "ConnectTimeout",
        "PoolTimeout",
        "ReadTimeout",
        "WriteTimeout",
        "ReadError",
        "WriteError",
        "RemoteProtocolError",
        "LocalProtocolError",
        "CloseError",
        "ProxyError",
        "UnsupportedProtocol",
        "TimeoutException",
        "NetworkError",
        "ProtocolError",
        "TransportError",
        "RequestError",
        "DecodingError",
        "TooManyRedirects",
        "HTTPStatusError",
        "HTTPError",
    }
    assert expected <= names


def _raiser(cls: type[httpx.HTTPError]) -> Handler:
    def reply(request: httpx.Request) -> httpx.Response:
        if issubclass(cls, httpx.HTTPStatusError):
            raise cls("boom", request=request, response=httpx.Response(500, request=request))
        if issubclass(cls, httpx.RequestError):
            raise cls("boom", request=request)
        raise cls("boom")

    return reply


def _expected_post_branch(cls: type[httpx.HTTPError]) -> type[ProviderError]:
    return Retryable if issubclass(cls, NOT_SENT) else Ambiguous


@pytest.mark.parametrize("cls", ALL_HTTPX_ERRORS, ids=lambda c: c.__name__)
def test_every_httpx_error_lands_in_one_branch_on_post(cls: type[httpx.HTTPError]) -> None:
    client, rec = make_client(_raiser(cls))
    with pytest.raises(ProviderError) as caught:
        client.create_call(a_request())
    assert branch_of(caught.value) is _expected_post_branch(cls)
    assert isinstance(caught.value.__cause__, cls)
    assert len(rec.requests) == 1


@pytest.mark.parametrize("cls", ALL_HTTPX_ERRORS, ids=lambda c: c.__name__)
def test_every_httpx_error_is_retryable_on_get(cls: type[httpx.HTTPError]) -> None:
    client, rec = make_client(_raiser(cls))
    with pytest.raises(ProviderError) as caught:
        client.get_call("c1")
    assert branch_of(caught.value) is Retryable
    assert len(rec.requests) == 1


@pytest.mark.parametrize(
    "cls",
    [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout],
    ids=lambda c: c.__name__,
)
def test_post_never_sent_is_retryable(cls: type[httpx.RequestError]) -> None:
    client, _ = make_client(_raiser(cls))
    with pytest.raises(Retryable) as caught:
        client.create_call(a_request())
    assert caught.value.status_code is None
    assert cls.__name__ in caught.value.detail


@pytest.mark.parametrize(
    "cls",
    [
        httpx.ReadTimeout,
        httpx.WriteTimeout,
        httpx.ReadError,
        httpx.WriteError,
        httpx.RemoteProtocolError,
        httpx.CloseError,
        httpx.LocalProtocolError,
    ],
    ids=lambda c: c.__name__,
)
def test_post_maybe_sent_is_ambiguous(cls: type[httpx.RequestError]) -> None:
    client, _ = make_client(_raiser(cls))
    with pytest.raises(Ambiguous) as caught:
        client.create_call(a_request())
    assert "may have been processed" in str(caught.value)


# -- HTTP status codes --------------------------------------------------------------------


VALIDATION_422 = {
    "detail": [
        {
            "loc": ["body", "to_number"],
            "msg": "String should match pattern '^\\+[1-9]\\d{1,14}$'",
            "type": "string_pattern_mismatch",
            "input": "07700900123",
            "ctx": {},
        },
        {"loc": ["body", "agent_id"], "msg": "Input should be a valid UUID", "type": "uuid"},
    ]
}


@BOTH
def test_401_is_auth_error_with_hint(send: Callable[[OneInboxClient], object]) -> None:
    client, _ = make_client(answer(401, {"detail": "Invalid API key"}))
    with pytest.raises(AuthError) as caught:
        send(client)
    assert caught.value.status_code == 401
    assert caught.value.detail == "Invalid API key"
    assert caught.value.hint == AUTH_HINT and AUTH_HINT in str(caught.value)


@BOTH
def test_403_is_auth_error(send: Callable[[OneInboxClient], object]) -> None:
    client, _ = make_client(answer(403, {"detail": "ORIGIN_NOT_ALLOWED"}))
    with pytest.raises(AuthError) as caught:
        send(client)
    assert caught.value.status_code == 403


@pytest.mark.parametrize(
    "message",
    [
        "Account not authorized to call +447700900123. Perhaps you need to enable some "
        "international permissions",
        "Destination region is not enabled for this account",
        "Calls to this country are disabled (geo permissions)",
    ],
)
@pytest.mark.parametrize("status", [400, 403, 422])
def test_region_refusals_are_permanent_with_geo_hint(status: int, message: str) -> None:
    client, _ = make_client(answer(status, {"detail": message}))
    with pytest.raises(Permanent) as caught:
        client.create_call(a_request())
    assert not isinstance(caught.value, AuthError)
    assert caught.value.hint == GEO_HINT
    assert caught.value.status_code == status


@BOTH
def test_404_is_not_found(send: Callable[[OneInboxClient], object]) -> None:
    client, _ = make_client(answer(404, {"detail": "Not Found"}))
    with pytest.raises(NotFound) as caught:
        send(client)
    assert caught.value.status_code == 404 and caught.value.detail == "Not Found"


def test_404_on_agent_hints_to_recopy_agent_id() -> None:
    client, _ = make_client(answer(404, {"detail": "Agent not found"}))
    with pytest.raises(NotFound) as caught:
        client.create_call(a_request())
    assert caught.value.hint == AGENT_HINT
    with pytest.raises(NotFound) as again:
        make_client(answer(404, {"detail": "Not Found"}))[0].get_agent("agt")
    assert again.value.hint == AGENT_HINT


def test_404_on_from_number_hints_to_register_it() -> None:
    client, _ = make_client(answer(404, {"detail": "from_number +15739693824 not registered"}))
    with pytest.raises(NotFound) as caught:
        client.create_call(a_request())
    assert caught.value.hint == FROM_NUMBER_HINT


@BOTH
def test_422_detail_list_is_made_readable(send: Callable[[OneInboxClient], object]) -> None:
    client, _ = make_client(answer(422, VALIDATION_422))
    with pytest.raises(Permanent) as caught:
        send(client)
    error = caught.value
    assert error.detail == (
        "body.to_number: String should match pattern '^\\+[1-9]\\d{1,14}$'; "
        "body.agent_id: Input should be a valid UUID"
    )
    assert error.hint == NUMBER_HINT and error.status_code == 422
    assert "07700900123" not in str(error)  # inputs are left out on purpose


@pytest.mark.parametrize(
    ("body", "detail", "hint"),
    [
        ({"detail": "to_number is not a valid E.164 number"}, None, NUMBER_HINT),
        ({"detail": "Invalid phone number format"}, None, NUMBER_HINT),
        ({"message": "bad request"}, "bad request", ""),
        ({"error": {"message": "nested"}}, "nested", ""),
        ({"detail": {"code": "X", "message": "dict detail"}}, "dict detail", ""),
        ({"detail": [{"msg": "no loc"}]}, "no loc", ""),
        ({"unexpected": 1}, "Bad Request", ""),
        ("<html><body>  nginx\n 400 </body></html>", "<html><body> nginx 400 </body></html>", ""),
        ("", "Bad Request", ""),
    ],
)
def test_400_bodies_of_every_shape(body: Any, detail: str | None, hint: str) -> None:
    client, _ = make_client(answer(400, body))
    with pytest.raises(Permanent) as caught:
        client.create_call(a_request())
    assert type(caught.value) is Permanent
    assert caught.value.status_code == 400
    assert caught.value.detail == (detail if detail is not None else body["detail"])
    assert caught.value.hint == hint


@pytest.mark.parametrize("status", [402, 405, 409, 410, 413, 418])
@BOTH
def test_other_4xx_are_permanent(send: Callable[[OneInboxClient], object], status: int) -> None:
    client, _ = make_client(answer(status, {"detail": "nope"}))
    with pytest.raises(Permanent) as caught:
        send(client)
    assert type(caught.value) is Permanent
    assert caught.value.status_code == status and caught.value.detail == "nope"


def test_redirect_is_permanent_not_followed() -> None:
    client, rec = make_client(answer(307, "", headers={"Location": "https://elsewhere/v1/calls"}))
    with pytest.raises(Permanent) as caught:
        client.create_call(a_request())
    assert "base URL" in caught.value.hint
    assert len(rec.requests) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_after_post_is_ambiguous(status: int) -> None:
    client, rec = make_client(answer(status, "<html>Bad gateway</html>"))
    with pytest.raises(Ambiguous) as caught:
        client.create_call(a_request())
    assert caught.value.status_code == status
    assert caught.value.detail == "<html>Bad gateway</html>"
    assert len(rec.requests) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_on_get_is_retryable(status: int) -> None:
    client, _ = make_client(answer(status, {"detail": "upstream down"}))
    with pytest.raises(Retryable) as caught:
        client.get_call("c1")
    assert type(caught.value) is Retryable
    assert caught.value.status_code == status and caught.value.detail == "upstream down"


@BOTH
def test_429_is_rate_limited_with_seconds(send: Callable[[OneInboxClient], object]) -> None:
    client, _ = make_client(answer(429, {"detail": "slow down"}, headers={"Retry-After": "7"}))
    with pytest.raises(RateLimited) as caught:
        send(client)
    assert caught.value.retry_after == 7.0
    assert caught.value.status_code == 429 and caught.value.detail == "slow down"


def test_429_with_http_date() -> None:
    when = "Mon, 01 Jun 2026 12:00:30 GMT"
    response = httpx.Response(
        429, headers={"Retry-After": when}, request=httpx.Request("POST", f"{BASE}/v1/calls")
    )
    with pytest.raises(RateLimited) as caught:
        raise_for_response(response, method="POST", now=lambda: NOW)
    assert caught.value.retry_after == 30.0


def test_429_without_retry_after() -> None:
    client, _ = make_client(answer(429, "Too many"))
    with pytest.raises(RateLimited) as caught:
        client.get_call("c1")
    assert caught.value.retry_after is None and caught.value.detail == "Too many"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("7", 7.0),
        (" 120 ", 120.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("Mon, 01 Jun 2026 12:01:00 GMT", 60.0),
        ("Mon, 01 Jun 2026 11:00:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


CAP = "Daily call limit reached (100 calls per day); resets at 00:00 UTC"


@pytest.mark.parametrize("status", [402, 403, 429, 400])
def test_daily_cap_waits_until_utc_midnight(status: int) -> None:
    response = httpx.Response(
        status, json={"detail": CAP}, request=httpx.Request("POST", f"{BASE}/v1/calls")
    )
    with pytest.raises(RateLimited) as caught:
        raise_for_response(response, method="POST", now=lambda: NOW)
    assert caught.value.retry_after == 12 * 3600
    assert caught.value.hint == DAILY_CAP_HINT and caught.value.status_code == status


def test_daily_cap_keeps_a_longer_retry_after() -> None:
    response = httpx.Response(429, json={"detail": CAP}, headers={"Retry-After": "90000"})
    with pytest.raises(RateLimited) as caught:
        raise_for_response(response, method="POST", now=lambda: NOW)
    assert caught.value.retry_after == 90000


def test_daily_cap_through_the_client() -> None:
    client, rec = make_client(answer(402, {"detail": CAP}))
    with pytest.raises(RateLimited) as caught:
        client.create_call(a_request())
    assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 86400
    assert len(rec.requests) == 1


@pytest.mark.parametrize(
    ("now", "seconds"),
    [
        (NOW, 43200.0),
        (datetime(2026, 6, 1, tzinfo=UTC), 86400.0),
        (datetime(2026, 6, 1, 21, 0, tzinfo=timezone(timedelta(hours=-2))), 3600.0),
    ],
)
def test_seconds_until_utc_midnight(now: datetime, seconds: float) -> None:
    assert seconds_until_utc_midnight(now) == seconds


def test_raise_for_response_passes_2xx() -> None:
    for status in (200, 201, 204):
        raise_for_response(httpx.Response(status), method="POST")


def test_response_without_request_still_translates() -> None:
    with pytest.raises(Ambiguous) as caught:
        raise_for_response(httpx.Response(500, text="oops"), method="post")
    assert caught.value.detail == "oops"


# -- unusable success bodies --------------------------------------------------------------


@pytest.mark.parametrize("body", ["<html>ok</html>", {"no": "id"}, ["a", "list"]])
def test_unusable_2xx_after_post_is_ambiguous(body: Any) -> None:
    client, _ = make_client(answer(201, body))
    with pytest.raises(Ambiguous):
        client.create_call(a_request())


@pytest.mark.parametrize("body", ["<html>ok</html>", {"no": "id"}])
def test_unusable_2xx_on_get_is_retryable(body: Any) -> None:
    client, _ = make_client(answer(200, body))
    with pytest.raises(Retryable):
        client.get_call("c1")


def test_unusable_list_items_are_retryable() -> None:
    client, _ = make_client(answer(200, [{"no_phone_number": True}]))
    with pytest.raises(Retryable):
        client.search_numbers("US")


# -- endpoints ----------------------------------------------------------------------------


def test_create_call_posts_the_body_once() -> None:
    client, rec = make_client(answer(201, call_json(metadata={"dialer_attempt_id": "att-1"})))
    call = client.create_call(a_request())
    assert call.id == "c1" and call.metadata["dialer_attempt_id"] == "att-1"
    [request] = rec.requests
    assert (request.method, request.url.path) == ("POST", "/v1/calls")
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "agent_id": "agt",
        "to_number": "+14155551234",
        "from_number": "+15739693824",
        "variables": {},
        "metadata": {"dialer_attempt_id": "att-1"},
    }


def test_get_call_escapes_the_id() -> None:
    client, rec = make_client(answer(200, call_json("a/../b")))
    assert client.get_call("a/../b").id == "a/../b"
    assert rec.requests[0].url.raw_path == b"/v1/calls/a%2F..%2Fb"


def test_list_calls_cursor_leaves_out_unset_params() -> None:
    client, rec = make_client(answer(200, {"items": [], "next_cursor": None, "has_more": False}))
    client.list_calls_cursor()
    assert rec.requests[0].url.path == "/v1/calls/cursor"
    assert dict(rec.requests[0].url.params) == {"limit": "100"}


def cursor_pages(pages: list[list[dict[str, Any]]], *, loop: bool = False) -> Handler:
    """A cursor endpoint serving `pages`; with `loop`, the last page points back at itself."""

    def reply(request: httpx.Request) -> httpx.Response:
        index = int(request.url.params.get("cursor", "0"))
        last = index == len(pages) - 1
        nxt = str(index) if loop and last else (None if last else str(index + 1))
        body = {
            "items": pages[index],
            "next_cursor": nxt,
            "has_more": nxt is not None,
            "limit": 100,
        }
        return httpx.Response(200, json=body)

    return reply


def _ids(pages: Iterator[Any]) -> list[str]:
    return [call.id for page in pages for call in page.items]


def test_cursor_pages_are_walked_to_the_end() -> None:
    pages = [[call_json("a"), call_json("b")], [call_json("c")], [call_json("d")]]
    client, rec = make_client(cursor_pages(pages))
    assert _ids(client.iter_cursor_pages(agent_id="agt")) == ["a", "b", "c", "d"]
    assert [r.url.params.get("cursor") for r in rec.requests] == [None, "1", "2"]
    assert all(r.url.params["agent_id"] == "agt" for r in rec.requests)


def test_cursor_pages_stop_on_a_repeated_cursor() -> None:
    client, rec = make_client(cursor_pages([[call_json("a")], [call_json("b")]], loop=True))
    assert _ids(client.iter_cursor_pages()) == ["a", "b"]
    assert len(rec.requests) == 2


def test_cursor_pages_honour_max_pages() -> None:
    client, rec = make_client(cursor_pages([[call_json("a")], [call_json("b")]]))
    assert _ids(client.iter_cursor_pages(max_pages=1)) == ["a"]
    assert len(rec.requests) == 1


def test_cursor_pages_are_read_lazily() -> None:
    client, rec = make_client(cursor_pages([[call_json("a")], [call_json("b")]]))
    pages: Iterator[Any] = client.iter_cursor_pages()
    assert rec.requests == []
    next(pages)
    assert len(rec.requests) == 1


def test_get_usage() -> None:
    client, rec = make_client(answer(200, {"calls_remaining_today": 3, "max_calls_per_day": 5}))
    assert client.get_usage().calls_remaining_today == 3
    assert rec.requests[0].url.path == "/v1/usage"


def test_agents() -> None:
    agent = {"id": "agt", "name": "Sales", "llm_id": "m"}
    client, rec = make_client(answer(200, agent))
    assert client.get_agent("agt").name == "Sales"
    assert rec.requests[0].url.path == "/v1/agents/agt"
    client, rec = make_client(answer(200, {"items": [agent], "total": 1, "limit": 5, "offset": 0}))
    assert client.list_agents(limit=5).items[0].id == "agt"
    assert dict(rec.requests[0].url.params) == {"limit": "5", "offset": "0"}


@pytest.mark.parametrize(
    "body",
    [
        [{"phone_number": "+14155550100"}],
        {"items": [{"phone_number": "+14155550100"}]},
        {"numbers": [{"phone_number": "+14155550100"}]},
    ],
)
def test_search_numbers_accepts_list_or_envelope(body: Any) -> None:
    client, rec = make_client(answer(200, body))
    found = client.search_numbers("US", area_code="415", limit=5)
    assert [n.phone_number for n in found] == ["+14155550100"]
    assert rec.requests[0].url.path == "/v1/phone-numbers/search"
    assert dict(rec.requests[0].url.params) == {"country": "US", "area_code": "415", "limit": "5"}


def test_search_numbers_with_unknown_shape_is_empty() -> None:
    client, _ = make_client(answer(200, {"something": "else"}))
    assert client.search_numbers("US") == []


def test_register_and_list_numbers() -> None:
    number = {
        "id": "phn",
        "phone_number": "+15739693824",
        "provider": "twilio",
        "agent_id": "agt",
        "status": "active",
    }
    client, rec = make_client(answer(201, number))
    registered = client.register_number("+15739693824", "twilio", "agt", friendly_name="Main")
    assert registered.status == "active"
    assert json.loads(rec.requests[0].content) == {
        "phone_number": "+15739693824",
        "provider": "twilio",
        "agent_id": "agt",
        "friendly_name": "Main",
    }
    client, rec = make_client(answer(200, {"items": [number], "total": 1}))
    assert [n.id for n in client.list_numbers()] == ["phn"]
    assert (rec.requests[0].method, rec.requests[0].url.path) == ("GET", "/v1/phone-numbers")


def test_credentials() -> None:
    cred = {"id": "crd", "name": "tw", "provider": "twilio", "created_at": "2026-06-01T00:00:00Z"}
    client, rec = make_client(answer(201, cred))
    assert client.create_credential("tw", "twilio", SecretStr("sk_third_party")).id == "crd"
    assert json.loads(rec.requests[0].content) == {
        "name": "tw",
        "provider": "twilio",
        "api_key": "sk_third_party",
    }


# -- finding an uncertain create again ----------------------------------------------------


def aged(call_id: str, minutes_ago: int, attempt: str | None = None) -> dict[str, Any]:
    meta = {"dialer_attempt_id": attempt} if attempt else {"dialer_attempt_id": "other"}
    created = (NOW - timedelta(minutes=minutes_ago)).isoformat()
    return call_json(call_id, created_at=created, metadata=meta)


def find(client: OneInboxClient, attempt: str = "att-1", max_pages: int = 10) -> Any:
    return client.find_call_by_metadata(
        "agt",
        "dialer_attempt_id",
        attempt,
        created_after=NOW - timedelta(minutes=10),
        max_pages=max_pages,
    )


def test_find_call_by_metadata_across_pages() -> None:
    pages = [[aged("a", 1), aged("b", 2)], [aged("c", 3)], [aged("d", 4, "att-1"), aged("e", 5)]]
    client, rec = make_client(cursor_pages(pages))
    found = find(client)
    assert found is not None and found.id == "d"
    assert len(rec.requests) == 3
    assert all(r.method == "GET" and r.url.params["agent_id"] == "agt" for r in rec.requests)


def test_find_stops_after_the_page_that_reaches_before_the_window() -> None:
    pages = [[aged("a", 1)], [aged("b", 9), aged("c", 11)], [aged("d", 12, "att-1")]]
    client, rec = make_client(cursor_pages(pages))
    assert find(client) is None
    assert len(rec.requests) == 2


def test_find_still_matches_on_the_page_that_reaches_before_the_window() -> None:
    pages = [[aged("a", 1)], [aged("c", 11), aged("b", 12, "att-1")], [aged("z", 20)]]
    client, rec = make_client(cursor_pages(pages))
    assert find(client).id == "b"
    assert len(rec.requests) == 2


def test_find_that_runs_out_of_pages_is_undecided_not_a_no() -> None:
    pages = [[aged(str(i), 1)] for i in range(5)] + [[aged("x", 1, "att-1")]]
    client, rec = make_client(cursor_pages(pages))
    with pytest.raises(Retryable, match="not found yet"):
        find(client, max_pages=3)
    assert len(rec.requests) == 3


def test_find_ends_with_the_list() -> None:
    client, rec = make_client(cursor_pages([[aged("a", 1)], []]))
    assert find(client) is None
    assert len(rec.requests) == 2


def test_find_ignores_calls_without_created_at_for_the_stop_rule() -> None:
    pages = [[call_json("a")], [call_json("b", metadata={"dialer_attempt_id": "att-1"})]]
    client, _ = make_client(cursor_pages(pages))
    assert find(client).id == "b"


def test_find_every_call_of_an_attempt_reads_back_to_the_window() -> None:
    pages = [[aged("a", 1, "att-1"), aged("b", 2)], [aged("c", 9, "att-1"), aged("d", 11)], []]
    client, rec = make_client(cursor_pages(pages))
    found = client.find_calls_by_metadata(
        "agt", "dialer_attempt_id", "att-1", created_after=NOW - timedelta(minutes=10), max_pages=9
    )
    assert [c.id for c in found] == ["a", "c"]
    assert len(rec.requests) == 2


def test_find_matches_non_string_metadata_values() -> None:
    pages = [[call_json("a", metadata={"contact_row": 17})]]
    client, _ = make_client(cursor_pages(pages))
    found = client.find_call_by_metadata("agt", "contact_row", "17", created_after=NOW, max_pages=1)
    assert found is not None and found.id == "a"


def test_find_accepts_a_naive_created_after() -> None:
    pages = [[aged("a", 1)], [aged("b", 11)], [aged("c", 12, "att-1")]]
    client, rec = make_client(cursor_pages(pages))
    naive = (NOW - timedelta(minutes=10)).replace(tzinfo=None)
    found = client.find_call_by_metadata(
        "agt", "dialer_attempt_id", "att-1", created_after=naive, max_pages=5
    )
    assert found is None and len(rec.requests) == 2


def test_find_propagates_errors_without_resending() -> None:
    client, rec = make_client(answer(503, "down"))
    with pytest.raises(Retryable):
        find(client)
    assert len(rec.requests) == 1
