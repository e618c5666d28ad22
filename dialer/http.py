"""The one place that builds the httpx.Client and turns httpx outcomes into our error tree.

The rule is "what must the caller do", decided by the HTTP method:

- a transport error before the request left (connect error, connect or pool timeout, proxy
  refusal, unsupported scheme) is `Retryable` for every method;
- any other transport error is `Ambiguous` on a POST/PATCH (the provider may have acted) and
  `Retryable` on an idempotent method (GET, HEAD, OPTIONS, PUT, DELETE);
- 5xx and unreadable 2xx bodies follow the same split; 429 is `RateLimited`, 401/403
  `AuthError`, 404 `NotFound` and every other 4xx `Permanent`;
- two refusals are read from the provider's message rather than the status, because the docs
  give them no status of their own: the daily call cap (any 4xx) is `RateLimited` until the
  00:00 UTC reset, and a destination region not enabled (400/403/422) is `Permanent` with the
  geo-permissions hint, never `AuthError`.

Nothing here retries: the transport (`dialer.transport`) sends each request once, on purpose.
"""

from __future__ import annotations

import importlib.metadata
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, NoReturn

import httpx
from pydantic import SecretStr

from dialer.endpoint import check_base_url, warn_if_not_default
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
from dialer.transport import StdlibTransport

log = logging.getLogger(__name__)

MAX_DETAIL = 500
AUTH_HINT = "use the secret api_key (oi_sk_...) from the OneInbox dashboard, API Keys"
AGENT_HINT = "re-copy the agent_id from the dashboard"
FROM_NUMBER_HINT = (
    "from_number must be a number registered with OneInbox (dashboard, Phone Numbers)"
)
DAILY_CAP_HINT = "the daily call cap (max_calls_per_day, see GET /v1/usage) resets at 00:00 UTC"
DAILY_CAP_PATTERN = re.compile(
    r"daily (call )?(limit|cap|quota)|max_calls_per_day|calls? per day", re.IGNORECASE
)
NUMBER_HINT = "numbers must be E.164, like +14155551234"
GEO_HINT = "enable the destination region (geo permissions) in your carrier console"
NUMBER_PATTERN = re.compile(
    r"e\.?164|\^\\\+\[1-9\]"
    r"|(to_number|from_number|phone_number|phone number)\b[^;]{0,80}(pattern|format|invalid)",
    re.IGNORECASE,
)
GEO_PATTERN = re.compile(
    r"international|geo[-_ ]?permission"
    r"|(region|country|destination)\b.{0,60}\b(not (enabled|allowed|permitted|supported)"
    r"|disabled|blocked)"
    r"|not (enabled|allowed|permitted|authori[sz]ed)\b.{0,60}\b(region|country|destination)",
    re.IGNORECASE,
)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

