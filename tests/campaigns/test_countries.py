"""Country cells as CRMs export them: codes, English names and local spellings to regions."""

from __future__ import annotations

import phonenumbers
import pycountry
import pytest
from babel import Locale
from hypothesis import given
from hypothesis import strategies as st

from campaigns.countries import LANGUAGES, fold, region_of


@pytest.mark.parametrize(
    ("cell", "region"),
    [
        ("GB", "GB"),
        ("gb", "GB"),
        (" DE ", "DE"),
        ("DEU", "DE"),
        ("USA", "US"),
        ("UK", "GB"),
        ("United Kingdom", "GB"),
        ("united kingdom", "GB"),
        ("United States", "US"),
        ("United States of America", "US"),
        ("Germany", "DE"),
        ("Deutschland", "DE"),
        ("Allemagne", "DE"),
        ("Royaume-Uni", "GB"),
        ("Royaume Uni", "GB"),
        ("España", "ES"),
        ("Espana", "ES"),
        ("Österreich", "AT"),
        ("Schweiz", "CH"),
        ("Suisse", "CH"),
        ("Nederland", "NL"),
        ("The Netherlands", "NL"),
        ("Côte d'Ivoire", "CI"),
        ("South Korea", "KR"),
        ("Korea, Republic of", "KR"),
        ("Viet Nam", "VN"),
        ("Vietnam", "VN"),
        ("Russia", "RU"),
        ("Россия", "RU"),
        ("日本", "JP"),
    ],
)
def test_codes_and_names_are_regions(cell: str, region: str) -> None:
    assert region_of(cell) == region


@pytest.mark.parametrize("cell", ["", "  ", "Atlantis", "ZZ", "XYZ", "N/A", "Europe", "123"])
def test_what_names_no_country_is_none(cell: str) -> None:
    assert region_of(cell) is None


def test_every_dialled_region_is_its_own_code_and_its_english_name() -> None:
    names = Locale.parse("en").territories
    for region in phonenumbers.SUPPORTED_REGIONS:
        assert region_of(region) == region
        assert region_of(region.lower()) == region
        if region in names:
            assert region_of(names[region]) == region, names[region]


def test_each_languages_name_of_the_largest_countries_is_understood() -> None:
    for language in LANGUAGES:
        names = Locale.parse(language).territories
        for region in ("US", "GB", "DE", "FR", "ES", "IT", "IN", "BR", "MX", "CA"):
            assert region_of(names[region]) == region, (language, names[region])


def test_iso_alpha3_codes_are_regions() -> None:
    for country in pycountry.countries:
        if country.alpha_2 in phonenumbers.SUPPORTED_REGIONS:
            assert region_of(country.alpha_3) == country.alpha_2


@given(st.sampled_from(sorted(Locale.parse("en").territories.items())), st.data())
def test_case_accents_and_spacing_do_not_matter(item: tuple[str, str], data: st.DataObject) -> None:
    code, name = item
    if code not in phonenumbers.SUPPORTED_REGIONS:
        return
    flips = data.draw(st.lists(st.booleans(), min_size=len(name), max_size=len(name)))
    spelled = "".join(c.upper() if flip else c.lower() for c, flip in zip(name, flips, strict=True))
    assert region_of(f"  {spelled} ") == code
    assert fold(spelled) == fold(name)
