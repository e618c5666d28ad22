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
        ["9", '+1 "212", 555', "duplicate", "also on row 3\nsee"],
    ]
