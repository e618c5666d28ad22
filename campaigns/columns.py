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
# Header spellings of the country column, best first: CRM exports and other languages' words.
COUNTRY_HEADERS = (
    "country", "country/region", "country_region", "mailing_country", "billing_country",
    "shipping_country", "country_code", "country_name", "pays", "land", "pais", "país", "paese",
    "nazione",
)  # fmt: skip
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
    fallbacks: tuple[int, ...] = ()  # other phone columns, read in turn when the phone is empty

    @property
    def phone_column(self) -> str:
        """The header of the phone column."""
        return self.columns[self.phone_index]


def names_phone(row: Sequence[str], wanted: str | None = None) -> bool:
    """Whether a row could be the header: it names `wanted`, or a phone column if None."""
    keys = {key(cell) for cell in row}
    return key(wanted) in keys if wanted is not None else not keys.isdisjoint(PHONE_HEADERS)


def clean_header(header: Sequence[str], name: str, row: int = 1) -> tuple[str, ...]:
    """Trimmed header names; unnamed ones become `column_N`; a repeated name is an error,
    named by the header's `row` as the spreadsheet numbers it."""
    columns = tuple(
        cell.replace("\ufeff", "").strip() or f"column_{i}" for i, cell in enumerate(header, 1)
    )
    seen: dict[str, int] = {}
    for i, column in enumerate(columns, 1):
        first = seen.setdefault(key(column), i)
        if first != i:
            raise InputError(
                f"the header names {column!r} twice (columns {first} and {i}): rename one",
                where=f"{name}, row {row} (header), column {i}",
            )
    return columns


@dataclass(frozen=True)
class Choices:
    """What the user chose of a header's roles; None leaves a role to detection.

    `fallbacks` () means none; `country_column` "" means no country column.
    """

    phone_column: str | None = None
    variables: Sequence[str] | None = None
    country_column: str | None = None
    fallbacks: Sequence[str] | None = None


def plan(
    columns: tuple[str, ...],
    name: str,
    phone_column: str | None = None,
    variables: Sequence[str] | None = None,
    choices: Choices | None = None,
) -> Layout:
    """Decide the phone column, its fallbacks, the reserved columns and the variables."""
    choices = choices or Choices(phone_column, variables)
    phone_column, variables = choices.phone_column, choices.variables
    keys = [key(c) for c in columns]
    results = set(keys) >= RESULTS_MARKERS
    phone = _phone_index(columns, keys, name, phone_column, results)
    country = _country_index(columns, keys, name, choices.country_column, phone)
    reserved = tuple(
        (k, i) for i, k in enumerate(keys) if k in RESERVED and k != "country" and i != phone
    )
    reserved += (("country", country),) if country is not None else ()
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
    fallbacks = _fallbacks(columns, keys, name, choices.fallbacks, phone, results)
    return Layout(columns, phone, chosen, reserved, results, fallbacks)


def _country_index(
    columns: tuple[str, ...], keys: list[str], name: str, wanted: str | None, phone: int
) -> int | None:
    if wanted is not None:
        return (
            _named(columns, keys, [wanted], name, option="--country-column")[0] if wanted else None
        )
    for header in COUNTRY_HEADERS:
        if header in keys and keys.index(header) != phone:
            return keys.index(header)
    return None


def _fallbacks(
    columns: tuple[str, ...],
    keys: list[str],
    name: str,
    wanted: Sequence[str] | None,
    phone: int,
    results: bool,
) -> tuple[int, ...]:
    """The other phone columns: those named, or every one the header has, in its order."""
    if wanted is not None:
        found = _named(columns, keys, wanted, name, option="--fallback-columns")
        return tuple(dict.fromkeys(i for i in found if i != phone))
    skip = RESULT_COLUMNS if results else ()
    return tuple(
        i for i, k in enumerate(keys) if i != phone and k in PHONE_HEADERS and k not in skip
    )


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
