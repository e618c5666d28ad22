"""E.164 normalisation: the forms people type, the reasons for rejecting, and agreement with
`phonenumbers` on every number its metadata ships an example of."""

from __future__ import annotations

import re
from collections.abc import Callable

import phonenumbers
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from dialer.errors import InvalidNumber
from dialer.phone import (
    _WRAPPER_RE,
    NUMBER_TYPES,
    _full_parse,
    _screen,
    normalize,
    number_type,
    region_of,
    time_zones,
)

E164 = re.compile(r"^\+[1-9]\d{1,14}$")


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("(415) 555-0123", "US", "+14155550123"),
        ("415.555.0123", "US", "+14155550123"),
        ("1-415-555-0123", "US", "+14155550123"),
        ("+1 (415) 555-0123", "GB", "+14155550123"),
        ("'4155550123", "US", "+14155550123"),
        ("  tel:+1-415-555-0123 ", "US", "+14155550123"),
        ("TEL:+44 20 7946 0958", "US", "+442079460958"),
        ("0044 20 7946 0958", "US", "+442079460958"),
        ("011 44 20 7946 0958", "US", "+442079460958"),
        ("+44 (0)20 7946 0958", "US", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("613-555-0199", "CA", "+16135550199"),
        ("+14155550123", "US", "+14155550123"),
        ("４１５５５５０１２３", "US", "+14155550123"),  # full-width digits
    ],
)
def test_normalizes_common_forms(raw: str, region: str, expected: str) -> None:
    assert normalize(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "missing_number"),
        ("   ", "missing_number"),
        ("'", "missing_number"),
        ("4.15555E+10", "precision_lost"),
        ("1.4155550123e+10", "precision_lost"),
        ("n/a", "not_a_number"),
        ("call me", "not_a_number"),
        ("1-800-FLOWERS", "not_a_number"),
        ("415-555-0123 ext 5", "has_extension"),
        ("+1 212 555 0100 ext 12", "has_extension"),
        ("(212) 555-0100 x12", "has_extension"),
        ("+1 212 555 0100 ext. 12", "has_extension"),
        ("tel:+1-212-555-0100;ext=12", "has_extension"),
        ("+44 20 7946 0958 #3", "has_extension"),
        ("ext 12", "not_a_number"),
        ("jane@example.com", "not_a_number"),
        ("---", "not_a_number"),
        ("1" * 10_000, "not_a_number"),
        ("+19995551234", "invalid_number"),  # area code 999 is unassigned
        ("+13115551234", "invalid_number"),
        ("555-0123", "invalid_number"),
        ("12345", "invalid_number"),
        ("+999 1234 5678", "invalid_number"),
        ("0044", "invalid_number"),
    ],
)
def test_rejects_with_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidNumber) as info:
        normalize(raw, "US")
    assert info.value.reason == reason


def _reference(raw: str, region: str) -> str | None:
    """The full `phonenumbers` path, which the fast path must agree with (plus the documented
    rule that `00` starts an international number when the national reading is not valid)."""
    found = _parse_reference(raw, region)
    if found is None and raw.startswith("00"):
        found = _parse_reference("+" + raw[2:], region)
    return found


def _parse_reference(raw: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, PhoneNumberFormat.E164))


def _outcome(raw: str, region: str) -> str | None:
    try:
        return normalize(raw, region)
    except InvalidNumber:
        return None


NANP_SHAPES = ["{a}{b}{c}", "({a}) {b}-{c}", "{a}-{b}-{c}", "{a}.{b}.{c}", "1{a}{b}{c}",
               "1 ({a}) {b}-{c}", "+1{a}{b}{c}", "+1 {a} {b} {c}", "+1-{a}-{b}-{c}"]  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(
    digits=st.from_regex(r"\A[0-9]{10}\Z"),
    shape=st.sampled_from(NANP_SHAPES),
    region=st.sampled_from(["US", "CA", "PR", "BS", "JM", "GB", "DE"]),
)
@example(digits="9995551234", shape="{a}{b}{c}", region="US")
@example(digits="2423571234", shape="{a}{b}{c}", region="BS")
@example(digits="0050020000", shape="{a}{b}{c}", region="US")  # `00` + an international number
def test_fast_path_agrees_with_phonenumbers(digits: str, shape: str, region: str) -> None:
    raw = shape.format(a=digits[:3], b=digits[3:6], c=digits[6:])
    assert _outcome(raw, region) == _reference(raw, region)


