"""The preflight's country count reads each contact's region off its E.164 number without a
parse, and agrees with `phonenumbers` on every region's numbers."""

from __future__ import annotations

import phonenumbers
from hypothesis import given
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from campaigns.checks import Level, check_countries, region_of_e164, regions_of
from dialer.phone import region_of


def _examples() -> list[str]:
    """An example number of every type of every region `phonenumbers` knows, as E.164."""
    found = set()
    for region in phonenumbers.SUPPORTED_REGIONS:
        for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.VOIP):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None and phonenumbers.is_valid_number(number):
                found.add(phonenumbers.format_number(number, PhoneNumberFormat.E164))
    return sorted(found)


def test_every_regions_numbers_are_placed_where_phonenumbers_places_them() -> None:
    examples = _examples()
    assert len(examples) > 400
    assert {e: region_of_e164(e) for e in examples} == {e: region_of(e) for e in examples}


@given(area=st.integers(200, 999), exchange=st.integers(200, 999), line=st.integers(0, 9999))
def test_a_north_american_number_is_placed_by_its_area_code(
    area: int, exchange: int, line: int
) -> None:
    e164 = f"+1{area}{exchange}{line:04d}"
    if phonenumbers.is_valid_number(phonenumbers.parse(e164)):
        assert region_of_e164(e164) == region_of(e164)


def test_the_count_names_the_contacts_abroad() -> None:
    phones = ["+14155550111", "+442079460000", "+16135550123"]
    check = check_countries("+14155550100", regions_of(phones))
    assert check.level is Level.WARN
    assert check.detail.startswith("2 contacts outside US (GB 1, CA 1)")
