"""The OneInbox account a campaign dials on, and the limits its campaigns share.

One API key (or several keys of one account) dials for every campaign of an account, through one
carrier trunk: the carrier's calls-per-second and the account's concurrency hold for all of them
together. The account is named by DIALER_ACCOUNT, or by a fingerprint of the API key (never the
key itself), and its limits live in Redis (`dialer limits set`), so every worker and campaign
reads the same ones. A deployment may give defaults in its environment (DIALER_ACCOUNT_RATE,
DIALER_ACCOUNT_MAX_CONCURRENT); limits set in Redis win over them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from dialer.errors import ConfigError
from dialer.pace import interval_s, micros, send_limit

DEFAULT_ACCOUNT = "default"  # campaigns created before accounts existed
_ACCOUNT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_account_name(name: str) -> str:
    """An account name is 1-64 letters, digits, dots, dashes or underscores."""
    if not _ACCOUNT.match(name):
        raise ConfigError(
            f"DIALER_ACCOUNT {name!r} is not valid: use 1-64 letters, digits, '.', '-' or '_'"
        )
    return name


def fingerprint(api_key: str) -> str:
    """The account name an API key gives when DIALER_ACCOUNT is unset: the first 12 hex digits
    of its SHA-256 (it names the key without revealing it)."""
    return "key-" + hashlib.sha256(api_key.strip().encode()).hexdigest()[:12]


@dataclass(frozen=True)
class AccountLimits:
    """What all the campaigns of an account may do together (None: no limit)."""

    rate_per_s: float | None = None
    max_concurrent: int | None = None

    @property
    def any(self) -> bool:
        """True when at least one limit is set."""
        return self.rate_per_s is not None or self.max_concurrent is not None

    def script_args(self) -> list[int]:
        """The limits as the claim script reads them (0: none): the interval between two send
        slots in us, the send guard's limit, the concurrency (see `dialer.pace`)."""
        rate = self.rate_per_s
        interval = micros(interval_s(rate)) if rate else 0
        return [interval, send_limit(rate) if rate else 0, self.max_concurrent or 0]

    def to_redis(self) -> dict[str, str]:
        """The hash fields stored for these limits: the limits, and the pace the claim uses."""
        interval, guard, concurrent = self.script_args()
        fields = {"rate_per_s": "", "interval_us": "0", "send_limit": "0", "max_concurrent": "0"}
        if self.rate_per_s:
            fields |= {
                "rate_per_s": repr(self.rate_per_s),
                "interval_us": str(interval),
                "send_limit": str(guard),
            }
        if concurrent:
            fields["max_concurrent"] = str(concurrent)
        return fields

    @classmethod
    def from_redis(cls, fields: dict[str, str]) -> AccountLimits:
        """The limits of a stored hash (empty: none)."""
        rate = fields.get("rate_per_s") or ""
        concurrent = int(fields.get("max_concurrent") or 0)
        return cls(float(rate) if rate else None, concurrent or None)

    def describe(self) -> str:
        """The limits in words, e.g. '5/s, 20 at once' or 'none'."""
        parts = []
        if self.rate_per_s is not None:
            parts.append(f"{self.rate_per_s:g}/s")
        if self.max_concurrent is not None:
            parts.append(f"{self.max_concurrent} at once")
        return ", ".join(parts) or "none"


NO_LIMITS = AccountLimits()


@dataclass(frozen=True)
class NumberRules:
    """What the account allows to one number, across all its campaigns: the gap after another
    campaign's call (0: none), and how many calls in 24 hours (0: no limit)."""

    min_gap_s: float = 0.0
    calls_per_day: int = 0


NO_RULES = NumberRules()
