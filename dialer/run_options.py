"""The options of a campaign run, declared once.

Each field is one command-line option of `dialer run`, `retry`, `check` and `schedule add`:
`--` and the field's name with dashes, its type, its default, and the `Cli` note beside it (the
help line and the `--help` panel); `workers.cli.flags` builds the options from here.
`CampaignConfig` takes its defaults from here too. `dialer schedule add` stores these fields as
JSON, to apply when the job fires: the field names are that stored format, keep them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from dialer.endpoint import check_callback_url
from dialer.errors import InputError
from dialer.shown import shown


@dataclass(frozen=True)
class Cli:
    """How a run option shows on the command line."""

    help: str
    panel: str | None = None  # its panel in `--help` (None: the command's own "Options")
    path: bool = False  # a file name: typed as a path on the command line, stored as text
    metavar: str | None = None  # how `--help` names its value (None: from its type)


CONTACTS = "Contacts"
PACE = "Pace"
WHEN = "When"
RETRIES = "Retries"
OUTPUT = "Output"  # the commands' own options for the files they write
MOST = {"max_concurrent": 10_000, "max_attempts": 100}  # counts beyond these are refused


class RunOptions(BaseModel):
    """Every option of a campaign run, as plain values (so a schedule can store them)."""

    model_config = ConfigDict(frozen=True)

    agent_id: Annotated[str | None, Cli("OneInbox agent id (default: DIALER_AGENT_ID).")] = None
    from_number: Annotated[
        str | None, Cli("Registered caller number, E.164 (default: DIALER_FROM_NUMBER).")
    ] = None
    webhook_url: Annotated[
        str | None,
        Cli("URL of `dialer webhooks`: https://HOST/webhooks/oneinbox (http: this machine only)."),
    ] = None
    events_url: Annotated[
        str | None,
        Cli("Signed events to this URL (default: DIALER_EVENTS_URL)."),
    ] = None
    phone_column: Annotated[
        str | None,
        Cli("Phone number column (default: found by its header).", CONTACTS),
    ] = None
    default_region: Annotated[str, Cli("Region of local numbers (ISO code).", CONTACTS)] = "US"
    dnc: Annotated[
        str | None,
        Cli("Do-not-call file: numbers (one column, or a CSV) never to dial.", CONTACTS, path=True),
    ] = None
    opt_out_outcome: Annotated[
        list[str] | None,
        Cli(
            "A OneInbox call outcome that puts the number on the account's do-not-call list "
            "(repeat for several), e.g. 'Do Not Call'.",
            RETRIES,
            metavar="<str>",
        ),
    ] = None
    variables: Annotated[
        str | None, Cli("Columns sent as agent variables (comma separated).", CONTACTS)
    ] = None
    rename: Annotated[
        list[str] | None,
        Cli("Rename a variable: 'First Name=first_name'.", CONTACTS, metavar="COLUMN=NAME"),
    ] = None
    allow_types: Annotated[
        str | None,
        Cli(
            "Only dial these number types, e.g. mobile,fixed_line_or_mobile; 'all' for every "
            "type (default: all but premium_rate, shared_cost, uan, pager, voicemail).",
            CONTACTS,
        ),
    ] = None
    sheet: Annotated[str | None, Cli("Worksheet of an .xlsx file (default: first).", CONTACTS)] = (
        None
    )
    country_column: Annotated[
        str | None,
        Cli("Country column, codes or names ('none': none).", CONTACTS),
    ] = None
    fallback_columns: Annotated[
        str | None,
        Cli("Phone columns tried when it is empty ('none').", CONTACTS),
    ] = None
    rate: Annotated[str, Cli("Most creates per time, e.g. 1/s, 30/m.", PACE)] = "1/s"
    max_concurrent: Annotated[
        int, Field(ge=1), Cli("Most calls in progress at once (dialling until final).", PACE)
    ] = 10
    window: Annotated[
        str,
        Cli(
            "Calling window in each recipient's local time, HH:MM-HH:MM (may cross midnight), "
            "or 'always' to turn it off.",
            WHEN,
        ),
    ] = "08:00-21:00"
    days: Annotated[
        str, Cli("Recipient-local days the window applies: mon-sun, mon-fri, sat,sun.", WHEN)
    ] = "mon-sun"
    rules: Annotated[
        str | None,
        Cli("Stricter rules on top of the window: us-states (US state hour limits).", WHEN),
    ] = None
    min_gap: Annotated[
        str,
        Cli(
            "Hold a number another campaign of the account called less than this ago "
            "(at most 24h; 0 turns it off). Own retries follow --retry-delay.",
            WHEN,
        ),
    ] = "30m"
    start_at: Annotated[
        str | None,
        Cli(
            "Dial nobody before this: ISO 8601 with an offset (2026-12-01T10:00-05:00), or a "
            "local date-time or HH:MM with --tz.",
            WHEN,
        ),
    ] = None
    deadline: Annotated[
        str | None,
        Cli("Contacts still waiting at this time end `expired` (formats as --start-at).", WHEN),
    ] = None
    tz: Annotated[str | None, Cli("Zone for --start-at/--deadline without an offset.", WHEN)] = None
    max_attempts: Annotated[
        int, Field(ge=1), Cli("Attempts per contact, the first one included.", RETRIES)
    ] = 1
    retry_on: Annotated[
        str, Cli("Outcomes dialled again: any of no_answer, voicemail, failed.", RETRIES)
    ] = "no_answer,failed"
    retry_delay: Annotated[
        str,
        Cli("Wait before the next attempt: 30m, or one per attempt like 10m,1h,1d.", RETRIES),
    ] = "30m"
    bom: Annotated[
        bool,
        Cli("CSVs start with a UTF-8 BOM (for Excel).", OUTPUT),
    ] = True

    max_cost: Annotated[
        float | None,
        Cli("Spend cap: no new call once the known cost would pass it.", PACE, metavar="USD"),
    ] = None
    pause_on_failures: Annotated[
        str, Cli("Pause when N of the last M calls failed (or 'off').", PACE, metavar="N/M")
    ] = "30/50"

    @field_validator("opt_out_outcome", "rename")
    @classmethod
    def _none_when_empty(cls, value: list[str] | None) -> list[str] | None:
        """A repeatable option given no time is None, as if the model were built without it."""
        return value or None

    @field_validator(*MOST)
    @classmethod
    def _at_most(cls, value: int, info: ValidationInfo) -> int:
        """A count beyond its bound is refused as input (an InputError naming the option)."""
        name = str(info.field_name)
        if value > MOST[name]:
            option = "--" + name.replace("_", "-")
            raise InputError(f"{option}: {shown(value)} is more than {MOST[name]:,}", field=name)
        return value

    @field_validator("webhook_url", "events_url")
    @classmethod
    def _callback(cls, value: str | None, info: ValidationInfo) -> str | None:
        """A callback URL is https, or plain http to this machine (an InputError otherwise)."""
        return check_callback_url(value, str(info.field_name)) if value else None


def parse_failure_guard(text: str) -> tuple[int, int] | None:
    """`--pause-on-failures` as (N, M); None for 'off'. A ValueError says what is wrong."""
    value = text.strip().lower()
    if value in ("off", "0", "none"):
        return None
    failures, sep, calls = value.partition("/")
    try:
        n, m = int(failures), int(calls)
    except ValueError:
        n = m = 0
    if not sep or not 1 <= n <= m:
        raise ValueError(
            f"{text!r} is not N/M: write how many failed calls of how many recent ones pause "
            "the campaign, like 30/50 (N at most M), or 'off'"
        )
    return n, m


RUN_DEFAULTS = RunOptions()
