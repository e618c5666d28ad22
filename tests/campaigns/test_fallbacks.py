"""Country columns and fallback phone columns, on Salesforce and HubSpot exports as they come."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.contacts import LoadOptions, LoadResult, load_contacts, open_contacts
from dialer.errors import InputError

DATA = Path(__file__).resolve().parents[1] / "data"


def load(name: str, **options: object) -> LoadResult:
    with (DATA / name).open("rb") as source:
        return load_contacts(source, name=name, options=LoadOptions(**options))  # type: ignore[arg-type]


def load_text(text: str, **options: object) -> LoadResult:
    source = io.BytesIO(text.encode())
    return load_contacts(source, name="list.csv", options=LoadOptions(**options))  # type: ignore[arg-type]


def test_salesforce_country_names_place_each_number_in_its_country() -> None:
    result = load("salesforce_countries.csv", default_region="FR")
    assert result.phone_column == "Phone"
    assert "Mailing Country" not in result.variable_columns  # a reserved column
    assert [(c.source_row, c.phone_e164) for c in result.contacts] == [
        (2, "+442079460958"),
        (3, "+4930901820"),  # Germany, not +33 from the default region
        (4, "+14155550177"),
        (5, "+33612345678"),
        (6, "+447911123456"),  # the phone is empty: the mobile is dialled
        (7, "+4915123456789"),
    ]
    assert result.contacts[1].variables["Last Name"] == "Müller"
    missing, unknown = result.rejects
    assert (missing.source_row, missing.reason.value) == (8, "missing_number")
    assert missing.detail == "no phone number: the columns 'Phone', 'Mobile' are all empty"
    assert (unknown.source_row, unknown.reason.value) == (9, "invalid_field")
    assert unknown.detail == "column 'Mailing Country': 'Atlantis' is not a country we know"


def test_hubspot_empty_phone_falls_back_to_the_mobile() -> None:
    result = load("hubspot_mobile.csv")
    assert result.phone_column == "Phone Number"
    assert [(c.source_row, c.phone_e164) for c in result.contacts] == [
        (2, "+33612345679"),
        (3, "+14155550179"),
        (5, "+447911123457"),
    ]
    assert result.contacts[0].variables["First Name"] == "Amélie"
    (missing,) = result.rejects
    assert missing.source_row == 4 and missing.reason.value == "missing_number"
    assert "'Phone Number', 'Mobile Phone Number' are all empty" in missing.detail


def test_fallbacks_chosen_in_order_or_none() -> None:
    text = "Phone,Work Phone,Mobile\n,+14155550101,+14155550102\n,,+14155550103\n"
    assert [c.phone_e164 for c in load_text(text).contacts] == ["+14155550101", "+14155550103"]
    reordered = load_text(text, fallback_columns=("Mobile", "Work Phone"))
    assert [c.phone_e164 for c in reordered.contacts] == ["+14155550102", "+14155550103"]
    dropped = load_text(text, fallback_columns=())
    assert dropped.contacts == [] and {r.reason.value for r in dropped.rejects} == {
        "missing_number"
    }
    assert dropped.rejects[0].detail.startswith("column 'Phone': ")


def test_a_bad_fallback_number_names_its_column() -> None:
    (reject,) = load_text("phone,mobile\n,12\n").rejects
    assert reject.reason.value != "missing_number" and reject.phone == "12"
    assert reject.detail.startswith("column 'mobile': ")


def test_country_column_chosen_by_name_or_turned_off() -> None:
    text = "phone,Pays,Land\n030 901820,Allemagne,France\n"
    assert load_text(text, default_region="FR").contacts[0].phone_e164 == "+4930901820"
    chosen = load_text(text, default_region="FR", country_column="Land")
    assert chosen.contacts == [] and chosen.rejects[0].reason.value == "invalid_number"
    off = load_text(text, default_region="DE", country_column="")
    assert off.contacts[0].phone_e164 == "+4930901820"
    assert off.variable_columns == ("Pays", "Land")


def test_a_country_column_or_fallback_that_is_not_there_is_named() -> None:
    for option, value in (("country_column", "Pays"), ("fallback_columns", ("Cell",))):
        with pytest.raises(InputError, match=r"list\.csv: --.*'(Pays|Cell)'; the headers are"):
            load_text("phone,name\n+14155550101,Ann\n", **{option: value})


PHONES = st.sampled_from(["", "+14155550101", "+14155550102", "+442079460958", "  "])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(PHONES, PHONES, PHONES), min_size=1, max_size=12))
def test_each_row_dials_its_first_number_that_is_not_empty(
    rows: list[tuple[str, str, str]],
) -> None:
    """Against the plain model: the first non-empty of phone, work, mobile; duplicates once."""
    text = "phone,work_phone,mobile\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows)
    with open_contacts(io.BytesIO(text.encode()), name="l.csv", options=LoadOptions()) as opened:
        got = [(c.source_row, c.phone_e164) for batch, _ in opened.batches() for c in batch]
    want, seen = [], set()
    for number, cells in enumerate(rows, 2):  # the header is row 1
        first = next((cell.strip() for cell in cells if cell.strip()), None)
        if first and first not in seen and any(cell.strip() for cell in cells):
            seen.add(first)
            want.append((number, first))
    assert got == want