# Raised before a single byte of the request reached OneInbox: always safe to send again.
NOT_SENT: tuple[type[httpx.HTTPError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
)


def user_agent() -> str:
    """`dialer/<version>` for the User-Agent header."""
    try:
        version = importlib.metadata.version("dialer")
    except importlib.metadata.PackageNotFoundError:
        version = "0+unknown"
    return f"dialer/{version}"


def make_http_client(
    base_url: str,
    api_key: str | SecretStr,
    *,
    connect_timeout: float,
    read_timeout: float,
    transport: httpx.BaseTransport | None = None,
) -> OneInboxHttp:
    """An httpx.Client for OneInbox: Bearer auth, explicit timeouts, no retries, no redirects.

    The base URL must pass `check_base_url` (https, or http to this machine): the key is in
    every request.

    `transport` is for tests (`httpx.MockTransport`); by default `dialer.transport`'s (httpx's
    own `HTTPTransport(retries=0)` gives the same answers and errors, at three times the CPU).
    """
    key = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
    key = key.strip()
    if not key:
        raise ConfigError("the OneInbox API key is empty")
    check_base_url(base_url)
    warn_if_not_default(base_url)
    timeout = httpx.Timeout(
        connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout
    )
    return OneInboxHttp(
        base_url=base_url,
        headers={
            "Authorization": f"Bearer {key}",
            "User-Agent": user_agent(),
            "Accept": "application/json",
        },
        timeout=timeout,
        transport=transport if transport is not None else StdlibTransport(),
        follow_redirects=False,
    )


class OneInboxHttp(httpx.Client):
    """The client `make_http_client` builds, with `exchange`: one request straight to the
    transport, past the layers `httpx.Client.request` adds and OneInbox needs none of (cookies,
    auth flows, redirects, event hooks: about 300 us a request of a worker's CPU)."""

    def __init__(self, *, transport: httpx.BaseTransport, **kwargs: Any) -> None:
        super().__init__(transport=transport, **kwargs)
        self._direct = transport
        self._origin = str(self.base_url).rstrip("/")
        self._raw_headers = list(self.headers.raw)
        self._timeouts = self.timeout.as_dict()

    def exchange(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Any = None
    ) -> httpx.Response:
        """Send `method path` (the path escaped already) with the client's headers and
        timeouts, `body` as JSON; the whole answer, read. Raises what the transport raises."""
        return self.send_prepared(self.prepare(method, path, params=params, body=body))

    def prepare(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Any = None
    ) -> httpx.Request:
        """The request `exchange` sends, built whole (URL, headers, JSON body)."""
        url = httpx.URL(self._origin + path, params=params) if params else self._origin + path
        return httpx.Request(
            method,
            url,
            headers=self._raw_headers,
            json=body,
            extensions={"timeout": self._timeouts},
        )

    def send_prepared(self, request: httpx.Request) -> httpx.Response:
        """Send a request `prepare` built, once; the whole answer, read."""
        response = self._direct.handle_request(request)
        response.request = request
        response.read()
        return response


def is_idempotent(method: str) -> bool:
    """True for methods that may be sent twice without doing the thing twice."""
    return method.upper() in IDEMPOTENT_METHODS


def unclear_error(method: str) -> type[ProviderError]:
    """The class for "no usable answer": Ambiguous on POST/PATCH, Retryable otherwise."""
    return Retryable if is_idempotent(method) else Ambiguous


def error_for_exception(exc: httpx.HTTPError, *, method: str) -> ProviderError:
    """Translate one httpx exception raised while sending `method` into our error tree."""
    if isinstance(exc, httpx.HTTPStatusError):
        return error_for_response(exc.response, method=method)
    request = _request_of(exc)
    detail = redact(f"{type(exc).__name__}: {exc}", _bearer_token(request))
    what = f"{method} {request.url.path}" if request is not None else method
    if isinstance(exc, NOT_SENT):
        return Retryable(f"{what} was not sent", detail=detail)
    if unclear_error(method) is Ambiguous:
        return Ambiguous(f"{what} may have been processed: no answer arrived", detail=detail)
    return Retryable(f"{what} failed in transport", detail=detail)


@contextmanager
def translate_errors(method: str) -> Iterator[None]:
    """Run an httpx call; re-raise any httpx error as the matching `ProviderError`."""
    try:
        yield
    except httpx.HTTPError as exc:
        error = error_for_exception(exc, method=method)
        log.debug("%s transport error -> %s", method, type(error).__name__)
        raise error from exc


def error_for_response(
    response: httpx.Response, *, method: str, now: Callable[[], datetime] | None = None
) -> ProviderError:
    """The error for a non-2xx response, carrying its status, detail and a hint."""
    request = _request_of(response)
    method = method.upper()
    status = response.status_code
    detail = redact(readable_detail(response), _bearer_token(request))
    path = request.url.path if request is not None else ""
    message = f"{method} {path} answered HTTP {status}".replace("  ", " ")
    kw: dict[str, Any] = {"status_code": status, "detail": detail}
    daily_cap = status < 500 and DAILY_CAP_PATTERN.search(detail) is not None
    if status == 429 or daily_cap:
        clock = now or (lambda: datetime.now(UTC))
        header = response.headers.get("Retry-After")
        return _rate_limited(message, header, clock(), daily_cap=daily_cap, kw=kw)
    if status >= 500:
        return unclear_error(method)(message, **kw)
    return _client_error(message, status, path, kw)


def _rate_limited(
    message: str, header: str | None, now: datetime, *, daily_cap: bool, kw: dict[str, Any]
) -> RateLimited:
    """429, or the daily call cap (whatever its status): nothing was created, wait."""
    after = parse_retry_after(header, now=now)
    if not daily_cap:
        return RateLimited(message, retry_after=after, **kw)
    until_reset = seconds_until_utc_midnight(now)
    after = until_reset if after is None else max(after, until_reset)
    return RateLimited(message, retry_after=after, hint=DAILY_CAP_HINT, **kw)


def seconds_until_utc_midnight(now: datetime) -> float:
    """Seconds from `now` to the next 00:00 UTC, when OneInbox resets its daily figures."""
    now = now.astimezone(UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), time(), tzinfo=UTC)
    return (midnight - now).total_seconds()


