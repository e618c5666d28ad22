"""Which column holds the phone number, which are reserved, and which become variables."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from campaigns.model import RESULT_COLUMNS, RESULTS_FILE_MARKERS, is_result_column
from dialer.errors import InputError, option_field

# Header spellings of the phone column, best first (compared after `key()`).
PHONE_HEADERS = (
    "phone", "phone_number", "phonenumber", "mobile", "mobile_phone", "mobile_number",
    "mobile_phone_number", "cell", "cell_phone", "cellphone", "cell_number", "number",
    "to_number", "to", "contact_number", "contact_phone", "telephone", "telephone_number",
    "tel", "msisdn", "primary_phone", "phone_1_value", "phone_1", "work_phone",
    "business_phone", "home_phone", "phone_e164", "e164",
)  # fmt: skip
RESERVED = ("from_number", "agent_id", "timezone", "country")
# A file with all of these is a results file fed back in: its result columns are not variables.
RESULTS_MARKERS = frozenset(RESULTS_FILE_MARKERS)


def key(header: str) -> str:
    """A header compared without case, BOMs, surrounding space or `_ - .` differences."""
    text = header.replace("\ufeff", "").strip().lower()
    return re.sub(r"[\s_.\-]+", "_", text).strip("_")


@dataclass(frozen=True)
class Layout:
    """Where everything is in a header: indices into each row."""

    columns: tuple[str, ...]
    phone_index: int
    variables: tuple[tuple[str, int], ...]
    reserved: tuple[tuple[str, int], ...]
    is_results_file: bool

    @property
    def phone_column(self) -> str:
        """The header of the phone column."""
        return self.columns[self.phone_index]


def names_phone(row: Sequence[str], wanted: str | None = None) -> bool:
    """Whether a row could be the header: it names `wanted`, or a phone column if None."""
    keys = {key(cell) for cell in row}
    return key(wanted) in keys if wanted is not None else not keys.isdisjoint(PHONE_HEADERS)


def clean_header(header: Sequence[str], name: str) -> tuple[str, ...]:
    """Trimmed header names; unnamed ones become `column_N`; a repeated name is an error."""
    columns = tuple(
        cell.replace("\ufeff", "").strip() or f"column_{i}" for i, cell in enumerate(header, 1)
    )
    seen: dict[str, int] = {}
    for i, column in enumerate(columns, 1):
        first = seen.setdefault(key(column), i)
        if first != i:
            raise InputError(
                f"the header names {column!r} twice (columns {first} and {i}): rename one",
                where=f"{name}, row 0 (header), column {i}",
            )
    return columns


def plan(
    columns: tuple[str, ...], name: str, phone_column: str | None, variables: Sequence[str] | None
) -> Layout:
    """Decide the phone column, the reserved columns and the variables of a header."""
    keys = [key(c) for c in columns]
    results = set(keys) >= RESULTS_MARKERS
    phone = _phone_index(columns, keys, name, phone_column, results)
    reserved = tuple((k, i) for i, k in enumerate(keys) if k in RESERVED and i != phone)
    if variables is not None:
        chosen = tuple((columns[i], i) for i in _named(columns, keys, variables, name))
    else:
        skip = {phone, *(i for _, i in reserved)}
        if results:
            skip |= {i for i, k in enumerate(keys) if is_result_column(k)}
        chosen = tuple(
            (c, i)
            for i, c in enumerate(columns)
            if i not in skip and not re.fullmatch(r"column_\d+", keys[i])
        )
    return Layout(columns, phone, chosen, reserved, results)


def _phone_index(
    columns: tuple[str, ...], keys: list[str], name: str, wanted: str | None, results: bool
) -> int:
    if wanted is not None:
        return _named(columns, keys, [wanted], name, option="--phone-column")[0]
    ranked = [h for h in PHONE_HEADERS if not (results and h in RESULT_COLUMNS)]
    ranked += [h for h in PHONE_HEADERS if h not in ranked]
    for header in ranked:
        if header in keys:
            return keys.index(header)
    raise InputError(
        f"no phone column found among the headers {list(columns)}; "
        "name it with --phone-column NAME",
        where=name,
        field="phone_column",
    )


def _named(
    columns: tuple[str, ...],
    keys: list[str],
    wanted: Sequence[str],
    name: str,
    option: str = "--variables",
) -> list[int]:
    found = []
    for column in wanted:
        if key(column) not in keys:
            raise InputError(
                f"{option}: no column {column!r}; the headers are {list(columns)}",
                where=name,
                field=option_field(option),
            )
        found.append(keys.index(key(column)))
    return found
