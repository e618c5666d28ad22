"""The campaign's data as plain values: contacts in, rejects beside them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class RejectReason(StrEnum):
    """Why a row of a contacts file will not be dialled."""

    MISSING_NUMBER = "missing_number"
    INVALID_NUMBER = "invalid_number"
    NOT_A_NUMBER = "not_a_number"
    PRECISION_LOST = "precision_lost"
    HAS_EXTENSION = "has_extension"  # `+1 212 555 0100 ext 12`: an agent cannot dial it
    DUPLICATE = "duplicate"
    DNC = "dnc"
    WRONG_TYPE = "wrong_type"
    MALFORMED_ROW = "malformed_row"  # ragged, an oversized cell, or the header repeated
    INVALID_FIELD = "invalid_field"  # a reserved column (from_number, timezone, ...) is unusable
    UNKNOWN_AGENT = "unknown_agent"  # the row's own agent_id is not an agent of the account
    UNREGISTERED_FROM_NUMBER = "unregistered_from_number"  # the row's own from_number


# The columns a results file adds to the input's own; a results file fed back in as contacts is
# recognised by them, and they never become variables.
RESULT_COLUMNS: tuple[str, ...] = (
    "source_row",
    "phone_e164",
    "status",
    "attempts",
    "call_id",
    "call_status",
    "end_reason",
    "outcome",
    "duration_seconds",
    "started_at",
    "ended_at",
    "summary",
    "transcript",
    "error",
    "waiting",
    "cost_cents",
    "recording_url",
    "latency",
)
# After them, one column per field of the call's `analysis` seen, its keys joined with dots.
ANALYSIS_PREFIX = "analysis."


def is_result_column(name: str) -> bool:
    """Whether a results file's column (as written, or compared as `columns.key` spells it) is
    one of ours rather than the input's."""
    return name in RESULT_COLUMNS or name.startswith((ANALYSIS_PREFIX, "analysis_"))


# A file with these columns is a results file (older ones may lack later result columns).
RESULTS_FILE_MARKERS: tuple[str, ...] = ("source_row", "phone_e164", "status")


@dataclass(frozen=True, slots=True)
class Contact:
    """One dialable row.

    `source_row` is the row's number as a spreadsheet shows it: in a CSV the header is row 1,
    so the first contact is row 2 (a record is one row, even when a quoted cell spans lines);
    in a workbook, Excel's row number (title and blank rows above counted). A results file
    dialled again keeps the `source_row` it holds: the row in the list first dialled. `row`
    holds every input column's original text, in input order (the results file writes them
    back); `variables` is what the agent receives.
    The reserved columns override the campaign defaults for this contact when not empty.
    """

    source_row: int
    phone_e164: str
    row: dict[str, str]
    variables: dict[str, str] = field(default_factory=dict)
    from_number: str | None = None
    agent_id: str | None = None
    timezone: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class Reject:
    """One row that will not be dialled, and why (`detail` is for a person to read).

    `source_row` is numbered as `Contact.source_row` is: the row a spreadsheet shows."""

    source_row: int
    phone: str
    reason: RejectReason
    detail: str
