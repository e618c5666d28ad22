"""The rejects file."""

from __future__ import annotations

import csv
import io

import pytest

from campaigns.model import Reject, RejectReason
from campaigns.rejects import write_rejects


def test_write_rejects_round_trips() -> None:
    out = io.StringIO(newline="")
    rejects = [
        Reject(2, "4.15555E+10", RejectReason.PRECISION_LOST, "scientific notation"),
        Reject(9, '+1 "212", 555', RejectReason.DUPLICATE, "also on row 3\nsee"),
    ]
    assert write_rejects(rejects, out) == 2
    rows = list(csv.reader(io.StringIO(out.getvalue().removeprefix("\ufeff"), newline="")))
    assert rows == [
        ["source_row", "phone", "reason", "detail"],
        ["2", "4.15555E+10", "precision_lost", "scientific notation"],
        ["9", '\'+1 "212", 555', "duplicate", "also on row 3\nsee"],
    ]


def test_formulas_are_neutralised_but_numbers_are_not() -> None:
    out = io.StringIO(newline="")
    rejects = [
        Reject(1, '=HYPERLINK("http://x","y")', RejectReason.NOT_A_NUMBER, "=1+1"),
        Reject(2, "@SUM(A1)", RejectReason.NOT_A_NUMBER, "-2+3"),
        Reject(3, "+1 (999) 555-1234", RejectReason.INVALID_NUMBER, "-5"),
    ]
    write_rejects(rejects, out)
    rows = list(csv.reader(io.StringIO(out.getvalue().removeprefix("\ufeff"), newline="")))[1:]
    assert [(phone, detail) for _, phone, _, detail in rows] == [
        ('\'=HYPERLINK("http://x","y")', "'=1+1"),
        ("'@SUM(A1)", "'-2+3"),
        ("+1 (999) 555-1234", "-5"),
    ]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r", "\n"], ids=repr)
def test_every_formula_start_is_neutralised_in_the_phone_and_the_detail(start: str) -> None:
    out = io.StringIO(newline="")
    formula = f"{start}cmd|' /C calc'!A0"
    write_rejects([Reject(4, formula, RejectReason.NOT_A_NUMBER, formula)], out)
    [_, row] = list(csv.reader(io.StringIO(out.getvalue().removeprefix("\ufeff"), newline="")))
    assert row == ["4", "'" + formula, "not_a_number", "'" + formula]
