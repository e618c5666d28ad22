"""Phone numbers to E.164, with the answers of `phonenumbers` and a fast path for NANP numbers.

`normalize` is the one way a number enters the dialer. It returns E.164 (`+14155550123`) or
raises `InvalidNumber` whose `reason` is one of `missing_number`, `not_a_number`,
`precision_lost`, `has_extension` or `invalid_number`.

Parsing with `phonenumbers` costs about 24 µs a number, which dominates loading a large file.
Most numbers in a US list are NANP numbers in a handful of shapes, so those are pre-parsed with
one regular expression and validated by `NanpValidator`, which replays `is_valid_number` for
country code 1 on patterns compiled once from `phonenumbers`' own metadata: a number of those
shapes is valid or invalid there as it is for `phonenumbers` (an invalid one cost it about
450 us). A national number with fewer digits than any number of its region's country code has
is invalid without parsing too ("12345"). Everything else takes the full `phonenumbers.parse`
path; tests/dialer/test_phone.py checks on generated numbers that the fast paths decide as it
does, reason and message included.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType
from phonenumbers.phonemetadata import PhoneMetadata

from dialer.errors import InvalidNumber

MAX_NUMBER_CHARS = 64
MIN_DIGITS = 7  # before an extension: fewer is no phone number with an extension

# Spreadsheet noise around a number: a leading apostrophe (Excel's "keep as text"), `tel:`.
_WRAPPER_RE = re.compile(r"^\s*'?\s*(?:tel:)?\s*", re.IGNORECASE)
_ALLOWED_RE = re.compile(r"[\d\s+().\-/\u2010-\u2015\u2212]+")
# `+1 212 555 0100 ext 12`, `x12`, `#12`, `;ext=12`: an agent cannot dial an extension.
_EXTENSION_RE = re.compile(
    r"([\d\s+().\-/]*\d)[\s,;]*(?:e?xt(?:ension)?\.?|x|#|ext=)\s*[:.]?\s*\d{1,10}\s*",
    re.IGNORECASE,
)
_SCIENTIFIC_RE = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+")
# `+1 (415) 555-0123`, `1-415-555-0123`, `415.555.0123`, `4155550123`: group 1 is the "+1".
_NANP_RE = re.compile(
    r"(?:(\+1)[ .-]?|1[ .-]?)?"
    r"(?:\(([2-9][0-9]{2})\)|([2-9][0-9]{2}))[ .-]?([0-9]{3})[ .-]?([0-9]{4})"
)
_DESC_NAMES = (
    "premium_rate", "toll_free", "shared_cost", "voip", "personal_number",
    "pager", "uan", "voicemail", "fixed_line", "mobile",
)  # fmt: skip


class NanpValidator:
    """`phonenumbers.is_valid_number` for country code 1, compiled once from its metadata.

    It replays `region_code_for_number` (the first region whose leading digits match, or whose
    number types accept the number) and then the type check of `_number_type_helper`: a number
    is valid when it matches the general pattern and any type pattern, length rules included.
    """

    def __init__(self) -> None:
        self._regions = [
            _region_check(region) for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1]
        ]
        self._first = self._regions[0][1] if self._regions[0][0] is None else None

    def is_valid(self, national: str) -> bool:
        """Whether the 10-digit national number is a valid NANP number."""
        if self._first is not None and self._first(national):
            return True  # the main region (US) needs no leading-digits check
        for leading, typed in self._regions:
            if leading is not None:
                if leading.match(national):
                    return typed(national) is not None
            elif typed(national):
                return True
        return False

    def patterns(self) -> tuple[tuple[str | None, str | None, str], ...]:
        """`is_valid` as data, for regular expression engines without lookahead (RE2).

        One `(leading, general, typed)` per region, in the order `is_valid` tries them: the
        first region whose `leading` digits start the number (None: any number, when `typed`
        accepts it) decides; the number is valid when it fully matches `general` (None: always)
        and `typed`.
        """
        found = []
        for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1]:
            meta = PhoneMetadata.metadata_for_region(region)
            assert meta is not None, region
            general = _desc_pattern(meta.general_desc, 10)
            typed = [_desc_pattern(getattr(meta, name), 10) for name in _DESC_NAMES]
            # Fixed-line and mobile numbers share one pattern in most regions: once is enough.
            alternatives = "|".join(f"(?:{p})" for p in dict.fromkeys(typed) if p is not None)
            if general is None or not alternatives:
                alternatives = "$.^"  # matches nothing, as `_region_check` then
            found.append((meta.leading_digits or None, general, alternatives))
        return tuple(found)


_Check = Callable[[str], "re.Match[str] | None"]


def _region_check(region: str) -> tuple[re.Pattern[str] | None, _Check]:
    meta = PhoneMetadata.metadata_for_region(region)
    assert meta is not None, region
    leading = re.compile(meta.leading_digits) if meta.leading_digits else None
    general = _desc_pattern(meta.general_desc, 10)
    alternatives = [_desc_pattern(getattr(meta, name), 10) for name in _DESC_NAMES]
    typed = "|".join(f"(?:{p})" for p in alternatives if p is not None)
    if general is None or not typed:
        return leading, lambda _national: None
    return leading, re.compile(f"(?=(?:{general})$)(?:{typed})").fullmatch


def _desc_pattern(desc: object, length: int) -> str | None:
    """The pattern of a number description for numbers of `length` digits, if it applies."""
    if desc is None:
        return None
    lengths = getattr(desc, "possible_length", ())
    pattern: str | None = getattr(desc, "national_number_pattern", None)
    if not pattern or (lengths and length not in lengths):
        return None
    return pattern


_NANP = NanpValidator()
NANP_SHAPE = _NANP_RE.pattern  # the NANP shapes `normalize` reads without `phonenumbers`


def is_valid_nanp(national: str) -> bool:
    """Whether a 10-digit national number is a valid NANP number (`NanpValidator.is_valid`)."""
    return _NANP.is_valid(national)


def nanp_patterns() -> tuple[tuple[str | None, str | None, str], ...]:
    """`NanpValidator.patterns` of the validator `normalize` uses."""
    return _NANP.patterns()


@lru_cache(maxsize=512)
def national_is_nanp(region: str) -> bool:
    """Whether national numbers of `region` parse as `[1]NXXNXXXXXX` with no local rewriting."""
    meta = PhoneMetadata.metadata_for_region(region.upper())
    return (
        meta is not None
        and meta.country_code == 1
        and meta.national_prefix_for_parsing == "1"
        and meta.national_prefix_transform_rule is None
    )


def normalize(raw: str, default_region: str = "US") -> str:
    """Return `raw` as E.164, or raise `InvalidNumber` saying why it cannot be dialled.

    National numbers are read as numbers of `default_region`; `+` and `00` start international
    ones. Spaces, punctuation, `tel:` and Excel's leading apostrophe are ignored.
    """
    # E.164, which most files hold, needs no regular expression.
    e164 = len(raw) == 12 and raw[:2] == "+1" and raw.isascii() and raw[2:].isdigit()
    if e164 and _NANP.is_valid(raw[2:]):
        return raw
    text = raw
    match = _NANP_RE.fullmatch(text)
    if match is None:
        text = _WRAPPER_RE.sub("", raw, count=1).strip()
        match = _NANP_RE.fullmatch(text)
    if match is not None and (match[1] or national_is_nanp(default_region)):
        national = (match[2] or match[3]) + match[4] + match[5]
        if _NANP.is_valid(national):
            return "+1" + national
        # `phonenumbers` reads the same 10 digits and finds them invalid as surely (_screen
        # passes every text of this shape): no need to parse (about 450 us for an invalid one).
        raise _not_valid(text, default_region)
    _screen(raw, text)
    if _too_short(text, default_region):
        raise _not_valid(text, default_region)
    return _full_parse(text, default_region)


def _not_valid(text: str, region: str) -> InvalidNumber:
    return InvalidNumber(f"{text!r} is not a valid number for {region}", reason="invalid_number")


def _too_short(text: str, region: str) -> bool:
    """Whether `text` has too few digits for any valid number of `region`'s country code, when
    it is read as a national number (no `+`, `00` or international prefix): parsing only ever
    drops digits (national and trunk prefixes), so the national number is shorter still, and
    `is_valid_number` refuses a length its region's numbers never have. "555-0123" in the US."""
    found = _shortest(region)
    if found is None or "+" in text or text.startswith("00") or not text.isascii():
        return False
    fewest, international = found
    digits = "".join(c for c in text if c.isdigit())
    return len(digits) < fewest and (international is None or not international.match(digits))


