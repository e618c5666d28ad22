"""A test call before a campaign starts: one call to the operator's own phone, with the agent,
the from-number and the first contact's variables the campaign would use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from campaigns import lifecycle
from dialer.account import DEFAULT_ACCOUNT, NumberRules
from dialer.client import OneInboxClient
from dialer.errors import InputError, InvalidNumber
from dialer.http import make_http_client
from dialer.models import Call, CallRequest
from dialer.phone import normalize
from dialer.settings import Settings
from dialer.store import Store
from dialer.testcall import place_test_call
from workers.server import forms

TEST_METADATA = {"dialer_test_call": "1"}


def place(
    settings: Settings,
    store: Store,
    contacts: Path,
    values: dict[str, Any],
    to: str,
    variables: dict[str, str],
) -> Call:
    """Dial `to` once, as the campaign of `contacts` with run options `values` would, through
    the same claim as its calls (the account's do-not-call list, limits and the number's gap;
    not the calling window): refused, an InputError says why and nothing is dialled."""
    opts = forms.build(values, webhook_url=None)
    try:
        number = normalize(to.strip(), opts.default_region)
    except InvalidNumber as exc:
        raise InputError(f"test number {to!r}: {exc}") from exc
    config = lifecycle.campaign_of(settings, contacts, opts, "test-call")
    http = make_http_client(
        settings.base_url,
        settings.require_api_key(),
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
    )
    request = CallRequest(
        agent_id=config.agent_id,
        to_number=number,
        from_number=config.from_number,
        variables=variables,
        metadata=TEST_METADATA,
    )
    account = config.account or DEFAULT_ACCOUNT
    rules = NumberRules(config.min_gap_s, 0)
    defaults = settings.account_defaults()
    with http:
        client = OneInboxClient(http)
        return place_test_call(
            store, client, account, request, rules=rules, account_defaults=defaults
        )


def fetch(settings: Settings, call_id: str) -> Call:
    """The test call as OneInbox has it now."""
    http = make_http_client(
        settings.base_url,
        settings.require_api_key(),
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
    )
    with http:
        return OneInboxClient(http).get_call(call_id)


def in_words(call: Call) -> str:
    """Where the test call is: its status, then how it ended (reason, outcome, duration)."""
    if not call.is_final:
        return f"Test call {call.id} to {call.to_number}: {call.status}…"
    parts = [call.status]
    if call.end_reason:
        parts.append(f"ended: {call.end_reason}")
    outcome = call.outcome_label()
    if outcome:
        parts.append(f"outcome: {outcome}")
    if call.duration_seconds is not None:
        parts.append(f"{call.duration_seconds:g} s")
    summary = call.summary_text()
    said = f"Test call {call.id} to {call.to_number}: {', '.join(parts)}."
    return f"{said} {summary}" if summary else said
