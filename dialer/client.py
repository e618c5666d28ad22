"""The OneInbox API client: one method per endpoint the dialer uses, models in and out.

The client receives its HTTP client (`dialer.http.make_http_client`) and sends each
request exactly once: retrying is the caller's decision, made from the error class
(`Retryable`, `Ambiguous`, `Permanent`, `AuthError`). After an `Ambiguous` create, use
`find_call_by_metadata` to learn whether the call exists before sending it again.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from dialer.errors import Retryable
from dialer.http import OneInboxHttp, raise_for_response, raise_unclear, read_json, translate_errors
from dialer.models import (
    Agent,
    AgentPage,
    AvailableNumber,
    Call,
    CallCursorPage,
    CallRequest,
    Credential,
    PhoneNumber,
    Usage,
)

ModelT = TypeVar("ModelT", bound=BaseModel)

# Envelope keys tried, in order, when an undocumented list endpoint wraps its items.
LIST_KEYS = ("items", "numbers", "available_numbers", "results", "data")


def _segment(value: str) -> str:
    """A path segment with everything escaped, so an id can never change the route."""
    return quote(value, safe="")


def _params(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _validated(model: type[ModelT], method: str, path: str, data: Any) -> ModelT:
    """`data` as a `model`; a body that is not one is `unclear_error(method)`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise_unclear(method, f"{path} returned a body that is not a {model.__name__}", exc)