@lru_cache(maxsize=512)
def _shortest(region: str) -> tuple[int, re.Pattern[str] | None] | None:
    """The fewest digits of a valid national number among the regions sharing `region`'s
    country code, and `region`'s international prefix; None when the metadata cannot say."""
    meta = PhoneMetadata.metadata_for_region(region)
    if meta is None or meta.country_code is None:
        return None
    fewest = []
    for shared in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(meta.country_code, ()):
        other = PhoneMetadata.metadata_for_region(shared)
        lengths = other.general_desc.possible_length if other and other.general_desc else ()
        if not lengths or min(lengths) < 1:
            return None
        fewest.append(min(lengths))
    prefix = meta.international_prefix
    return (min(fewest), re.compile(prefix) if prefix else None) if fewest else None


def _screen(raw: str, text: str) -> None:
    """Reject what is not a phone number at all before `phonenumbers` guesses at it."""
    if not text:
        raise InvalidNumber("no phone number", reason="missing_number")
    if len(text) > MAX_NUMBER_CHARS:
        raise InvalidNumber(
            f"{len(text):,} characters is too long for a phone number", reason="not_a_number"
        )
    if _SCIENTIFIC_RE.fullmatch(text):
        raise InvalidNumber(
            f"{raw.strip()!r} is a number in scientific notation (Excel formatted the column as a"
            " number); its digits cannot be recovered: format the column as Text and export again",
            reason="precision_lost",
        )
    extension = _EXTENSION_RE.fullmatch(text)
    if extension and sum(c.isdigit() for c in extension[1]) >= MIN_DIGITS:
        raise InvalidNumber(
            f"{raw.strip()!r} has an extension, which an agent cannot dial: give the number"
            " without it",
            reason="has_extension",
        )
    if not _ALLOWED_RE.fullmatch(text) or not any(c.isdigit() for c in text):
        raise InvalidNumber(f"{_clip(raw)!r} is not a phone number", reason="not_a_number")


