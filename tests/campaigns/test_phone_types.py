"""Special number types: refused by default, and the fast check agrees with `phonenumbers`."""

from __future__ import annotations

import csv
from pathlib import Path

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from typer.testing import CliRunner

from dialer.phone import number_type
from dialer.phone_types import SPECIAL_TYPES, special_candidates, special_type
from workers.cli import commands  # noqa: F401  (registers the commands)
from workers.cli.app import app

runner = CliRunner()
_TYPES = [v for k, v in vars(PhoneNumberType).items() if k.isupper() and k != "UNKNOWN"]


def _examples() -> list[str]:
    """phonenumbers' example number of every type in every region and non-geographic code."""
    found: set[str] = set()
    for region in phonenumbers.SUPPORTED_REGIONS:
        for kind in _TYPES:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None and phonenumbers.is_valid_number(number):
                found.add(phonenumbers.format_number(number, PhoneNumberFormat.E164))
    for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS:
        number = phonenumbers.example_number_for_non_geo_entity(code)
        if number is not None and phonenumbers.is_valid_number(number):
            found.add(phonenumbers.format_number(number, PhoneNumberFormat.E164))
    return sorted(found)


EXAMPLES = _examples()


def test_the_fast_check_agrees_with_phonenumbers_on_every_example() -> None:
    expected = {e164: number_type(e164) for e164 in EXAMPLES}
    assert {e164: special_type(e164) for e164 in EXAMPLES} == {
        e164: kind if kind in SPECIAL_TYPES else None for e164, kind in expected.items()
    }
    candidates = {EXAMPLES[i] for i in special_candidates(EXAMPLES)}
    assert {e for e, kind in expected.items() if kind in SPECIAL_TYPES} <= candidates
    assert len(EXAMPLES) > 1000 and sum(k in SPECIAL_TYPES for k in expected.values()) > 100


def test_special_candidates_skip_ordinary_nanp_numbers() -> None:
    phones = ["+14155550123", "+19005550123", "+12125550100", "+442079460958", "+14155550124"]
    assert special_candidates(phones) == [1]
    assert special_candidates([]) == []


def _rejects(path: Path) -> list[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return [(r["source_row"], r["reason"]) for r in csv.DictReader(handle)]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            [],
            [("2", "wrong_type"), ("3", "wrong_type"), ("6", "has_extension"), ("7", "wrong_type")],
        ),
        (["--allow-types", "all"], [("6", "has_extension")]),
        (
            ["--allow-types", "premium_rate,fixed_line_or_mobile"],
            [("3", "wrong_type"), ("5", "wrong_type"), ("6", "has_extension"), ("7", "wrong_type")],
        ),
    ],
    ids=["default", "all", "listed"],
)
def test_validate_refuses_special_types_and_extensions(
    tmp_path: Path, args: list[str], expected: list[tuple[str, str]]
) -> None:
    contacts = tmp_path / "c.csv"
    contacts.write_text(
        "phone,name\n"
        "+1 900 555 0123,premium (US)\n"
        "+32 78 79 12 34,shared cost (BE)\n"
        "+1 415 555 0123,ordinary\n"
        "+1 800 555 0100,toll free\n"
        "+1 212 555 0100 ext 12,desk\n"
        "+44 76 4012 3456,pager (GB)\n",
        encoding="utf-8",
    )
    rejects = tmp_path / "r.csv"
    result = runner.invoke(app, ["validate", str(contacts), "--rejects", str(rejects), *args])
    assert result.exit_code == 1, result.output  # rows were rejected: something to fix
    assert _rejects(rejects) == expected