def _client_error(message: str, status: int, path: str, kw: dict[str, Any]) -> ProviderError:
    detail: str = kw["detail"]
    geo = _hint_for_detail(detail) == GEO_HINT
    if status in (401, 403) and not geo:
        return AuthError(message, hint=AUTH_HINT, **kw)
    if status == 404:
        return NotFound(message, hint=_not_found_hint(path, detail), **kw)
    if 300 <= status < 400:
        return Permanent(message, hint="check the base URL (redirects are not followed)", **kw)
    return Permanent(message, hint=_hint_for_detail(detail), **kw)


def raise_for_response(
    response: httpx.Response, *, method: str, now: Callable[[], datetime] | None = None
) -> None:
    """Return quietly on 2xx; otherwise raise the matching `ProviderError`."""
    if response.is_success:
        return
    error = error_for_response(response, method=method, now=now)
    log.debug("%s -> HTTP %s -> %s", method, response.status_code, type(error).__name__)
    raise error


def read_json(response: httpx.Response, *, method: str) -> Any:
    """The JSON body of a 2xx response; an unreadable one is `unclear_error(method)`."""
    try:
        return response.json()
    except ValueError as exc:
        raise_unclear(method, f"HTTP {response.status_code} with a body that is not JSON", exc)


def raise_unclear(method: str, message: str, cause: Exception) -> NoReturn:
    """Raise Ambiguous (POST/PATCH) or Retryable (idempotent) for an unusable success."""
    raise unclear_error(method)(f"{method}: {message}", detail=str(cause)[:300]) from cause


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or HTTP-date); None if absent
    or unreadable. A date in the past gives 0."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def readable_detail(response: httpx.Response) -> str:
    """The provider's message in one readable line, whatever the body looks like.

    FastAPI validation lists become `body.to_number: String should match pattern ...`; the
    offending `input` values are left out on purpose (they may be secrets or personal data).
    """
    try:
        body = response.json()
    except ValueError:
        text = " ".join(response.text.split())
        return text[:MAX_DETAIL] or response.reason_phrase
    return _flatten(body)[:MAX_DETAIL] or response.reason_phrase


def _flatten(body: Any) -> str:
    if isinstance(body, dict):
        for key in ("detail", "message", "error", "errors", "msg"):
            if body.get(key):
                return _flatten(body[key])
        return ""
    if isinstance(body, list):
        return "; ".join(part for part in (_flatten_item(item) for item in body) if part)
    return "" if body is None else str(body)


def _flatten_item(item: Any) -> str:
    if isinstance(item, dict) and "msg" in item:
        loc = ".".join(str(part) for part in item.get("loc") or ())
        return f"{loc}: {item['msg']}" if loc else str(item["msg"])
    return _flatten(item)


def redact(text: str, secret: str) -> str:
    """`text` with every occurrence of `secret` replaced (no-op for an empty secret)."""
    return text.replace(secret, "[redacted]") if secret else text


def _hint_for_detail(detail: str) -> str:
    if GEO_PATTERN.search(detail):
        return GEO_HINT
    if NUMBER_PATTERN.search(detail):
        return NUMBER_HINT
    if "agent" in detail.lower() and "not found" in detail.lower():
        return AGENT_HINT
    return ""


def _not_found_hint(path: str, detail: str) -> str:
    lowered = detail.lower()
    if "from_number" in lowered or "phone number" in lowered or "phone_number" in lowered:
        return FROM_NUMBER_HINT
    if "agent" in lowered or path.startswith("/v1/agents"):
        return AGENT_HINT
    return ""


def _request_of(thing: httpx.HTTPError | httpx.Response) -> httpx.Request | None:
    try:
        return thing.request
    except RuntimeError:
        return None


def _bearer_token(request: httpx.Request | None) -> str:
    if request is None:
        return ""
    value = str(request.headers.get("Authorization", ""))
    return value.removeprefix("Bearer ").strip()
