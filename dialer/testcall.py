"""A test call: one call to the operator's own phone, through the same claim as a campaign's
calls (the account's do-not-call list, concurrency and pace, the number's re-call gap and daily
limit; not the calling window). Refused, it says why and nothing is dialled."""

from __future__ import annotations

from dialer.account import NO_LIMITS, AccountLimits, NumberRules
from dialer.client import OneInboxClient
from dialer.errors import InputError
from dialer.models import Call, CallRequest
from dialer.store import Claim, Store

_REFUSED = {
    "suppressed": "the number is on the account's do-not-call list",
    "account_busy": "the account has as many calls at once as its limit allows",
    "account_pace": "the account's rate allows no call now",
    "daily_limit": "the number had as many calls as allowed in 24 hours",
}


def refusal(claim: Claim) -> str:
    """Why the claim refused a test call, for people."""
    return claim.waiting or _REFUSED.get(claim.reason, claim.reason)


def place_test_call(
    store: Store,
    client: OneInboxClient,
    account: str,
    request: CallRequest,
    *,
    rules: NumberRules,
    account_defaults: AccountLimits = NO_LIMITS,
) -> Call:
    """Claim a test call to `request.to_number` on `account`, then send it; an InputError
    saying why when the claim refuses it (nothing is sent then)."""
    number = request.to_number
    claim = store.claim_test_call(account, number, account_defaults=account_defaults, rules=rules)
    if not claim.won:
        raise InputError(f"test call to {number} refused: {refusal(claim)}")
    return client.create_call(request)
