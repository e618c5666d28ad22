"""The do-not-call list: any format in, E.164 out, and nothing unreadable skipped."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from campaigns.dnc import load_dnc
from dialer.errors import InputError

DATA = Path(__file__).resolve().parents[1] / "data"


def test_one_column_without_header() -> None:
    with (DATA / "dnc.txt").open("rb") as source:
        numbers = load_dnc(source, name="dnc.txt")
    assert numbers == {"+12125550100", "+442079460958", "+33612345678"}


def test_csv_with_a_phone_column_and_a_header() -> None:
    data = b"name;Phone Number\nA;(415) 555-0123\nB;+44 20 7946 0958\n"
    assert load_dnc(io.BytesIO(data), name="d.csv") == {"+14155550123", "+442079460958"}


def test_single_column_with_any_header() -> None:
    assert load_dnc(io.BytesIO(b"Numbers\n4155550123\n"), name="d") == {"+14155550123"}


def test_unreadable_entries_stop_the_load() -> None:
    with pytest.raises(InputError, match=r"d.csv: 1 do-not-call entries.*row 3"):
        load_dnc(io.BytesIO(b"phone\n4155550123\n4.15555E+10\n"), name="d.csv")


def test_an_unreadable_entry_of_a_headerless_list_names_its_line() -> None:
    with pytest.raises(InputError, match=r"d.csv: 1 do-not-call entries.*: row 2: '4.15555E"):
        load_dnc(io.BytesIO(b"4155550123\n4.15555E+10\n"), name="d.csv")