def _full_parse(text: str, region: str) -> str:
    number = _parse_valid(text, region)
    if number is None and text.startswith("00"):
        number = _parse_valid("+" + text[2:], region)
    if number is None:
        raise _not_valid(text, region)
    e164: str = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return e164


def _parse_valid(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    if number.extension or not phonenumbers.is_valid_number(number):
        return None
    return number


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def number_type(e164: str) -> str:
    """The type of a valid E.164 number, in lower case: `mobile`, `fixed_line`, `toll_free`, ..."""
    kind = phonenumbers.number_type(phonenumbers.parse(e164))
    return str(_TYPE_NAMES.get(kind, "unknown"))


_TYPE_NAMES: dict[int, str] = {
    value: name.lower()
    for name, value in vars(PhoneNumberType).items()
    if name.isupper() and isinstance(value, int)
}
NUMBER_TYPES = frozenset(_TYPE_NAMES.values()) - {"unknown"}


def region_of(e164: str) -> str | None:
    """The region (ISO 3166 code) a valid E.164 number belongs to."""
    region: str | None = phonenumbers.region_code_for_number(phonenumbers.parse(e164))
    return region


def time_zones(e164: str) -> tuple[str, ...]:
    """IANA time zones a number may be in (several for a NANP area code that spans zones)."""
    from phonenumbers import timezone

    zones: tuple[str, ...] = timezone.time_zones_for_number(phonenumbers.parse(e164))
    return tuple(z for z in zones if z != "Etc/Unknown")