def _items(data: Any) -> list[Any]:
    """The list inside a response that is either a bare list or an envelope around one."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in LIST_KEYS:
            if isinstance(data.get(key), list):
                return list(data[key])
    return []


class OneInboxClient:
    """Typed access to the OneInbox API over the client `make_http_client` builds."""

    def __init__(self, http: OneInboxHttp) -> None:
        self._http = http

    def __repr__(self) -> str:
        return f"OneInboxClient(base_url={str(self._http.base_url)!r})"

    # -- plumbing -------------------------------------------------------------------------

    def _send(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Any = None
    ) -> Any:
        """Send once, translate every failure, return the decoded JSON body."""
        return self._exchange(self._http.prepare(method, path, params=params, body=body))

    def _exchange(self, request: httpx.Request) -> Any:
        """Send a built request once, translate every failure, return the decoded JSON body."""
        with translate_errors(request.method):
            response = self._http.send_prepared(request)
        raise_for_response(response, method=request.method)
        return read_json(response, method=request.method)

    def _model(self, model: type[ModelT], method: str, path: str, **kw: Any) -> ModelT:
        return _validated(model, method, path, self._send(method, path, **kw))

    def _model_list(self, model: type[ModelT], path: str, **kw: Any) -> list[ModelT]:
        data = self._send("GET", path, **kw)
        try:
            return [model.model_validate(item) for item in _items(data)]
        except ValidationError as exc:
            raise_unclear("GET", f"{path} returned items that are not {model.__name__}", exc)

    # -- calls ----------------------------------------------------------------------------

    def create_call(self, req: CallRequest) -> Call:
        """`POST /v1/calls`: place one call. `Ambiguous` means it may exist: reconcile first."""
        return self.send_create(self.prepare_create(req))

    def prepare_create(self, req: CallRequest) -> httpx.Request:
        """The `POST /v1/calls` for `req`, built whole (URL, headers, JSON body), so that
        `send_create` has next to nothing to do before its bytes leave."""
        return self._http.prepare("POST", "/v1/calls", body=req.to_body())

    def send_create(self, request: httpx.Request) -> Call:
        """Send a create built by `prepare_create`, once; errors as `create_call`'s."""
        return _validated(Call, "POST", "/v1/calls", self._exchange(request))

    def get_call(self, call_id: str) -> Call:
        """`GET /v1/calls/{call_id}`."""
        return self._model(Call, "GET", f"/v1/calls/{_segment(call_id)}")

    def list_calls_cursor(
        self,
        *,
        agent_id: str | None = None,
        status: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> CallCursorPage:
        """`GET /v1/calls/cursor`: one cursor page; pass its `next_cursor` for the next."""
        params = _params(agent_id=agent_id, status=status, limit=limit, cursor=cursor)
        return self._model(CallCursorPage, "GET", "/v1/calls/cursor", params=params)

    def iter_cursor_pages(
        self,
        *,
        agent_id: str | None = None,
        status: str | None = None,
        limit: int = 100,
        max_pages: int | None = None,
    ) -> Iterator[CallCursorPage]:
        """Walk the cursor pages until `has_more` is false, the cursor repeats or runs out,
        or `max_pages` pages have been read."""
        cursor: str | None = None
        seen: set[str] = set()
        pages = 0
        while max_pages is None or pages < max_pages:
            page = self.list_calls_cursor(
                agent_id=agent_id, status=status, limit=limit, cursor=cursor
            )
            pages += 1
            yield page
            cursor = page.next_cursor
            if not page.has_more or not cursor or cursor in seen:
                return
            seen.add(cursor)

    def find_call_by_metadata(
        self, agent_id: str, key: str, value: str, *, created_after: datetime, max_pages: int
    ) -> Call | None:
        """The agent's newest call whose `metadata[key] == value`, or None.

        This is how an `Ambiguous` create is found again. The list has no server-side metadata
        filter, so pages are read newest first (assumed: the order is undocumented) and matched
        here. The walk stops at the first match, after the first page holding a call created
        before `created_after` (give it a margin for clock skew; a naive datetime is taken as
        UTC), or at the end of the list. After `max_pages` pages with more to read it raises
        `Retryable`: "not found" is only said of a search that went back far enough.
        """
        for page in self._pages_back_to(agent_id, created_after, max_pages):
            match = _match_metadata(page, key, value)
            if match:
                return match[0]
        return None

    def find_calls_by_metadata(
        self, agent_id: str, key: str, value: str, *, created_after: datetime, max_pages: int
    ) -> list[Call]:
        """Every call of the agent whose `metadata[key] == value`, newest first: the whole
        list back to `created_after` is read (as `find_call_by_metadata`, without stopping at
        the first match)."""
        found: list[Call] = []
        for page in self._pages_back_to(agent_id, created_after, max_pages):
            found += _match_metadata(page, key, value)
        return found

    def _pages_back_to(
        self, agent_id: str, created_after: datetime, max_pages: int
    ) -> Iterator[list[Call]]:
        """The agent's calls, a page at a time, newest first, until a page reaches a call
        created before `created_after` or the list ends; `Retryable` after `max_pages`."""
        if created_after.tzinfo is None:
            created_after = created_after.replace(tzinfo=UTC)
        more = False
        for page in self.iter_cursor_pages(agent_id=agent_id, max_pages=max_pages):
            yield page.items
            if _reaches_before(page.items, created_after):
                return
            more = page.has_more
        if more:  # not searched back far enough: undecided
            raise Retryable(
                f"the call list was searched {max_pages} pages deep without reaching "
                f"{created_after:%H:%M:%S} UTC; not found yet"
            )

    # -- account, agents, numbers, credentials ------------------------------------------------

    def get_usage(self) -> Usage:
        """`GET /v1/usage`: today's and this month's call counts against the daily cap."""
        return self._model(Usage, "GET", "/v1/usage")

    def get_agent(self, agent_id: str) -> Agent:
        """`GET /v1/agents/{agent_id}`."""
        return self._model(Agent, "GET", f"/v1/agents/{_segment(agent_id)}")

    def list_agents(self, *, limit: int = 100, offset: int = 0) -> AgentPage:
        """`GET /v1/agents`: one offset page (limit 1..100)."""
        params = _params(limit=limit, offset=offset)
        return self._model(AgentPage, "GET", "/v1/agents", params=params)

    def search_numbers(
        self,
        country: str,
        area_code: str | None = None,
        contains: str | None = None,
        credential_id: str | None = None,
        limit: int = 10,
    ) -> list[AvailableNumber]:
        """`GET /v1/phone-numbers/search`: numbers that could be bought or registered."""
        params = _params(
            country=country,
            area_code=area_code,
            contains=contains,
            credential_id=credential_id,
            limit=limit,
        )
        return self._model_list(AvailableNumber, "/v1/phone-numbers/search", params=params)

    def register_number(
        self,
        phone_number: str,
        provider: str,
        agent_id: str,
        *,
        friendly_name: str | None = None,
        credential_id: str | None = None,
        provider_config: Mapping[str, str] | None = None,
        inbound_routing: Mapping[str, Any] | None = None,
    ) -> PhoneNumber:
        """`POST /v1/phone-numbers`: register a Twilio/Telnyx number for use as `from_number`."""
        body = _params(
            phone_number=phone_number,
            provider=provider,
            agent_id=agent_id,
            friendly_name=friendly_name,
            credential_id=credential_id,
            provider_config=dict(provider_config) if provider_config else None,
            inbound_routing=dict(inbound_routing) if inbound_routing else None,
        )
        return self._model(PhoneNumber, "POST", "/v1/phone-numbers", body=body)

    def list_numbers(self, *, max_pages: int = 50) -> list[PhoneNumber]:
        """`GET /v1/phone-numbers`, every page (undocumented: a list, or an offset envelope)."""
        numbers: list[PhoneNumber] = []
        for _ in range(max_pages):
            data = self._send(
                "GET", "/v1/phone-numbers", params={"limit": 100, "offset": len(numbers)}
            )
            items = _items(data)
            try:
                numbers += [PhoneNumber.model_validate(item) for item in items]
            except ValidationError as exc:
                raise_unclear("GET", "/v1/phone-numbers returned items that are not numbers", exc)
            total = data.get("total") if isinstance(data, dict) else None
            if not items or not isinstance(total, int) or len(numbers) >= total:
                break
        return numbers

    def create_credential(self, name: str, provider: str, api_key: str | SecretStr) -> Credential:
        """`POST /v1/credentials`: store a third-party key; it is never returned again."""
        raw = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
        body = {"name": name, "provider": provider, "api_key": raw}
        return self._model(Credential, "POST", "/v1/credentials", body=body)


def _match_metadata(calls: list[Call], key: str, value: str) -> list[Call]:
    return [c for c in calls if c.metadata.get(key) is not None and str(c.metadata[key]) == value]


def _reaches_before(calls: list[Call], created_after: datetime) -> bool:
    return any(c.created_at is not None and c.created_at < created_after for c in calls)
