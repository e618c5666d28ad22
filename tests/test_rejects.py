"""The rejects file."""

from __future__ import annotations

import csv
import io

from campaigns.model import Reject, RejectReason
from campaigns.rejects import write_rejects


def test_write_rejects_round_trips() -> None:
    out = io.StringIO(newline="")
    rejects = [
        Reject(2, "4.15555E+10", RejectReason.PRECISION_LOST, "scientific notation"),
        Reject(9, '+1 "212", 555', RejectReason.DUPLICATE, "also on row 3\nsee"),
    ]
    assert write_rejects(rejects, out) == 2
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
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
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))[1:]
    assert [(phone, detail) for _, phone, _, detail in rows] == [
        ('\'=HYPERLINK("http://x","y")', "'=1+1"),
        ("'@SUM(A1)", "'-2+3"),
        ("+1 (999) 555-1234", "-5"),
    ]
