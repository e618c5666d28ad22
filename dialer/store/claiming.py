"""The claim gate, the store's side: every create passes `Store.claim` (dialer/store/lua/claim.lua),
which checks the campaign's limits and its account's in one atomic step, and `pass_send_guard`
right before the POST when the claim could not pass the send guard itself."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dialer.account import NO_LIMITS, NO_RULES, AccountLimits, NumberRules
from dialer.pace import Pace, micros, seconds
from dialer.store.account import Accounts
from dialer.store.contact import ContactRecord, ContactState
from dialer.store.keys import script_keys

log = logging.getLogger("dialer.store")
TEST_CALL = "test-call"  # the campaign a test call is noted as in the ledger
HELD_BY_GAP = "held by the re-call gap"  # how a contact the gap holds says why it waits


@dataclass(frozen=True)
class Claim:
    """The answer of the claim gate: won, or why not and how long to wait."""

    won: bool
    reason: str
    wait_s: float = 0.0
    send: int = 0
    contact: ContactRecord | None = None  # the contact as the claim left it (when won)
    guard_passed: bool = False  # the send guard let this create go already: send it now
    waiting: str = ""  # why the contact waits, for people (when held by the number's rules)


class Claims(Accounts):
    """Part of `Store`: the claim gate and the send guard."""

    _claim_script: Any  # the registered scripts (`Store.__init__`)
    _send_script: Any

    def claim(
        self,
        cid: str,
        row: int,
        *,
        pace: Pace,
        max_concurrent: int,
        lease_s: float,
        stuck_s: float,
        account_defaults: AccountLimits = NO_LIMITS,
        number: str = "",
        rules: NumberRules = NO_RULES,
    ) -> Claim:
        """Pass the dial gate: campaign running, contact pending, a concurrency slot free (then
        held `lease_s`; the contact is looked at again after `stuck_s`), and a send slot of the
        pace at most `pace.max_wait_s` away (`wait_s` says how far: send then). With a
        `pace.send_limit`, a claim whose slot is now also passes the send guard (see
        `pass_send_guard`) when it can, and says so in `guard_passed`. The campaign's account
        limits (`limits`, else `account_defaults`) are passed in the same step, and so are
        the rules of calls to the contact's `number` across the account's campaigns (`rules`:
        the gap after another campaign's call, the calls allowed per 24 hours); a contact
        held by them says why in `waiting`. The gap does not hold a contact for calls by the
        campaign's retry lineage (`lineage`: their spacing is the retry delay). A contact
        whose number is not `number` is refused `not_pending`.
        """
        args: list[int | str] = [row, max_concurrent, _ms(lease_s), _ms(stuck_s)]
        args += _pace_args(pace)
        args += account_defaults.script_args()
        args += [cid if number else "", _ms(rules.min_gap_s), rules.calls_per_day]
        args.append(number)
        keys = script_keys("claim", cid, row, self.account_of(cid), number)
        won, reason, third, *rest = self._claim_script(keys=keys, args=args)
        if won:
            log_transition(cid, row, ContactState.PENDING.value, ContactState.DIALING.value, {})
            wait_us, flat, guarded = rest
            contact = ContactRecord.from_redis(row, dict(zip(flat[::2], flat[1::2], strict=True)))
            return Claim(True, "ok", seconds(wait_us), int(third), contact, bool(guarded))
        if reason == ContactState.SUPPRESSED.value:
            log_transition(cid, row, ContactState.PENDING.value, str(reason), {})
        held = held_text(str(reason), third, rest) if rest else ""
        return Claim(False, str(reason), wait_s=seconds(third), waiting=held)

    def claim_test_call(
        self,
        account: str,
        number: str,
        *,
        account_defaults: AccountLimits = NO_LIMITS,
        rules: NumberRules = NO_RULES,
    ) -> Claim:
        """Pass the same gate for a test call to `number` on `account`: its do-not-call list,
        concurrency, pace and send guard, and the number's gap and daily limit (not the calling
        window: it rings the user's own phone; nor a campaign's limits: it has none). Won, it
        is in the ledger as campaign `TEST_CALL`'s and may be sent after `wait_s`; refused,
        `reason` and `waiting` say why."""
        args: list[int | str] = ["", 1, 0, 0, *_pace_args(Pace(interval_s=1e-6))]
        args += account_defaults.script_args()
        args += [TEST_CALL, _ms(rules.min_gap_s), rules.calls_per_day, number]
        keys = script_keys("claim", TEST_CALL, 0, account, number)
        won, reason, third, *rest = self._claim_script(keys=keys, args=args)
        if won:
            return Claim(True, "ok", seconds(rest[0]), guard_passed=True)
        held = held_text(str(reason), third, rest) if rest else ""
        return Claim(False, str(reason), wait_s=seconds(third), waiting=held)

    def pass_send_guard(
        self, cid: str, pace: Pace, account_defaults: AccountLimits = NO_LIMITS
    ) -> float:
        """Ask to send one create now: 0.0 when it may go (the send is counted), else the
        seconds to wait before asking again. At most `pace.send_limit` sends pass in any
        `pace.guard_window_s`, on Redis's clock, whatever the number of workers; and as many
        as the account's rate allows, for all its campaigns together."""
        args = [pace.send_limit, micros(pace.guard_window_s), account_defaults.script_args()[1]]
        keys = script_keys("send", cid, account=self.account_of(cid))
        return seconds(self._send_script(keys=keys, args=args))


def held_text(reason: str, wait_us: int | str, rest: list[Any]) -> str:
    """Why a contact held by its number's rules waits, for people: who called it and when it
    may be called again (times in UTC)."""
    if reason not in ("gap", "daily_limit"):
        return ""
    by, at_ms = str(rest[0]), int(rest[1])
    at = datetime.fromtimestamp(at_ms / 1000, UTC)
    allowed = datetime.now(UTC).timestamp() + seconds(wait_us)
    next_at = datetime.fromtimestamp(allowed, UTC)
    if reason == "gap":
        return (
            f"{HELD_BY_GAP}: called by campaign {by} at {at:%H:%M} UTC, next at {next_at:%H:%M} UTC"
        )
    return f"called as often as its state allows in 24 hours, next allowed {next_at:%H:%M} UTC"


def _ms(duration_s: float) -> int:
    """Seconds as the whole milliseconds the scripts' leases count in, never negative."""
    return max(0, round(duration_s * 1000))


def _pace_args(pace: Pace) -> list[int]:
    """The claim script's pace arguments (ARGV 5 to 8), in its microseconds."""
    interval_us, max_wait_us = micros(pace.interval_s), micros(pace.max_wait_s)
    return [interval_us, max_wait_us, pace.send_limit, micros(pace.guard_window_s)]


def log_transition(cid: str, row: int, before: str, after: str, fields: Mapping[str, str]) -> None:
    """One line per state change of a contact (the API key never passes through here)."""
    extra = {"campaign": cid, "row": row, "from_state": before, "to_state": after}
    for name in ("call_id", "error", "waiting"):
        if fields.get(name):
            extra[name] = fields[name]
    log.info("transition", extra=extra)
