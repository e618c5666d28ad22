"""A campaign's settings and whether it dials (a contact's states are in `dialer.store.contact`)."""

from __future__ import annotations

import re
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field

from dialer.errors import ConfigError
from dialer.run_options import RUN_DEFAULTS
from dialer.shown import shown


class CampaignState(StrEnum):
    """Whether a campaign dials."""

    RUNNING = "running"
    PAUSED = "paused"
    CANCELED = "canceled"
    DONE = "done"


_CAMPAIGN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_campaign_id(value: str) -> str:
    """A campaign id is 1-64 letters, digits, dots, dashes or underscores."""
    if not _CAMPAIGN_ID.match(value):
        raise ConfigError(
            f"campaign id {value!r} is not valid: use 1-64 letters, digits, '.', '-' or '_'",
            field="campaign",
        )
    return value


_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(s|sec|second|m|min|minute|h|hour)\s*$", re.I)
_PER = {"s": 1.0, "m": 60.0, "h": 3600.0}


MIN_RATE_PER_S = 1 / 86400  # one call a day
MAX_RATE_PER_S = 1000.0


def parse_rate(text: str) -> float:
    """'2/s', '30/m' or '600/h' as calls per second: from one a day to 1000 a second."""
    match = _RATE.match(text) if len(text) <= 40 else None
    if not match:
        raise ConfigError(
            f"rate {shown(text)} is not valid: write it like 1/s, 30/m or 600/h", field="rate"
        )
    per_second = float(match.group(1)) / _PER[match.group(2)[0].lower()]
    if per_second <= 0:
        raise ConfigError(f"rate {shown(text)} must be more than zero", field="rate")
    if per_second < MIN_RATE_PER_S:
        raise ConfigError(f"rate {shown(text)} is less than one call a day (0.05/h)", field="rate")
    if per_second > MAX_RATE_PER_S:
        raise ConfigError(f"rate {shown(text)} is more than {MAX_RATE_PER_S:g}/s", field="rate")
    return per_second


class CampaignConfig(BaseModel):
    """What a campaign dials, how fast, and when. Stored in Redis (as JSON) at creation.

    The calling-time fields are kept as the user wrote them (`"08:00-21:00"`, `"mon-fri"`,
    `"30m,1h"`, ISO datetimes); `campaigns.when` interprets them. Defaults are the run
    options' (`dialer.run_options`).
    """

    model_config = ConfigDict(frozen=True)

    campaign_id: str
    agent_id: str
    from_number: str
    rate_per_s: float = Field(default=parse_rate(RUN_DEFAULTS.rate), gt=0)
    max_concurrent: int = Field(default=RUN_DEFAULTS.max_concurrent, ge=1)
    account: str = ""  # the OneInbox account it dials on (`dialer.account`; '' = "default")
    webhook_url: str | None = None
    webhook_secret: str = Field(default="", repr=False)  # given by the store at creation
    events_url: str | None = None  # where its signed events go (`campaigns.events`)
    columns: tuple[str, ...] = ()
    variable_columns: tuple[str, ...] = ()
    renames: tuple[tuple[str, str], ...] = ()  # (variable column, name the agent sees)
    source: str = ""
    max_call_s: float = 3600.0
    window: str = RUN_DEFAULTS.window
    days: str = RUN_DEFAULTS.days
    rules: str = ""
    start_at: str = ""
    deadline: str = ""
    max_attempts: int = Field(default=RUN_DEFAULTS.max_attempts, ge=1)
    retry_on: str = RUN_DEFAULTS.retry_on
    retry_delays: str = RUN_DEFAULTS.retry_delay
    min_gap_s: float = Field(default=1800.0, ge=0)  # after another campaign's call (0: none)
    # A retry run's: the results file its contacts came from. The campaigns that wrote it (and
    # their own retry lineage) are its lineage: the gap does not hold for their calls.
    retry_of: str = ""
    results_path: str = ""
    delimiter: str = ","  # the contacts file's; its results are written with it (`,` or `;`)
    results_bom: bool = True  # results CSVs start with a UTF-8 byte-order mark
    opt_out_outcomes: tuple[str, ...] = ()  # outcomes that put the number on the do-not-call list
    max_cost_cents: float | None = Field(default=None, gt=0)  # the spend cap (`--max-cost`)
    pause_on_failures: str = RUN_DEFAULTS.pause_on_failures  # N/M or 'off'

    @property
    def webhook_target(self) -> str | None:
        """The URL OneInbox posts this campaign's events to: `webhook_url` with the campaign's
        secret as one more path segment (the receiver answers 404 to any other)."""
        if not self.webhook_url:
            return None
        parts = urlsplit(self.webhook_url)
        path = f"{parts.path.rstrip('/')}/{self.webhook_secret}"
        return urlunsplit(parts._replace(path=path))