PHONEISH = st.text(alphabet="0123456789+-(). /'telETL:x,#*", max_size=30)


@settings(max_examples=2000, deadline=None)
@given(raw=st.one_of(PHONEISH, st.text(max_size=40)), region=st.sampled_from(["US", "GB", "IN"]))
def test_normalize_raises_only_invalid_number_and_is_idempotent(raw: str, region: str) -> None:
    try:
        e164 = normalize(raw, region)
    except InvalidNumber as exc:
        assert exc.reason in {
            "missing_number", "invalid_number", "not_a_number", "precision_lost", "has_extension"
        }  # fmt: skip
        return
    assert E164.match(e164)
    assert normalize(e164, region) == e164
    assert normalize(e164, "US") == e164


_TYPES = [value for name, value in vars(PhoneNumberType).items()
          if name.isupper() and name != "UNKNOWN"]  # fmt: skip


def _examples() -> list[tuple[str, phonenumbers.PhoneNumber]]:
    found = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in _TYPES:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                found.append((region, number))
    return found


def test_every_example_number_of_every_region_normalizes() -> None:
    failures = []
    examples = _examples()
    for region, number in examples:
        expected = phonenumbers.format_number(number, PhoneNumberFormat.E164)
        national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
        international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
        for raw, as_region in ((national, region), (international, region), (international, "US")):
            got = _outcome(raw, as_region)
            if got != expected:
                failures.append((region, raw, as_region, got, expected))
    assert len(examples) > 1000
    assert failures == []


def test_non_geographic_example_numbers_normalize() -> None:
    for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS:
        number = phonenumbers.example_number_for_non_geo_entity(code)
        if number is None:
            continue
        expected = phonenumbers.format_number(number, PhoneNumberFormat.E164)
        raw = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
        assert normalize(raw, "US") == expected


def test_helpers() -> None:
    assert number_type("+442079460958") == "fixed_line"
    assert number_type("+447400123456") == "mobile"
    assert number_type("+14155550123") == "fixed_line_or_mobile"
    assert {"mobile", "fixed_line", "toll_free"} <= NUMBER_TYPES
    assert region_of("+16135550199") == "CA"
    assert "America/Los_Angeles" in time_zones("+14155550123")


def _decision(read: Callable[[], str]) -> tuple[str, str]:
    """What a reading decided: ("ok", the E.164) or (the reason, the message)."""
    try:
        return "ok", read()
    except InvalidNumber as exc:
        return exc.reason, str(exc)


def _full_path(raw: str, region: str) -> str:
    """`normalize` without its fast paths: screened, then parsed by `phonenumbers`."""
    text = _WRAPPER_RE.sub("", raw, count=1).strip()
    _screen(raw, text)
    return _full_parse(text, region)


SHORT = st.builds(
    lambda lead, digits, sep: lead + sep.join(digits),
    st.sampled_from(["", "", "+", "00", "011", "0", "1", "(0)", "'"]),
    st.lists(st.from_regex(r"\A[0-9]{1,4}\Z"), min_size=1, max_size=4),
    st.sampled_from(["", "-", " ", ".", ") "]),
)
NANP = st.builds(
    lambda digits, shape: shape.format(a=digits[:3], b=digits[3:6], c=digits[6:]),
    st.from_regex(r"\A[0-9]{10}\Z"),
    st.sampled_from(NANP_SHAPES),
)
REGIONS = ["US", "CA", "JM", "GB", "DE", "FR", "IT", "AU", "BR", "IN", "AT", "NU", "001"]


@settings(max_examples=1500, deadline=None)
@given(raw=st.one_of(SHORT, NANP), region=st.sampled_from(REGIONS))
@example(raw="555-0123", region="US")  # 7 digits: valid lengths in CA, so parsed
@example(raw="310-1234", region="US")  # and valid: a Canadian 7-digit number
@example(raw="12345", region="US")  # too short for any NANP region: refused unparsed
@example(raw="+1 311 555 0000", region="GB")  # NANP-shaped and invalid: refused unparsed
@example(raw="0111 234", region="US")  # the US international prefix: parsed
def test_the_fast_decisions_are_the_full_parses_reason_and_message(raw: str, region: str) -> None:
    """The same accept or reject as `phonenumbers`, word for word, for numbers the fast paths
    decide (valid and invalid NANP shapes, national numbers too short for the region)."""
    assert _decision(lambda: normalize(raw, region)) == _decision(lambda: _full_path(raw, region))
