"""A country as people write it in a contacts file, to the region code phone numbers use.

    region_of("United Kingdom") == region_of("GB") == region_of("Royaume-Uni") == "GB"

A `Country` column from a CRM holds ISO codes (`DE`, `DEU`) or names: in English as Salesforce
and HubSpot export them ("United States", "USA"), or in the language of whoever typed them
("Deutschland", "Allemagne"). The names come from maintained data, not a list kept here:
ISO 3166 through `pycountry` (codes, names, official and common names) and the Unicode CLDR
through `babel` (every country's name in the languages of `LANGUAGES`, short forms included).
Names are compared without case, accents or punctuation. Where two languages give one spelling to
two countries, the earlier source wins: ISO codes, then English, then `LANGUAGES` in order.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator
from typing import TYPE_CHECKING

import phonenumbers

if TYPE_CHECKING:
    import pycountry

# The languages whose country names are understood, after English: those of the countries
# most lists come from, and of the CLDR's largest locales.
# ISO 3166-1 reserves "UK" exceptionally for the United Kingdom; neither library lists it.
EXCEPTIONALLY_RESERVED = {"UK": "GB"}
LANGUAGES = (
    "fr", "de", "es", "it", "pt", "nl", "sv", "da", "nb", "fi", "pl", "cs", "ro", "hu", "el",
    "tr", "ru", "uk", "ar", "he", "hi", "zh", "ja", "ko", "id", "ms", "vi", "th", "tl",
)  # fmt: skip


def region_of(text: str) -> str | None:
    """The region code (`GB`) a country cell means, or None when it names no country we dial."""
    return _regions().get(fold(text))


def fold(text: str) -> str:
    """A country's spelling compared: case, accents, punctuation and a leading "the" dropped."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    plain = re.sub(r"[\W_]+", " ", plain).strip()
    return plain.removeprefix("the ")


@functools.cache
def _regions() -> dict[str, str]:
    """Every known spelling, folded, to its region; built once, on first use."""
    regions: dict[str, str] = {}
    for spelling, code in _spellings():
        if code in phonenumbers.SUPPORTED_REGIONS:
            regions.setdefault(fold(spelling), code)
    regions.pop("", None)
    return regions


def _spellings() -> Iterator[tuple[str, str]]:
    """(spelling, region) pairs, the most trusted first."""
    import pycountry  # imported on first use, as the data is read: not every list has countries

    countries = list(pycountry.countries)
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):  # Kosovo's XK is in no ISO list
        yield region, region
    for country in countries:
        yield country.alpha_3, country.alpha_2
    yield from EXCEPTIONALLY_RESERVED.items()
    for language in ("en", *LANGUAGES):
        yield from _cldr_names(language)
        if language == "en":
            yield from _iso_names(countries)


def _iso_names(countries: list[pycountry.db.Country]) -> Iterator[tuple[str, str]]:
    for country in countries:
        for field in ("name", "common_name", "official_name"):
            name = getattr(country, field, None)
            if name:
                yield name, country.alpha_2


def _cldr_names(language: str) -> Iterator[tuple[str, str]]:
    """The CLDR's names of the countries in `language`."""
    from babel import Locale

    territories = Locale.parse(language).territories
    for code, name in territories.items():
        if len(code) == 2 and code.isalpha():
            yield name, code
