"""Special number types, refused by default, told apart at the speed of loading a file.

Premium-rate, shared-cost, UAN, pager and voicemail-access numbers cost the caller or reach no
person, so a campaign dials them only when `--allow-types` names them. Telling a number's type
with `phonenumbers` costs a full parse (about 24 µs), too much for every row of a large file.
As with validity (`dialer.phone.NanpValidator`), patterns are compiled once from `phonenumbers`'
own metadata: a number that matches none of the special-type patterns of its country cannot be
of a special type, and only the few that match are parsed. The fast path can only agree.
"""

from __future__ import annotations

import re
from functools import cache

import phonenumbers
from phonenumbers.phonemetadata import PhoneMetadata

from dialer.phone import NUMBER_TYPES, number_type

SPECIAL_TYPES = frozenset({"premium_rate", "shared_cost", "uan", "pager", "voicemail"})
DEFAULT_TYPES = NUMBER_TYPES - SPECIAL_TYPES


@cache
def _special_pattern(country_code: int) -> re.Pattern[str] | None:
    """National numbers of `country_code` that may be of a special type (None: none can)."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    alternatives: set[str] = set()
    for region in regions:
        if region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
            meta = PhoneMetadata.metadata_for_nongeo_region(country_code)
        else:
            meta = PhoneMetadata.metadata_for_region(region)
        for name in SPECIAL_TYPES if meta is not None else ():
            desc = getattr(meta, name)
            if desc is not None and desc.national_number_pattern:
                alternatives.add(desc.national_number_pattern)
    if not alternatives:
        return None
    return re.compile("|".join(f"(?:{p})" for p in sorted(alternatives)))


def nanp_special_pattern() -> str | None:
    """The national NANP numbers that may be of a special type, as a pattern (None: none)."""
    pattern = _special_pattern(1)
    return None if pattern is None else pattern.pattern


def _country_code(e164: str) -> int | None:
    """The country code of an E.164 number (codes are prefix-free: the first that exists)."""
    for length in (1, 2, 3):
        digits = e164[1 : 1 + length]
        if digits.isdigit() and int(digits) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return int(digits)
    return None


def might_be_special(e164: str) -> bool:
    """False only when the valid E.164 number is certainly not of a special type."""
    country_code = _country_code(e164)
    if country_code is None:
        return True
    pattern = _special_pattern(country_code)
    national = e164[1 + len(str(country_code)) :]
    return pattern is not None and pattern.fullmatch(national) is not None


@cache
def _batch_pattern() -> re.Pattern[str]:
    """In E.164 numbers joined by newlines: a NANP number of a special pattern, or a number
    that is not NANP. It starts with a literal `+` (each number's only one), which `re` finds
    fast; `^` with MULTILINE would try every position and cost twice as much."""
    nanp = _special_pattern(1)
    special = rf"1(?:{nanp.pattern})(?=\n|\Z)|" if nanp is not None else ""
    return re.compile(rf"\+(?:{special}[02-9])")


def special_candidates(phones: list[str]) -> list[int]:
    """Indices of the valid E.164 numbers that may be of a special type.

    One regular expression scans the batch: NANP numbers, most of a US list, are decided there;
    the others are looked at one by one.
    """
    text = "\n".join(phones)
    found: list[int] = []
    index, at = 0, 0
    for match in _batch_pattern().finditer(text):
        index += text.count("\n", at, match.start())
        at = match.start()
        if phones[index].startswith("+1") or might_be_special(phones[index]):
            found.append(index)
    return found


def special_type(e164: str) -> str | None:
    """The special type of a valid E.164 number, or None for any other type."""
    if not might_be_special(e164):
        return None
    kind = number_type(e164)
    return kind if kind in SPECIAL_TYPES else None
